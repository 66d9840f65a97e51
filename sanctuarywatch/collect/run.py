"""Running a source: fetch, archive, parse, normalise and load, as one run in one transaction.

A run either commits everything it fetched (versions, raw-response index, watermark, its
`runs` row) or nothing: the warehouse is never half-written. The `runs` row is created
before the transaction (status `running`) so a killed run stays visible; its outcome is
written with the data, or after a rollback as `failed`.

`fetch_to_archive` and `load_from_archive` are the two halves of `collect`, apart, for many
fetching workers and one writer. The parts of a run live beside this module: `prefetch`
(the fetch and archive threads), `loader` (staging pages), `runs` (the `runs` table and the
source's state), `tuning` (memory and DuckDB settings) and `rebuild` (replaying the archive
through today's parsers, fetching nothing).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import duckdb

from sanctuarywatch import sources
from sanctuarywatch.collect import fetchlog
from sanctuarywatch.collect.loader import Loader, advance, record_coverage
from sanctuarywatch.collect.prefetch import Writer, ahead, archived
from sanctuarywatch.collect.rebuild import rebuild
from sanctuarywatch.collect.runs import (
    RunResult,
    abort,
    already_loaded,
    finish,
    new_run_id,
    read_state,
    restart_run,
    start_run,
    write_state,
)
from sanctuarywatch.collect.tuning import (
    MEMORY_ENV,
    checkpoint,
    load_memory_limit,
    load_settings,
    malloc_for_pages,
    pages_per_batch,
    restore,
)
from sanctuarywatch.http import HttpClient
from sanctuarywatch.load import sqlnorm
from sanctuarywatch.load.archive import Archive
from sanctuarywatch.sources import Options, Page, State

__all__ = [
    "MEMORY_ENV",
    "RunResult",
    "collect",
    "fetch_to_archive",
    "load_from_archive",
    "load_memory_limit",
    "new_run_id",
    "pages_per_batch",
    "read_state",
    "rebuild",
    "write_state",
]
log = logging.getLogger(__name__)


def collect(
    con: duckdb.DuckDBPyConnection,
    archive: Archive,
    client: HttpClient,
    slug: str,
    options: Options | None = None,
    job: str = "cli",
    progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Run one source once; raise the project's error (after recording it) on failure."""
    source = sources.get(slug)
    options = options or Options()
    host = _host(options.base_url or source.URL)
    client.set_rate(host, source.REQUESTS_PER_SECOND)
    result = RunResult(new_run_id(slug), slug, options.mode)
    start_run(con, result, job)
    requests_before = client.requests_made
    malloc_for_pages()
    previous: dict[str, Any] = {}
    try:
        previous = load_settings(con)
        con.execute("BEGIN")
        loader = Loader(con, source, result.run_id)
        state = before = read_state(con, slug)
        with Writer(archive) as writer:
            fetched = archived(source.fetch(client, options, state), writer, result.run_id)
            with ahead(fetched) as pages:
                for page, entry in pages:
                    state = advance(source, state, loader.add(page, entry), options)
                    if progress:
                        progress(loader.pages, loader.rows)
            state = advance(source, state, loader.flush(), options)
            writer.wait()  # every raw response is on disk before the load can commit
        result.requests = client.requests_made - requests_before
        record_coverage(con, source, options, before, loader, result.run_id)
        finish(con, result, loader.merge(), state)
        con.execute("COMMIT")
    except BaseException as exc:
        abort(con, result, exc, client.requests_made - requests_before)
        raise
    else:  # committed: whatever happens here, the run stands
        checkpoint(con)
    finally:
        restore(con, previous)
    return result


def _host(url: str) -> str:
    return urlsplit(url).hostname or ""


def fetch_to_archive(
    archive: Archive,
    client: HttpClient,
    slug: str,
    options: Options | None = None,
    state: State | None = None,
    requests_per_second: float | None = None,
) -> fetchlog.FetchRecord:
    """Fetch a source into the raw archive only; the warehouse is never opened.

    The fetching half of `collect`, for many workers sharing one archive: blobs are
    content-addressed (a body two workers fetch is stored once), manifest lines are appended
    whole, and the fetch record (`fetchlog`) is renamed into place last, so only a complete
    fetch can be loaded. `state` is where an incremental fetch starts (default: the state
    the newest load left in the archive); `requests_per_second` overrides the source's
    politeness limit for this client (with several workers on one host, divide it).
    """
    source = sources.get(slug)
    options = options or Options()
    rate = requests_per_second or source.REQUESTS_PER_SECOND
    client.set_rate(_host(options.base_url or source.URL), rate)
    if state is None:
        state = fetchlog.read_state(archive, slug) or State()
    run_id, started_at, before = new_run_id(slug), datetime.now(UTC), client.requests_made
    entries = []
    with Writer(archive) as writer:
        for page in source.fetch(client, options, state):
            entries.append(writer.put(page.fetched, run_id, page.kind))
            if isinstance(page.rows, sqlnorm.PageFile):
                page.rows.close()  # the loader parses the page again, from the archive
        writer.wait()
    requests, ended_at = client.requests_made - before, datetime.now(UTC)
    record = fetchlog.FetchRecord(
        slug, run_id, options, state, requests, started_at, ended_at, tuple(entries)
    )
    fetchlog.write(archive, record)
    log.info("fetched %s source=%s requests=%d", run_id, slug, record.requests)
    return record


def load_from_archive(
    con: duckdb.DuckDBPyConnection,
    archive: Archive,
    run_id: str,
    job: str = "load",
) -> RunResult:
    """Load one complete fetch (`fetch_to_archive`) into the warehouse: the loading half of
    `collect`, with its guarantees (one transaction; the `runs` row, under the fetch's run
    id; coverage). A fetch already loaded is not loaded again (returned with nothing
    written); one whose load failed is loaded anew. After the commit, the source's state
    goes to the archive for the next fetch. Like `collect`, it leaves the claims to the job
    runner (`scheduling.runner.load_and_reevaluate`)."""
    record = fetchlog.read(archive, run_id)
    source = sources.get(record.source)
    result = RunResult(run_id, record.source, record.options.mode, requests=record.requests)
    if already_loaded(con, run_id):
        result.status = "success"
        return result
    restart_run(con, result, job)
    previous: dict[str, Any] = {}
    try:
        previous = load_settings(con)
        con.execute("BEGIN")
        loader = Loader(con, source, run_id)
        state = read_state(con, record.source)
        for entry in record.entries:
            fetched = archive.fetched(entry)
            page = Page(entry.kind, fetched, source.parse(fetched, entry.kind))
            state = advance(source, state, loader.add(page, entry), record.options)
        state = advance(source, state, loader.flush(), record.options)
        record_coverage(con, source, record.options, record.state, loader, run_id)
        finish(con, result, loader.merge(), state)
        con.execute("COMMIT")
    except BaseException as exc:
        abort(con, result, exc, record.requests)
        raise
    else:
        checkpoint(con)
        fetchlog.write_state(archive, record.source, state)
    finally:
        restore(con, previous)
    return result
