"""The `runs` table has one writer, collect/runs.py: every other module asks it."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "sanctuarywatch"
WRITER = PACKAGE / "collect" / "runs.py"
WRITES_RUNS = re.compile(
    r"\b(INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|TRUNCATE)\s+runs\b", re.IGNORECASE
)


def test_only_collect_runs_writes_the_runs_table() -> None:
    writers = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path != WRITER and WRITES_RUNS.search(path.read_text(encoding="utf-8"))
    )
    assert writers == []
    assert WRITES_RUNS.search(WRITER.read_text(encoding="utf-8"))  # the pattern still matches
