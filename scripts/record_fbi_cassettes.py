"""Re-record the CDE and Census cassettes against the loopback server (no internet involved).

    python scripts/record_fbi_cassettes.py [test files and pytest args; default: this area's]

Serves scripts/loopback.py's all_routes() (which include scripts/loopback_fbi.py) on
127.0.0.1:8770, a port of its own so other recorders can run at the same time, then runs this
area's tests marked `vcr` with record mode `all`. CI plays them back with record mode `none`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import loopback  # noqa: E402

PORT = 8770
TESTS = [
    "tests/test_us_fbi_cde_agency_monthly.py",
    "tests/test_us_fbi_cde_agencies.py",
    "tests/test_us_census_population.py",
]


def main(args: list[str]) -> int:
    with loopback.serve(loopback.all_routes(), port=PORT):
        chosen = args or TESTS
        return pytest.main(["-m", "vcr", "--vcr-record=all", "-p", "no:cacheprovider", *chosen])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
