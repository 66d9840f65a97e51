"""The job runner's loads: a collect, a rebuild or a load of a fetch, then the claims it
touched re-evaluated and recorded once it has committed (the ledger of record).

`collect` knows nothing of the claims: it sits below them in the layers (ARCHITECTURE.md).
Whatever runs jobs (the daemon, the demo, the command line) calls these instead, so every
load is followed by its claims. A load commits on its own merits: a broken claims file, or
a claim that cannot be computed, must not roll back data that loaded fine, so the failure
is returned on the result (`claims_error`) and logged, never raised.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable

import duckdb

from sanctuarywatch.collect import tuning
from sanctuarywatch.collect.run import RunResult, collect, load_from_archive, rebuild
from sanctuarywatch.errors import SanctuaryWatchError
from sanctuarywatch.http import HttpClient, redact
from sanctuarywatch.load.archive import Archive
from sanctuarywatch.query import claims
from sanctuarywatch.sources import Options

log = logging.getLogger(__name__)


def collect_and_reevaluate(
    con: duckdb.DuckDBPyConnection,
    archive: Archive,
    client: HttpClient,
    slug: str,
    options: Options | None = None,
    job: str = "cli",
    progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    """`collect`, then the claims that read the source, if the run wrote anything."""
    result = collect(con, archive, client, slug, options, job=job, progress=progress)
    if result.counts.written:
        result.claims_error = reevaluate(con, {slug}, result.run_id)
    return result


def rebuild_and_reevaluate(
    con: duckdb.DuckDBPyConnection,
    archive: Archive,
    slugs: Iterable[str] | None = None,
    skip_damaged: bool = False,
) -> dict[str, RunResult]:
    """`rebuild`, then the claims that read any source it reloaded, recorded as following
    the first of its runs; each result carries the same claims outcome."""
    results = rebuild(con, archive, slugs, skip_damaged=skip_damaged)
    if results:
        error = reevaluate(con, set(results), next(iter(results.values())).run_id)
        for result in results.values():
            result.claims_error = error
    return results


def load_and_reevaluate(
    con: duckdb.DuckDBPyConnection, archive: Archive, run_id: str, job: str = "load"
) -> RunResult:
    """`load_from_archive`, then the claims that read the source, if the load wrote anything
    (a fetch already loaded writes nothing, and re-evaluates nothing)."""
    result = load_from_archive(con, archive, run_id, job=job)
    if result.counts.written:
        result.claims_error = reevaluate(con, {result.source}, run_id)
    return result


def reevaluate(con: duckdb.DuckDBPyConnection, slugs: set[str], run_id: str) -> str | None:
    """Re-evaluate the claims a committed load touched, in their own transaction, under the
    load's settings (UTC: the recorded results spell out instants); return the error if
    that fails."""
    previous = tuning.load_settings(con)
    try:
        con.execute("BEGIN")
        claims.reevaluate_after_load(con, slugs, run_id)
        con.execute("COMMIT")
    except Exception as exc:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        error = redact(str(exc) if isinstance(exc, SanctuaryWatchError) else repr(exc))
        log.error("run %s: loaded, but claims not re-evaluated: %s", run_id, error)
        return error
    finally:
        tuning.restore(con, previous)
    return None
