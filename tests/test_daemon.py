"""Running jobs: the runner in-process, then the real daemon in a subprocess.

The subprocess tests never sleep for a fixed time: they wait for the daemon's own log lines
(JSON, since stderr is a pipe) or for the test's HTTP server to be asked for a page, with
generous timeouts that only bound a hung test.
"""

from __future__ import annotations

import io
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from sanctuarywatch import logs
from sanctuarywatch.load import warehouse
from sanctuarywatch.load.archive import ArchiveTransport
from sanctuarywatch.present import demo
from sanctuarywatch.scheduling import daemon, schedule

RECORDED = f"{demo.RECORDING_HOST}/resource/ijzp-q8t2.json"
CRIMES = (
    "  - il_chicago_crimes: {{mode: backfill, start: 2001-01-01, end: 2018-01-01, "
    'page_size: 2000, base_url: "{url}"}}\n'
)
WAIT = 20.0  # upper bound for a hung test, never a timing assertion
LOGGERS = ("", *logs.QUIET, logs.REPLACED)  # the loggers logs.configure sets a level on


def write_plan(
    tmp_path: Path,
    every: str = "@every 1h",
    url: str = RECORDED,
    extra_sources: str = "",
    claims: bool = False,
) -> Path:
    """A cron.yaml with one job, `replay`, that collects the crimes the demo archive holds
    (claims off unless asked: these tests are about running jobs, not about the claims)."""
    (tmp_path / "jobs").mkdir(exist_ok=True)
    (tmp_path / "jobs" / "replay.yaml").write_text(
        "sources:\n" + CRIMES.format(url=url) + extra_sources + f"claims: {str(claims).lower()}\n",
        encoding="utf-8",
    )
    cron = tmp_path / "cron.yaml"
    cron.write_text(f'jobs:\n  replay:\n    schedule: "{every}"\n', encoding="utf-8")
    return cron


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[daemon.JobRunner]:
    db = tmp_path / "warehouse" / "w.duckdb"
    con = warehouse.connect(db)
    yield daemon.JobRunner(con, db, daemon.replay_archives("bundled"))
    con.close()


def count(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> int:
    row = con.execute(sql, params or []).fetchone()
    return int(row[0]) if row else 0


def test_a_job_loads_records_and_publishes_the_snapshot(
    tmp_path: Path, runner: daemon.JobRunner
) -> None:
    job = schedule.load(write_plan(tmp_path)).job("replay")
    report = runner.run(job)
    assert report.ok and report.snapshot_seconds is not None
    row = runner.con.execute("SELECT job, source, status, rows_written, error FROM runs").fetchall()
    assert row == [("replay", "il_chicago_crimes", "success", 8922, None)]
    reader = duckdb.connect(str(daemon.snapshot_path(runner.db)), read_only=True)
    assert count(reader, "SELECT count(*) FROM il_chicago_crimes") == 8922
    reader.close()
    assert runner.run(job).results[0].counts.written == 0  # twice changes nothing


def test_a_failing_source_is_recorded_and_the_job_goes_on(
    tmp_path: Path, runner: daemon.JobRunner
) -> None:
    """il_chicago_violence_victims is not in the demo archive: its requests get 404s."""
    job = schedule.load(write_plan(tmp_path, extra_sources="  - il_chicago_violence_victims\n"))
    report = runner.run(job.job("replay"))
    assert report.failed == ["il_chicago_violence_victims"]
    assert [r.source for r in report.results] == ["il_chicago_crimes"]
    con = runner.con
    failed = con.execute("SELECT error FROM runs WHERE status = 'failed'").fetchall()
    assert len(failed) == 1 and "404" in failed[0][0]
    fresh = con.execute(
        "SELECT source, stale_since IS NOT NULL, consecutive_failures FROM source_freshness "
        "ORDER BY source"
    ).fetchall()
    assert fresh == [("il_chicago_crimes", False, 0), ("il_chicago_violence_victims", True, 1)]
    again = runner.run(job.job("replay"))  # straight away: the failing source backs off
    assert again.skipped == ["il_chicago_violence_victims"] and not again.failed


def test_backoff_doubles_and_is_capped(runner: daemon.JobRunner) -> None:
    con = runner.con
    for n in range(1, 5):
        con.execute(
            "INSERT INTO runs (run_id, job, source, started_at, ended_at, status) "
            "VALUES (?, 'j', 's', now() - INTERVAL 1 MINUTE, now() - INTERVAL 1 MINUTE, 'failed')",
            [f"r{n}"],
        )
        until = daemon.backoff_until(con, "s", timedelta(minutes=10), timedelta(minutes=45))
        assert until is not None
        waited = until - con.execute("SELECT now()").fetchone()[0]  # type: ignore[index]
        expected = min(10 * 2 ** (n - 1), 45) - 1
        assert abs(waited.total_seconds() / 60 - expected) < 0.5


def test_a_job_whose_claims_step_raises_does_not_raise(
    tmp_path: Path, runner: daemon.JobRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    def evaluate_claims(con: duckdb.DuckDBPyConnection) -> str:
        raise RuntimeError("a bug in a claim")

    monkeypatch.setattr(daemon, "evaluate_claims", evaluate_claims)
    report = runner.run(schedule.load(write_plan(tmp_path, claims=True)).job("replay"))
    assert report.failed == ["claims"] and report.claims == "failed"
    assert [r.status for r in report.results] == ["success"]


def test_job_logging_is_json_lines_without_collects_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """What `logs.configure` gives the job commands when stderr is not a terminal: JSON lines
    with each record's figures, and none of collect's lines (the runner's line per run
    replaces them)."""
    root, out = logging.getLogger(), io.StringIO()
    handlers, levels = root.handlers[:], {n: logging.getLogger(n).level for n in LOGGERS}
    root.handlers[:] = [logging.StreamHandler(out)]
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    try:
        logs.configure(jobs=True)
        logging.getLogger("sanctuarywatch.collect.runs").error("run r failed: replaced")
        logging.getLogger(daemon.__name__).info("run r status=success", extra={"rows_seen": 3})
        try:
            raise ValueError("a traceback")
        except ValueError:
            logging.getLogger(daemon.__name__).exception("job j failed", extra={"rows_seen": 0})
    finally:
        root.handlers[:] = handlers
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(line["logger"], line["level"], line["rows_seen"]) for line in lines] == [
        (daemon.__name__, "info", 3),
        (daemon.__name__, "error", 0),
    ]
    assert "ValueError: a traceback" in lines[1]["exception"]


def test_stale_running_rows_are_abandoned(runner: daemon.JobRunner) -> None:
    runner.con.execute(
        "INSERT INTO runs (run_id, job, source, started_at, status) "
        "VALUES ('x', 'j', 's', now(), 'running')"
    )
    assert daemon.abandon_stale_runs(runner.con) == 1
    assert count(runner.con, "SELECT count(*) FROM runs WHERE status = 'abandoned'") == 1


# ---- the daemon in a subprocess ------------------------------------------------------------


class Daemon:
    """`sanctuarywatch daemon` in a subprocess, with its JSON log lines in a queue."""

    def __init__(self, tmp_path: Path, cron: Path, *extra: str) -> None:
        self.db = tmp_path / "warehouse" / "sanctuarywatch.duckdb"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SANCTUARYWATCH_")}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sanctuarywatch",
                "--db",
                str(self.db),
                "daemon",
                "--cron",
                str(cron),
                "--run-now",
                *extra,
            ],
            cwd=tmp_path,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        self.reading = threading.Thread(target=self._read, daemon=True)
        self.reading.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            try:
                self.lines.put(json.loads(line))
            except json.JSONDecodeError:
                self.lines.put({"message": line.rstrip()})

    def wait_for(self, match: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        while True:
            try:
                record = self.lines.get(timeout=WAIT)
            except queue.Empty:
                self.proc.kill()
                pytest.fail(f"daemon never logged what the test waits for; saw {self.seen}")
            self.seen.append(record)
            if match(record):
                return record

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.finish()

    def finish(self) -> int:
        """Wait for the exit, keep the last log lines, close the pipe."""
        code = self.proc.wait(timeout=WAIT)
        self.reading.join(timeout=WAIT)
        assert self.proc.stderr is not None
        self.proc.stderr.close()
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return code


def job_done(record: dict[str, Any]) -> bool:
    return record.get("event") == "job" and record.get("status") == "success"


class SlowPortal(BaseHTTPRequestHandler):
    """Answers from the demo archive, but holds the second page until the test says go."""

    transport = ArchiveTransport(*demo.bundled_archives())
    second_page_asked = threading.Event()
    release = threading.Event()

    def do_GET(self) -> None:
        if "offset=2000" in self.path:
            self.second_page_asked.set()
            self.release.wait(timeout=WAIT)
        request = httpx.Request("GET", demo.RECORDING_HOST + self.path)
        answer = self.transport.handle_request(request)
        body = answer.read()
        self.send_response(answer.status_code)
        self.send_header("Content-Type", answer.headers["content-type"])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def slow_portal() -> Iterator[str]:
    SlowPortal.second_page_asked.clear()
    SlowPortal.release.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowPortal)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/resource/ijzp-q8t2.json"
    SlowPortal.release.set()
    server.shutdown()
    server.server_close()


@pytest.mark.slow
def test_sigterm_mid_job_rolls_back_and_exits_zero(tmp_path: Path, slow_portal: str) -> None:
    running = Daemon(tmp_path, write_plan(tmp_path, url=slow_portal))
    assert SlowPortal.second_page_asked.wait(timeout=WAIT), "the job never reached page 2"
    running.proc.send_signal(signal.SIGTERM)
    running.wait_for(lambda r: r.get("event") == "signal")
    SlowPortal.release.set()
    assert running.finish() == 0
    con = duckdb.connect(str(running.db), read_only=True)
    runs = con.execute("SELECT source, status, rows_written, error FROM runs").fetchall()
    assert runs == [("il_chicago_crimes", "abandoned", 0, "stopped by a signal; rolled back")]
    assert count(con, "SELECT count(*) FROM il_chicago_crimes_versions") == 0
    assert count(con, "SELECT count(*) FROM raw_responses") == 0
    con.close()


READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
for line in sys.stdin:
    runs = con.execute("SELECT count(*) FROM runs WHERE status = 'success'").fetchone()[0]
    crimes = con.execute("SELECT count(*) FROM il_chicago_crimes").fetchone()[0]
    print(runs, crimes, flush=True)
"""


def live_file_is_locked(db: Path) -> bool:
    probe = subprocess.run(
        [sys.executable, "-c", f"import duckdb; duckdb.connect({str(db)!r}, read_only=True)"],
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    return probe.returncode != 0 and "lock" in probe.stderr


def ask(reader: subprocess.Popen[str]) -> tuple[int, int]:
    assert reader.stdin is not None and reader.stdout is not None
    reader.stdin.write("?\n")
    reader.stdin.flush()
    runs, crimes = reader.stdout.readline().split()
    return int(runs), int(crimes)


@pytest.mark.slow
def test_a_reader_beside_the_daemon(tmp_path: Path) -> None:
    """A second process holds the snapshot open while jobs run: no job is lost, its queries
    keep working, and the next reader sees the new runs."""
    running = Daemon(tmp_path, write_plan(tmp_path, every="@every 1s"), "--replay", "bundled")
    running.wait_for(job_done)
    snapshot = daemon.snapshot_path(running.db)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(snapshot)],
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    first = ask(reader)
    assert first[0] >= 1 and first[1] == 8922
    for _ in range(3):
        running.wait_for(job_done)
        assert ask(reader) == first  # the old file, still whole, while new ones are published
    assert live_file_is_locked(running.db)  # publishing must not drop the daemon's lock
    cli = Path(sys.executable).parent / "duckdb"
    fresh = subprocess.run(
        [
            str(cli),
            "-readonly",
            "-csv",
            "-noheader",
            str(snapshot),
            "SELECT count(*) FROM runs WHERE status = 'success'",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=WAIT,
    )
    # each job logs after publishing, and one job runs at a time: of the 3 jobs logged since
    # the reader opened, at least 2 published after it
    assert int(fresh.stdout.strip()) >= max(first[0] + 2, sum(map(job_done, running.seen)))
    assert running.stop() == 0
    reader.communicate(timeout=WAIT)
    done = sum(1 for r in running.seen if job_done(r))
    con = duckdb.connect(str(running.db), read_only=True)
    assert count(con, "SELECT count(*) FROM runs WHERE status = 'success'") == done
    assert count(con, "SELECT count(*) FROM runs WHERE status NOT IN ('success', 'abandoned')") == 0
    con.close()
    assert not [r for r in running.seen if r.get("level") == "error"]


@pytest.mark.slow
def test_run_command_exits_by_outcome(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANCTUARYWATCH_")}

    def run(cron: Path, replay: str = "bundled") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "sanctuarywatch",
                "--db",
                str(db),
                "run",
                "replay",
                "--cron",
                str(cron),
                "--replay",
                replay,
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=WAIT,
        )

    good = run(write_plan(tmp_path))
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stderr.splitlines()[-1])["status"] == "success"
    # the demo's folder as a plain archive: its options are not applied, so the source it
    # never recorded fails (with `bundled` it is skipped: tests/test_replay_jobs.py)
    folder = str(demo.bundled_archives()[0].root.parent)
    bad = run(write_plan(tmp_path, extra_sources="  - il_chicago_violence_victims\n"), folder)
    assert bad.returncode == 1
    assert daemon.snapshot_path(db).is_file()
