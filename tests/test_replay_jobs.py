"""`run JOB --replay bundled` for every job of the shipped cron.yaml: the demo archive only
holds the requests the demo made, so each source is replayed with the options it was
recorded with, and a source never recorded is skipped with its reason, not failed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from sanctuarywatch import sources
from sanctuarywatch.load import warehouse
from sanctuarywatch.present import demo
from sanctuarywatch.scheduling import daemon, schedule

REPO = Path(__file__).resolve().parents[1]
CRON = REPO / "cron.yaml"
JOBS = sorted(schedule.load(CRON).jobs)
NEVER_RECORDED = {"il_chicago_violence_victims"}


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[daemon.JobRunner]:
    """One warehouse for all jobs, as the daemon keeps one."""
    db = tmp_path_factory.mktemp("replay") / "w.duckdb"
    con = warehouse.connect(db)
    yield daemon.JobRunner(
        con, db, daemon.replay_archives("bundled"), recorded=daemon.recording("bundled")
    )
    con.close()


def test_every_demo_source_is_recorded() -> None:
    recorded = {archive.root.name for archive in demo.bundled_archives()}
    assert recorded == {step.slug for step in demo.PLAN}


@pytest.mark.parametrize("name", JOBS)
def test_every_cron_job_replays_the_bundled_archive(name: str, runner: daemon.JobRunner) -> None:
    job = schedule.load(CRON).job(name)
    report = runner.run(job)
    assert report.ok and not report.failed and not report.skipped, report
    expected = {step.source for step in job.steps} - NEVER_RECORDED
    assert {r.source for r in report.results} == expected
    assert report.not_recorded == [s.source for s in job.steps if s.source in NEVER_RECORDED]
    modules = sources.all_sources()
    for result in report.results:
        assert result.counts.seen > 0, result.source
        loaded = [
            runner.con.execute(f"SELECT count(*) FROM {table}").fetchone()
            for table in modules[result.source].TABLES
        ]
        assert any(row and row[0] > 0 for row in loaded), result.source


def test_replayed_responses_cite_the_publisher(runner: daemon.JobRunner) -> None:
    for name in JOBS:
        runner.run(schedule.load(CRON).job(name))
    urls = [row[0] for row in runner.con.execute("SELECT url FROM raw_responses").fetchall()]
    assert urls and not [url for url in urls if demo.RECORDING_HOST in url]


def test_run_command_skips_what_was_never_recorded_with_its_reason(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANCTUARYWATCH_")}
    argv = ["run", "chicago_daily", "--cron", str(CRON), "--replay", "bundled"]
    result = subprocess.run(
        [sys.executable, "-m", "sanctuarywatch", "--db", str(tmp_path / "w.duckdb"), *argv],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    skipped = next(line for line in lines if line.get("event") == "not_recorded")
    assert skipped["source"] == "il_chicago_violence_victims"
    assert "never recorded il_chicago_violence_victims" in skipped["reason"]
    assert lines[-1]["status"] == "success" and lines[-1]["not_recorded"] == [skipped["source"]]
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM il_chicago_crimes").fetchone() == (8922,)
