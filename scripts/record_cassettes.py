"""Re-record the HTTP cassettes against the loopback servers (no internet involved).

    python scripts/record_cassettes.py [pytest args]     (make record)

Starts scripts/loopback.py's routes on 127.0.0.1:8765 (the upstreams as they are in
../shared/data), 127.0.0.1:8767 (Chicago's 2016-2017 rows only) and 127.0.0.1:8766 (the same
after one upstream revision), then runs the
tests marked `vcr` with record mode `all`. CI always plays back with record mode `none`.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import loopback  # noqa: E402


def main(args: list[str]) -> int:
    with ExitStack() as stack:
        stack.enter_context(loopback.serve(loopback.all_routes(), port=8765))
        stack.enter_context(
            loopback.serve(loopback.chicago_2016_2017_route(revised=True), port=8766)
        )
        stack.enter_context(loopback.serve(loopback.chicago_2016_2017_route(), port=8767))
        return pytest.main(["-m", "vcr", "--vcr-record=all", "-p", "no:cacheprovider", *args])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
