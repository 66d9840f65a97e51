"""Mutation scores per module from mutmut's results in mutants/, and the mutants that lived.

`make mutate` runs mutmut (configured in setup.cfg [mutmut]) and then this. By hand only,
never in CI; what the survivors are, and which are equivalent, is in MUTATION.md.

    python scripts/mutate.py [MUTANTS_DIR] [PATTERN ...]   (patterns as for `mutmut run`)
"""

from __future__ import annotations

import json
import sys
from fnmatch import fnmatch
from pathlib import Path

# mutmut 3.8's exit codes (mutmut.stats.status_by_exit_code); a timeout counts as killed
KILLED, SURVIVED, NO_TESTS = {1, 3}, {0}, {5, 33}
TIMEOUT = {24, -24, 36, 152, 255}


def main(argv: list[str]) -> int:
    root = Path(argv[0]) if argv else Path("mutants")
    patterns = argv[1:] or ["*"]
    lived: list[str] = []
    for meta in sorted(root.glob("sanctuarywatch/**/*.py.meta")):
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        run = {
            name: code
            for name, code in codes.items()
            if code is not None and any(fnmatch(name, p) for p in patterns)
        }
        if not run:
            continue
        killed = sum(code in KILLED | TIMEOUT for code in run.values())
        untested = sum(code in NO_TESTS for code in run.values())
        module = meta.relative_to(root).with_suffix("").as_posix()
        print(
            f"{module}: {killed}/{len(run)} killed ({killed / len(run):.1%}); "
            f"survived {len(run) - killed - untested}, no test reaches {untested}"
        )
        lived += sorted(name for name, code in run.items() if code in SURVIVED | NO_TESTS)
    if lived:
        print("\nlived (`mutmut show NAME` shows the change):\n  " + "\n  ".join(lived))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
