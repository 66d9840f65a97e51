"""A load leaves the claims alone; the job runner (scheduling.runner) re-evaluates and
records the claims it touched, after the load has committed, for collect, rebuild and a
load of a fetch alike."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from sanctuarywatch.collect.run import collect, fetch_to_archive, load_from_archive, rebuild
from sanctuarywatch.collect.runs import RunResult
from sanctuarywatch.http import HttpClient
from sanctuarywatch.load import warehouse
from sanctuarywatch.load.archive import Archive, ArchiveTransport
from sanctuarywatch.present import demo
from sanctuarywatch.scheduling import runner

CHICAGO = "il_chicago_crimes"
STEP = next(step for step in demo.PLAN if step.slug == CHICAGO)


def replay() -> HttpClient:
    return HttpClient(transport=ArchiveTransport(*demo.bundled_archives()))


def chicago(con: duckdb.DuckDBPyConnection, root: Path, run: Callable[..., Any]) -> RunResult:
    with replay() as client:
        result: RunResult = run(con, Archive(root), client, CHICAGO, STEP.options, job="test")
    return result


def recorded(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The run each recorded evaluation follows, one per evaluation."""
    return [row[0] for row in con.execute("SELECT run_id FROM claim_evaluations").fetchall()]


def test_collect_records_no_claims_the_runner_does_after_the_commit(tmp_path: Path) -> None:
    plain, ran = warehouse.connect(":memory:"), warehouse.connect(":memory:")
    loaded = chicago(plain, tmp_path / "plain", collect)
    assert loaded.counts.written and recorded(plain) == []
    ran.execute("SET TimeZone = 'America/Chicago'")
    result = chicago(ran, tmp_path / "ran", runner.collect_and_reevaluate)
    assert result.counts == loaded.counts and result.claims_error is None
    assert recorded(ran) and set(recorded(ran)) == {result.run_id}
    status = ran.execute("SELECT status FROM runs WHERE run_id = ?", [result.run_id]).fetchone()
    assert status == ("success",)
    timezone = ran.execute("SELECT current_setting('TimeZone')").fetchone()
    assert timezone == ("America/Chicago",)  # the load's settings do not outlast it


def test_a_run_that_writes_nothing_re_evaluates_nothing(tmp_path: Path) -> None:
    con = warehouse.connect(":memory:")
    chicago(con, tmp_path / "raw", runner.collect_and_reevaluate)
    before = recorded(con)
    again = chicago(con, tmp_path / "raw", runner.collect_and_reevaluate)
    assert again.counts.written == 0 and recorded(con) == before


def test_rebuild_records_no_claims_the_runner_does(tmp_path: Path) -> None:
    con = warehouse.connect(":memory:")
    chicago(con, tmp_path / "raw", collect)
    assert rebuild(con, Archive(tmp_path / "raw")) and recorded(con) == []
    results = runner.rebuild_and_reevaluate(con, Archive(tmp_path / "raw"), [CHICAGO])
    assert list(results) == [CHICAGO] and results[CHICAGO].claims_error is None
    assert recorded(con) and set(recorded(con)) == {results[CHICAGO].run_id}


def test_a_load_of_a_fetch_records_no_claims_the_runner_does_once(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "raw")
    with replay() as client:
        fetch = fetch_to_archive(archive, client, CHICAGO, STEP.options)
    plain, ran = warehouse.connect(":memory:"), warehouse.connect(":memory:")
    assert load_from_archive(plain, archive, fetch.run_id).counts.written
    assert recorded(plain) == []
    assert runner.load_and_reevaluate(ran, archive, fetch.run_id).claims_error is None
    assert recorded(ran) and set(recorded(ran)) == {fetch.run_id}
    first = recorded(ran)
    assert runner.load_and_reevaluate(ran, archive, fetch.run_id).counts.written == 0
    assert recorded(ran) == first  # loaded once, re-evaluated once
