"""Run bookkeeping: the `runs` table, one row per run, and each source's `source_state`.

This module is the one writer of `runs`; the daemon marks runs abandoned through it. A run's
row is created before its transaction (status `running`), so a killed run stays visible;
its outcome is written with the data, or after a rollback as `failed`; a row left `running`
by a process that died is marked `abandoned` by whoever next holds the warehouse.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb

from sanctuarywatch.errors import SanctuaryWatchError
from sanctuarywatch.http import redact
from sanctuarywatch.load.archive import Damage
from sanctuarywatch.load.warehouse import LoadCounts
from sanctuarywatch.sources import State

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """What one run did."""

    run_id: str
    source: str
    mode: str
    status: str = "running"
    requests: int = 0
    counts: LoadCounts = field(default_factory=LoadCounts)
    error: str | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    ended_at: datetime | None = None
    claims_error: str | None = None  # the load stands; the job runner's claims failed
    skipped: list[Damage] = field(default_factory=list)  # rebuild: captures left out
    rows_before: int = 0  # rebuild: the source's current rows before and after
    rows_after: int = 0


def new_run_id(slug: str) -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{slug}-{secrets.token_hex(3)}"


def start_run(con: duckdb.DuckDBPyConnection, result: RunResult, job: str) -> None:
    con.execute(
        "INSERT INTO runs (run_id, job, source, mode, started_at, status) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [result.run_id, job, result.source, result.mode, result.started_at, "running"],
    )


def update_run(con: duckdb.DuckDBPyConnection, result: RunResult) -> None:
    con.execute(
        "UPDATE runs SET ended_at = ?, status = ?, requests = ?, rows_seen = ?, rows_written = ?, "
        "error = ? WHERE run_id = ?",
        [
            result.ended_at,
            result.status,
            result.requests,
            result.counts.seen,
            result.counts.written,
            result.error,
            result.run_id,
        ],
    )


def restart_run(con: duckdb.DuckDBPyConnection, result: RunResult, job: str) -> None:
    """The `runs` row of a load: new, or a failed attempt's row made `running` again."""
    found = con.execute("SELECT 1 FROM runs WHERE run_id = ?", [result.run_id]).fetchone()
    if found is None:
        start_run(con, result, job)
        return
    con.execute(
        "UPDATE runs SET job = ?, started_at = ?, status = 'running', ended_at = NULL, "
        "error = NULL WHERE run_id = ?",
        [job, result.started_at, result.run_id],
    )


def already_loaded(con: duckdb.DuckDBPyConnection, run_id: str) -> bool:
    row = con.execute("SELECT status FROM runs WHERE run_id = ?", [run_id]).fetchone()
    return bool(row and row[0] == "success")


def finish(
    con: duckdb.DuckDBPyConnection, result: RunResult, counts: LoadCounts, state: State
) -> None:
    """Inside the run's transaction: what it loaded, the source's new state, its outcome."""
    result.counts = counts
    write_state(con, result.source, state)
    result.status, result.ended_at = "success", datetime.now(UTC)
    update_run(con, result)
    log.info(
        "run %s source=%s mode=%s requests=%d seen=%d new=%d changed=%d",
        result.run_id,
        result.source,
        result.mode,
        result.requests,
        result.counts.seen,
        result.counts.new,
        result.counts.changed,
    )


def abort(
    con: duckdb.DuckDBPyConnection, result: RunResult, exc: BaseException, requests: int
) -> None:
    """Roll the run's transaction back and record it as failed, with its error."""
    with contextlib.suppress(duckdb.Error):  # the transaction may never have started
        con.execute("ROLLBACK")
    result.status, result.ended_at, result.requests = "failed", datetime.now(UTC), requests
    result.error = redact(str(exc) if isinstance(exc, SanctuaryWatchError) else repr(exc))
    result.counts = LoadCounts()
    update_run(con, result)
    log.error("run %s source=%s failed: %s", result.run_id, result.source, result.error)


def read_state(con: duckdb.DuckDBPyConnection, slug: str) -> State:
    row = con.execute(
        "SELECT watermark, complete_through FROM source_state WHERE source = ?", [slug]
    ).fetchone()
    return State(watermark=row[0], complete_through=row[1]) if row else State()


def write_state(con: duckdb.DuckDBPyConnection, slug: str, state: State) -> None:
    con.execute(
        "INSERT OR REPLACE INTO source_state VALUES (?, ?, ?, ?)",
        [slug, state.watermark, state.complete_through, datetime.now(UTC)],
    )


def abandon_stale_runs(con: duckdb.DuckDBPyConnection) -> int:
    """Mark `running` rows as abandoned: whoever wrote them is gone, since we hold the file."""
    row = con.execute(
        "UPDATE runs SET status = 'abandoned', ended_at = now(), "
        "error = 'the process running it ended before it finished' WHERE status = 'running'"
    ).fetchone()
    return int(row[0]) if row else 0


def mark_abandoned(con: duckdb.DuckDBPyConnection, job: str, source: str) -> None:
    """The job's newest run of the source, stopped by a signal: its load rolled back."""
    con.execute(
        "UPDATE runs SET status = 'abandoned', error = 'stopped by a signal; rolled back' "
        "WHERE run_id = (SELECT run_id FROM runs WHERE job = ? AND source = ? "
        "ORDER BY started_at DESC LIMIT 1)",
        [job, source],
    )


def latest(con: duckdb.DuckDBPyConnection, job: str, source: str) -> dict[str, Any] | None:
    """The job's newest run of the source, as recorded (None: it has none)."""
    relation = con.execute(
        "SELECT run_id, status, started_at, ended_at, requests, rows_seen, rows_written, error "
        "FROM runs WHERE job = ? AND source = ? ORDER BY started_at DESC LIMIT 1",
        [job, source],
    )
    row = relation.fetchone()
    if row is None:
        return None
    return dict(zip([column[0] for column in relation.description], row, strict=True))


def failures_since_success(
    con: duckdb.DuckDBPyConnection, source: str
) -> tuple[int, datetime | None]:
    """The source's failed runs since its last success (abandoned ones do not count), and
    when the last of them ended."""
    row = con.execute(
        "SELECT count(*), max(ended_at) FROM runs WHERE source = ? AND status = 'failed' "
        "AND started_at > coalesce((SELECT max(started_at) FROM runs "
        "WHERE source = ? AND status = 'success'), '-infinity'::TIMESTAMPTZ)",
        [source, source],
    ).fetchone()
    return (int(row[0]), row[1]) if row else (0, None)
