"""Running jobs: once (`sanctuarywatch run JOB`) or on the schedule (`sanctuarywatch daemon`).

The daemon owns the live warehouse file for as long as it runs, because DuckDB lets one
process hold a file read-write and every other open then fails at once. SQL users read a
snapshot instead, `<db dir>/snapshots/<db name>`, which is re-published after every job by
copying the checkpointed file to a temporary name and renaming it over the old one (atomic:
a reader that opened the old snapshot keeps its file until it closes it).

How the daemon stays up for months:

- Jobs run one at a time on one worker (one writer, and politeness towards the portals); a
  job due while another runs waits, up to its misfire grace (default an hour), and missed
  runs are coalesced into one. Each job has at most one instance.
- A failing source is recorded in `runs` (by collect) and does not stop the job's other
  sources, the other jobs or the daemon; it is tried again on a later run, after a backoff
  that doubles with each consecutive failure (30 min, 1 h, 2 h, ... capped at a day).
- SIGTERM / SIGINT: no new work starts; the running load stops at its next page, rolls back
  and is recorded as `abandoned`; the daemon exits 0.
- `runs` rows left `running` by a killed process are marked `abandoned` on start.

`--replay bundled` answers from the demo's recorded archive: each source is collected with
the options the demo recorded it with, and a source it never recorded is skipped, saying so.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from types import FrameType
from typing import Any

import duckdb
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from sanctuarywatch import logs
from sanctuarywatch.collect import runs
from sanctuarywatch.collect.run import RunResult
from sanctuarywatch.collect.runs import abandon_stale_runs as abandon_stale_runs
from sanctuarywatch.errors import ConfigError, SanctuaryWatchError
from sanctuarywatch.http import HttpClient, redact
from sanctuarywatch.load import warehouse
from sanctuarywatch.load.archive import Archive, ArchiveTransport
from sanctuarywatch.query import claims
from sanctuarywatch.scheduling import schedule
from sanctuarywatch.scheduling.runner import collect_and_reevaluate
from sanctuarywatch.sources import Options

log = logging.getLogger(__name__)
REPLAY_ENV = "SANCTUARYWATCH_REPLAY"
SNAPSHOT_DIR = "snapshots"
COPY_FILE = "import shutil, sys; shutil.copyfile(sys.argv[1], sys.argv[2])"


class Stopped(SanctuaryWatchError):
    """The daemon was asked to stop while a load was running; the load rolled back."""


@dataclass
class JobReport:
    """What one run of a job did, source by source."""

    job: str
    results: list[RunResult] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    not_recorded: list[str] = field(default_factory=list)  # replay: nothing to replay
    claims: str = "not run"
    stopped: bool = False
    snapshot_seconds: float | None = None

    @property
    def ok(self) -> bool:
        return not self.failed and not self.stopped


def snapshot_path(db: str | os.PathLike[str]) -> Path:
    """The file SQL users open while the daemon runs: <db dir>/snapshots/<db name>."""
    path = Path(db)
    return path.parent / SNAPSHOT_DIR / path.name


def publish_snapshot(con: duckdb.DuckDBPyConnection, db: str | os.PathLike[str]) -> float:
    """Checkpoint the live file and atomically replace the readers' copy; return seconds.

    The copy is made by a child process: DuckDB's lock on the live file is a POSIX record
    lock, which the kernel drops as soon as this process closes *any* descriptor of that file,
    so an in-process copy would silently let other processes open the live file. A plain file
    copy after CHECKPOINT (the WAL is empty and only this thread writes) took 27 ms on the demo
    warehouse (about 40 ms with the child's start) against 340 ms for ATTACH + COPY FROM
    DATABASE.
    """
    started = time.perf_counter()
    target = snapshot_path(db)
    target.parent.mkdir(parents=True, exist_ok=True)
    con.execute("CHECKPOINT")
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        subprocess.run([sys.executable, "-c", COPY_FILE, str(db), str(temporary)], check=True)
        os.replace(temporary, target)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise ConfigError(str(target), f"could not publish the snapshot: {exc}") from None
    finally:
        temporary.unlink(missing_ok=True)
    return time.perf_counter() - started


def replay_archives(spec: str | None) -> list[Archive] | None:
    """Archives to answer requests from instead of the network: 'bundled' (the demo
    archive), a folder with a manifest, or a folder of such folders. None: go online."""
    spec = spec or os.environ.get(REPLAY_ENV) or None
    if spec is None:
        return None
    if spec == "bundled":
        root = Path(str(resources.files("sanctuarywatch") / "data" / "demo_archive"))
    else:
        root = Path(spec)
    if (root / "manifest.jsonl").is_file():
        return [Archive(root)]
    found = [Archive(p) for p in sorted(root.glob("*")) if (p / "manifest.jsonl").is_file()]
    if not found:
        raise ConfigError(str(root), "no recorded archive here (expected manifest.jsonl)")
    return found


@dataclass(frozen=True)
class Recording:
    """What a recorded archive can answer: the options each source was collected with when
    it was recorded (only those requests are in it) and the upstream URLs its recording
    host stands for."""

    options: Mapping[str, Options]
    cited_as: Mapping[str, str]

    def reason(self, source: str) -> str:
        recorded = ", ".join(sorted(self.options))
        return f"the replayed archive never recorded {source} (it holds {recorded})"


def recording(spec: str | None) -> Recording | None:
    """For `--replay bundled`: the demo's plan. A job's own options (incremental, today's
    dates) would ask for requests the demo never made, so each source is replayed with the
    options it was recorded with. Any other archive: None (the job's options as written)."""
    if (spec or os.environ.get(REPLAY_ENV)) != "bundled":
        return None
    from sanctuarywatch.present import demo

    return Recording({step.slug: step.options for step in demo.PLAN}, demo.CITED_AS)


def backoff_until(
    con: duckdb.DuckDBPyConnection, source: str, base: timedelta, cap: timedelta
) -> datetime | None:
    """When a source that keeps failing may be tried again (None: try now).

    After n consecutive failures (abandoned runs do not count) the wait after the last one
    is base * 2^(n-1), capped; so a daily job retries the next day, an hourly one slows down.
    """
    failures, last = runs.failures_since_success(con, source)
    if not failures or last is None:
        return None
    until: datetime = last + min(base * 2 ** (failures - 1), cap)
    return until if until > datetime.now(UTC) else None


def evaluate_claims(con: duckdb.DuckDBPyConnection) -> str:
    """Re-evaluate every claim; say how many and with which verdicts, for the job's log line.
    Nothing is recorded here: each load of the job recorded the claims it touched."""
    counts = Counter(ev.verdict for ev in claims.evaluate_all(con))
    detail = ", ".join(f"{verdict} {n}" for verdict, n in sorted(counts.items()))
    return f"evaluated {sum(counts.values())} claims ({detail})"


class JobRunner:
    """Runs jobs against one open warehouse, one at a time, and publishes the snapshot."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        db: Path,
        replay: list[Archive] | None = None,
        stop: threading.Event | None = None,
        recorded: Recording | None = None,
    ) -> None:
        self.con, self.db, self.replay, self.recorded = con, db, replay, recorded
        self.archive = Archive.beside(db)
        self.stop = stop or threading.Event()
        self.lock = threading.Lock()

    def client(self) -> HttpClient:
        if not self.replay:
            return HttpClient()
        cited_as = self.recorded.cited_as if self.recorded else None
        return HttpClient(transport=ArchiveTransport(*self.replay, cited_as=cited_as))

    def options(self, job: schedule.Job, step: schedule.Step) -> Options:
        """The step's options; when replaying a recording, those it was recorded with."""
        if self.recorded is None:
            return job.options(step)
        return self.recorded.options[step.source]

    def run(self, job: schedule.Job) -> JobReport:
        """Run every step of the job; never raise for a failing source (it is recorded)."""
        with self.lock:
            report = JobReport(job.name)
            if self.stop.is_set():
                report.stopped = True
                return report
            log.info("job %s started", job.name, extra={"job": job.name, "event": "job_start"})
            with self.client() as client:
                for step in job.steps:
                    if self.stop.is_set():
                        report.stopped = True
                        break
                    self._step(job, step, client, report)
            if job.claims and not report.stopped:
                report.claims = self._claims(report)
            self._publish(report)
            _log_job(report)
            return report

    def _publish(self, report: JobReport) -> None:
        try:
            report.snapshot_seconds = publish_snapshot(self.con, self.db)
        except SanctuaryWatchError as exc:  # readers keep the previous snapshot
            report.failed.append("snapshot")
            log.error("%s", exc, extra={"event": "snapshot_failed"})

    def _step(
        self, job: schedule.Job, step: schedule.Step, client: HttpClient, report: JobReport
    ) -> None:
        until = backoff_until(
            self.con,
            step.source,
            timedelta(minutes=job.backoff_minutes),
            timedelta(hours=job.backoff_max_hours),
        )
        if until is not None:
            report.skipped.append(step.source)
            log.warning(
                "source %s backing off after repeated failures until %s",
                step.source,
                until.isoformat(),
                extra={"source": step.source, "event": "backoff", "until": until.isoformat()},
            )
            return
        if self.recorded and step.source not in self.recorded.options:
            self._not_recorded(step.source, self.recorded.reason(step.source), report)
            return
        try:
            result = collect_and_reevaluate(
                self.con,
                self.archive,
                client,
                step.source,
                self.options(job, step),
                job=job.name,
                progress=self._check_stop,
            )
        except Stopped:
            report.stopped = True
            self._mark_abandoned(job.name, step.source)
            return
        except Exception:  # recorded in runs by collect; one bad source must not stop the rest
            report.failed.append(step.source)
            _log_run(self.con, job.name, step.source)
            return
        report.results.append(result)
        _log_run(self.con, job.name, step.source)

    def _not_recorded(self, source: str, reason: str, report: JobReport) -> None:
        """Skipped, not failed: a replay cannot answer what was never recorded."""
        report.not_recorded.append(source)
        log.warning(
            "source %s skipped: %s",
            source,
            reason,
            extra={"source": source, "event": "not_recorded", "reason": reason},
        )

    def _check_stop(self, pages: int, rows: int) -> None:
        if self.stop.is_set():
            raise Stopped(f"stopped after {pages} pages ({rows} rows): the daemon is stopping")

    def _mark_abandoned(self, job: str, source: str) -> None:
        runs.mark_abandoned(self.con, job, source)
        _log_run(self.con, job, source)

    def _claims(self, report: JobReport) -> str:
        try:
            return evaluate_claims(self.con)
        except Exception as exc:  # a claims bug must not take the daemon down
            report.failed.append("claims")
            log.error("claims failed: %s", redact(repr(exc)), extra={"event": "claims_failed"})
            return "failed"


def _log_run(con: duckdb.DuckDBPyConnection, job: str, source: str) -> None:
    """The one line per run, with its figures, read back from the ledger."""
    run = runs.latest(con, job, source)
    if run is None:
        return
    started, ended = run.pop("started_at"), run.pop("ended_at")
    seconds = (ended - started).total_seconds() if ended and started else None
    figures = {
        "event": "run",
        "run_id": run.pop("run_id"),
        "job": job,
        "source": source,
        "status": run.pop("status"),
        "seconds": seconds,
        **run,  # requests, rows_seen, rows_written, error
    }
    error = figures["error"]
    level = {"success": logging.INFO, "abandoned": logging.WARNING}.get(
        figures["status"], logging.ERROR
    )
    log.log(
        level,
        "run %s job=%s source=%s status=%s seconds=%s requests=%s seen=%s written=%s%s",
        figures["run_id"],
        job,
        source,
        figures["status"],
        f"{seconds:.1f}" if seconds is not None else "-",
        figures["requests"],
        figures["rows_seen"],
        figures["rows_written"],
        f" error={error}" if error else "",
        extra=figures,
    )


def _log_job(report: JobReport) -> None:
    written = sum(r.counts.written for r in report.results)
    status = "stopped" if report.stopped else "success" if report.ok else "failed"
    log.log(
        logging.INFO if report.ok else logging.WARNING,
        "job %s %s: %d sources ok, failed=%s, backing off=%s, not recorded=%s, claims %s, "
        "snapshot %.3f s",
        report.job,
        status,
        len(report.results),
        ",".join(report.failed) or "-",
        ",".join(report.skipped) or "-",
        ",".join(report.not_recorded) or "-",
        report.claims,
        report.snapshot_seconds or 0.0,
        extra={
            "event": "job",
            "job": report.job,
            "status": status,
            "sources_ok": len(report.results),
            "failed": report.failed,
            "skipped": report.skipped,
            "not_recorded": report.not_recorded,
            "rows_written": written,
            "claims": report.claims,
            "snapshot_seconds": report.snapshot_seconds,
        },
    )


class Daemon:
    """The schedule, run until SIGTERM or SIGINT."""

    def __init__(self, plan: schedule.Schedule, runner: JobRunner, run_now: bool = False) -> None:
        self.plan, self.runner, self.run_now = plan, runner, run_now
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            timezone=UTC,
        )

    def serve(self) -> int:
        """Start the schedule, block until a stop signal, let the running load end; return 0."""
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            for job in self.plan.jobs.values():
                self._add(job)
            self.scheduler.start()
            log.info(
                "daemon started: %d jobs from %s; readers open %s",
                len(self.plan.jobs),
                self.plan.path,
                snapshot_path(self.runner.db),
                extra={"event": "daemon_start"},
            )
            while not self.runner.stop.wait(timeout=3600):
                pass
            self.scheduler.shutdown(wait=True)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        log.info("daemon stopped", extra={"event": "daemon_stop"})
        return 0

    def _add(self, job: schedule.Job) -> None:
        extra: dict[str, Any] = {"next_run_time": datetime.now(UTC)} if self.run_now else {}
        self.scheduler.add_job(
            self.runner.run,
            job.trigger(),
            args=[job],
            id=job.name,
            name=job.name,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=int(job.misfire_grace_minutes * 60) or None,
            **extra,
        )

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        log.info(
            "%s received: no new jobs; the running load stops at its next page",
            signal.Signals(signum).name,
            extra={"event": "signal"},
        )
        self.runner.stop.set()


def open_live(db: Path) -> duckdb.DuckDBPyConnection:
    """Open the live file for writing, with a message that points readers at the snapshot."""
    try:
        return warehouse.connect(db)
    except ConfigError as exc:
        raise ConfigError(
            str(db),
            f"{exc.detail} (is a daemon or another writer running? SQL users should "
            f"open {snapshot_path(db)} read-only)",
        ) from None


def open_for_reading(
    db: Path, read_only: bool = False, files: bool = True
) -> duckdb.DuckDBPyConnection:
    """The live file when no one holds it, else the readers' snapshot (while a daemon runs).

    `files=False` is for SQL a user typed: it can then read the warehouse and nothing else
    (see `deny_files`), on the live file and on the snapshot alike.
    """
    try:
        con = warehouse.connect(db, read_only=read_only)
    except ConfigError:
        if not snapshot_path(db).is_file():
            raise
        con = warehouse.connect(snapshot_path(db), read_only=True)
    if not files:
        deny_files(con)
    return con


def deny_files(con: duckdb.DuckDBPyConnection) -> None:
    """No file or network access from SQL: read_text('/etc/passwd'), COPY ... TO over the
    archive's manifest, ATTACH, INSTALL all fail; the warehouse's own tables and macros still
    answer, and sorts still spill to the temp folder. The setting is then locked, so the SQL
    cannot switch it back. It holds for the whole database instance, i.e. every connection of
    this process to the same file, until the last one closes.

    A user who opens the published snapshot with the duckdb CLI gets no such lock from us;
    `SET enable_external_access = false; SET lock_configuration = true;` as the first
    statements gives the same.
    """
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def configure_logging(verbose: bool = False) -> None:
    """The job commands' logging (`logs.configure`); kept until the command line sets up
    logging once, in `main`, for every command."""
    logs.configure(verbose, jobs=True)
