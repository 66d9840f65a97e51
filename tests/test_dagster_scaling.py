"""The Dagster definitions on other executors (docs/scaling.md): `build_definitions(executor=)`
replaces the multiprocess executor (which keeps one warehouse step at a time in a run)."""

from __future__ import annotations

import pytest

dg = pytest.importorskip(
    "dagster", reason="the dagster extra is not installed (pip install -e '.[dagster]')"
)

from sanctuarywatch.scheduling.dagster_defs import build_definitions  # noqa: E402


def test_another_executor_replaces_the_multiprocess_one() -> None:
    default = build_definitions().executor
    assert default is not None and default.name == "multiprocess"
    assert build_definitions(executor=dg.in_process_executor).executor is dg.in_process_executor
