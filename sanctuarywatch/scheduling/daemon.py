"""Running jobs: once (`sanctuarywatch run JOB`) or on the schedule (`sanctuarywatch daemon`).

The daemon owns the live warehouse file for as long as it runs; SQL users read the
snapshot it re-publishes after every job (snapshot.py). Each source of a job is collected
and its claims re-evaluated by the job runner's loads (runner.py).

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

`--replay` answers from a recorded archive instead of the network (replay.py).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import duckdb
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from sanctuarywatch.collect import runs
from sanctuarywatch.collect.run import RunResult
from sanctuarywatch.collect.runs import abandon_stale_runs as abandon_stale_runs
from sanctuarywatch.errors import SanctuaryWatchError
from sanctuarywatch.http import HttpClient, redact
from sanctuarywatch.load.archive import Archive, ArchiveTransport
from sanctuarywatch.query import claims
from sanctuarywatch.scheduling import schedule
from sanctuarywatch.scheduling.replay import REPLAY_ENV as REPLAY_ENV
from sanctuarywatch.scheduling.replay import Recording as Recording
from sanctuarywatch.scheduling.replay import recording as recording
from sanctuarywatch.scheduling.replay import replay_archives as replay_archives
from sanctuarywatch.scheduling.runner import collect_and_reevaluate
from sanctuarywatch.scheduling.snapshot import deny_files as deny_files
from sanctuarywatch.scheduling.snapshot import open_for_reading as open_for_reading
from sanctuarywatch.scheduling.snapshot import open_live as open_live
from sanctuarywatch.scheduling.snapshot import publish_snapshot as publish_snapshot
from sanctuarywatch.scheduling.snapshot import snapshot_path as snapshot_path
from sanctuarywatch.sources import Options

log = logging.getLogger(__name__)


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
