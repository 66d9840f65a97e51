"""Running a source: fetch, archive, parse, normalise and load, as one run in one transaction.

A run either commits everything it fetched (versions, raw-response index, watermark, its
`runs` row) or nothing: the warehouse is never half-written. The `runs` row is created
before the transaction (status `running`) so a killed run stays visible; its outcome is
written with the data, or after a rollback as `failed`.

`rebuild` replays the raw archive through today's parsers without fetching anything.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import queue
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import duckdb

from . import claims, sources, sqlnorm
from .archive import Archive, Entry
from .errors import RecordError, SanctuaryWatchError
from .http import Fetched, HttpClient, redact
from .sources import Options, Page, State
from .warehouse import LoadCounts, Stage

log = logging.getLogger(__name__)
MEMORY_ENV = "SANCTUARYWATCH_LOAD_MEMORY"
DEFAULT_LOAD_MEMORY = "160MB"
_M_MMAP_THRESHOLD, _M_ARENA_MAX = -3, -8  # glibc mallopt parameters


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


def new_run_id(slug: str) -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{slug}-{secrets.token_hex(3)}"


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
    _start_run(con, result, job)
    before = client.requests_made
    _malloc_for_pages()
    previous: dict[str, Any] = {}
    try:
        previous = _load_settings(con)
        con.execute("BEGIN")
        loader = _Loader(con, source, result.run_id)
        state = read_state(con, slug)
        with _Writer(archive) as writer:
            fetched = _archived(source.fetch(client, options, state), writer, result.run_id)
            with _ahead(fetched) as pages:
                for page, entry in pages:
                    state = _advance(source, state, loader.add(page, entry), options)
                    if progress:
                        progress(loader.pages, loader.rows)
            state = _advance(source, state, loader.flush(), options)
            writer.wait()  # every raw response is on disk before the load can commit
        result.requests = client.requests_made - before
        _finish(con, loader, result, state)
        con.execute("COMMIT")
    except BaseException as exc:
        _abort(con, result, exc, client.requests_made - before)
        raise
    else:
        _checkpoint(con)  # committed: whatever happens here, the run stands
    finally:
        _set(con, previous)
    return result


def _checkpoint(con: duckdb.DuckDBPyConnection) -> None:
    """Write the run's rows into the file now, under the load's memory limit. Left to the
    connection's close, the checkpoint ran under DuckDB's default limit and rewrote the
    load's row groups with up to 780 MB (1M rows merged in four slices; BENCHMARKS.md). The
    run is committed either way: a checkpoint refused (another connection busy) is not a
    failed run, and DuckDB checkpoints later."""
    try:
        con.execute("CHECKPOINT")
    except duckdb.Error as exc:
        log.warning("checkpoint after the load skipped: %s", str(exc).splitlines()[0])


def _load_settings(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Settings for the length of a load; return the values they replace. DuckDB's memory
    limit; insertion order not kept, which lets big inserts stream; UTC, so record hashes
    (which spell out instants) do not depend on the machine's time zone."""
    wanted = {
        "memory_limit": load_memory_limit(),
        "preserve_insertion_order": False,
        "TimeZone": "UTC",
    }
    previous = {
        name: con.execute("SELECT current_setting(?)", [name]).fetchall()[0][0] for name in wanted
    }
    _set(con, wanted)
    return previous


def _set(con: duckdb.DuckDBPyConnection, settings: dict[str, Any]) -> None:
    with contextlib.suppress(duckdb.Error):  # a connection closed under us keeps nothing
        for name, value in settings.items():
            shown = sqlnorm.literal(value) if isinstance(value, str) else value
            con.execute(f"SET {name} = {shown}")


def load_memory_limit() -> str:
    """DuckDB's memory limit during a load ($SANCTUARYWATCH_LOAD_MEMORY, default 160MB).

    A run's rows are staged in Parquet files and merged a slice at a time
    (`warehouse.Stage`), and its new versions go to the file as row groups fill; under the
    limit DuckDB spills the rest to `<warehouse>.tmp` instead of holding it in RAM, so a full
    backfill fits a small machine. The limit also sets how many pages are normalised at once
    (`pages_per_batch`): below 140 MB one page a query, about a quarter slower (BENCHMARKS.md)."""
    return os.environ.get(MEMORY_ENV, DEFAULT_LOAD_MEMORY).replace("'", "")


def _malloc_for_pages() -> None:
    """glibc settings for a process that allocates and frees a 12 MB page body again and
    again. Two malloc arenas: the fetch thread and DuckDB's otherwise each get one, and the
    pages freed there stay in the process (a 400k-row load: 428 MB instead of 381 MB peak).
    Bodies over 1 MB always mmapped: glibc otherwise raises that threshold to the size of the
    first body freed, after which bodies come from the heap and their memory is kept (1M-row
    load under 128 MB: peak 274-277 MB instead of 283). Linux/glibc only; elsewhere nothing."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, 1024 * 1024)
        libc.mallopt(_M_ARENA_MAX, 2)


class _Writer:
    """Writes raw responses to the archive in a worker thread (zstd releases the GIL), in
    fetch order; `wait` returns once all are written, or raises the first failure."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sanctuarywatch-archive")
        self.pending: list[Future[None]] = []

    def put(self, fetched: Fetched, run_id: str, kind: str) -> Entry:
        entry = self.archive.entry(fetched, run_id, kind)
        self.pending.append(self.pool.submit(self.archive.store, entry, fetched.body))
        return entry

    def wait(self) -> None:
        for future in self.pending:
            future.result()
        self.pending.clear()

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def _archived(pages: Iterator[Page], writer: _Writer, run_id: str) -> Iterator[tuple[Page, Entry]]:
    """Each page with its archive entry, handed on without its body.

    Runs in the fetch worker (see `_ahead`); the writer stores the body beside it. The page
    file has the rows, and bodies held until their page was loaded (the loop's page, the
    page waiting in the hand-off) were ~20 MB of a load's peak memory (BENCHMARKS.md).
    """
    for page in pages:
        entry = writer.put(page.fetched, run_id, page.kind)
        light = page._replace(fetched=replace(page.fetched, body=b""))
        del page  # not kept while the next page downloads
        yield light, entry


_END = object()


@contextlib.contextmanager
def _ahead(pages: Iterator[Any]) -> Iterator[Iterator[Any]]:
    """The source's pages, fetched one ahead in a worker thread.

    While DuckDB normalises and stages page N, the worker is already downloading and parsing
    page N+1 (both release the GIL); with the archive writer, a 400k-row load went from 14.5 s
    to 10.8 s (BENCHMARKS.md). The worker never touches the warehouse; its errors are raised
    here, in order. On leaving early the worker stops after its current request.
    """
    handoff: queue.Queue[Any] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def offer(item: Any) -> bool:
        while not stop.is_set():
            with contextlib.suppress(queue.Full):
                handoff.put(item, timeout=0.1)
                return True
        return False

    def work() -> None:
        try:
            for page in pages:
                if not offer(page):
                    return
            offer(_END)
        except BaseException as exc:  # handed to the consumer, raised there
            offer(exc)

    def consume() -> Iterator[Any]:
        while (item := handoff.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item

    worker = threading.Thread(target=work, name="sanctuarywatch-fetch", daemon=True)
    worker.start()
    try:
        yield consume()
    finally:
        stop.set()


_MIB = {"KiB": 1 / 1024, "MiB": 1, "GiB": 1024, "TiB": 1024 * 1024}


def pages_per_batch(con: duckdb.DuckDBPyConnection) -> int:
    """Portal pages normalised per query: 4, unless the load's memory limit cannot hold as
    many page files read at once as DuckDB has threads.

    DuckDB reads the files of a query in parallel, one file a thread, so on two cores a
    query of four pages costs about half as much a page as one of one page. Each file being
    read takes ~65 MB of DuckDB's memory (a 32 MB read buffer, whatever the file's size, and
    the rows on their way to the Parquet writer); files beyond the thread count wait their
    turn and take nothing. So at 2 threads 140 MB allows 4 pages a query and 128 MB one
    (measured: BENCHMARKS.md).
    """
    limit, threads = con.execute(
        "SELECT current_setting('memory_limit'), current_setting('threads')"
    ).fetchall()[0]
    number, _, unit = str(limit).partition(" ")
    at_once = int(float(number) * _MIB.get(unit, 0) // 70)
    return 4 if at_once >= int(threads) else max(1, min(4, at_once))


Staged = list[tuple[Page, dict[str, Any]]]


class _Loader:
    """Stages each page's records for one run, with the provenance every row carries.

    A source with a NORMALIZER parses pages to page files, which the stage normalises a batch
    at a time, straight into a staged batch: the records never become Python objects. Others
    give Python records, staged page by page. `add` and `flush` return what was staged as
    (last page, records) for the source's `advance`.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, source: ModuleType, run_id: str) -> None:
        self.con, self.source, self.run_id = con, source, run_id
        self.stages = {table: Stage(con, table, key) for table, key in source.TABLES.items()}
        self.normaliser: sqlnorm.Normaliser | None = getattr(source, "NORMALIZER", None)
        self.batch_pages = pages_per_batch(con)
        self.waiting: list[tuple[Page, Entry]] = []
        self.pages = 0
        self.rows = 0

    def add(self, page: Page, entry: Entry) -> Staged:
        self._index(entry)
        self.pages += 1
        if self.normaliser is None:
            return [(page, self._stage_records(page, entry))]
        self.waiting.append((page, entry))
        return self.flush() if len(self.waiting) >= self.batch_pages else []

    def flush(self) -> Staged:
        """Normalise and stage the page files waiting for a batch."""
        if not self.waiting or self.normaliser is None:
            return []
        waiting, self.waiting = self.waiting, []
        files: list[sqlnorm.PageFile] = [page.rows for page, _ in waiting]
        by_file = {page.rows.path: self._provenance(entry) for page, entry in waiting}
        stage = self.stages[self.normaliser.table]
        try:
            table = stage.append_pages(self.normaliser, files, by_file)
        finally:
            for file in files:
                file.close()
        self.rows += len(table)
        return [(waiting[-1][0], {self.normaliser.table: table})]

    def _stage_records(self, page: Page, entry: Entry) -> dict[str, Any]:
        try:
            records = self.source.normalize(page.rows, page.kind)
        except RecordError as exc:
            raise RecordError(exc.source, entry.url, exc.key, exc.detail) from None
        for table, rows in records.items():
            self.stages[table].append(rows, self._provenance(entry))
            self.rows += len(rows)
        return records  # type: ignore[no-any-return]

    def _provenance(self, entry: Entry) -> dict[str, Any]:
        return {
            "observed_at": entry.fetched_at,
            "source": self.source.SLUG,
            "source_url": entry.url,
            "raw_sha256": entry.sha256,
            "run_id": self.run_id,
        }

    def _index(self, entry: Entry) -> None:
        """The raw response's row in raw_responses (what every fact row points back to)."""
        self.con.execute(
            "INSERT INTO raw_responses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                entry.sha256,
                self.run_id,
                entry.source,
                entry.url,
                entry.kind,
                entry.status,
                entry.content_type,
                entry.fetched_at,
                entry.bytes,
            ],
        )

    def merge(self) -> LoadCounts:
        total = LoadCounts()
        for stage in self.stages.values():
            total.add(stage.merge())
        return total


def _advance(source: ModuleType, state: State, staged: Staged, options: Options) -> State:
    for page, records in staged:
        state = source.advance(state, page, records, options)
    return state


def _finish(
    con: duckdb.DuckDBPyConnection, loader: _Loader, result: RunResult, state: State
) -> None:
    result.counts = loader.merge()
    write_state(con, result.source, state)
    result.status, result.ended_at = "success", datetime.now(UTC)
    if result.counts.written:
        claims.reevaluate_after_load(con, {result.source}, result.run_id)
    _update_run(con, result)
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


def _abort(
    con: duckdb.DuckDBPyConnection, result: RunResult, exc: BaseException, requests: int
) -> None:
    with contextlib.suppress(duckdb.Error):  # the transaction may never have started
        con.execute("ROLLBACK")
    result.status, result.ended_at, result.requests = "failed", datetime.now(UTC), requests
    result.error = redact(str(exc) if isinstance(exc, SanctuaryWatchError) else repr(exc))
    result.counts = LoadCounts()
    _update_run(con, result)
    log.error("run %s source=%s failed: %s", result.run_id, result.source, result.error)


def _start_run(con: duckdb.DuckDBPyConnection, result: RunResult, job: str) -> None:
    con.execute(
        "INSERT INTO runs (run_id, job, source, mode, started_at, status) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [result.run_id, job, result.source, result.mode, result.started_at, "running"],
    )


def _update_run(con: duckdb.DuckDBPyConnection, result: RunResult) -> None:
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


def _host(url: str) -> str:
    return urlsplit(url).hostname or ""


def rebuild(
    con: duckdb.DuckDBPyConnection, archive: Archive, slugs: Iterable[str] | None = None
) -> dict[str, RunResult]:
    """Reload the named sources (default: all in the archive) from raw captures only.

    Every captured run is re-parsed first; a run whose pages no longer parse is skipped and
    reported, so one bad capture does not block a parser fix for all the others. The reload
    itself is one transaction: the old versions are replaced only if the whole replay works.
    """
    runs = _captured_runs(archive, set(slugs) if slugs else None)
    good, results = [], {}
    for run_id, entries in runs.items():
        source = sources.get(entries[0].source)
        try:
            for entry in entries:
                source.normalize(source.parse(archive.fetched(entry), entry.kind), entry.kind)
            good.append((run_id, entries))
        except SanctuaryWatchError as exc:
            log.warning("rebuild skips run %s: %s", run_id, exc)
    touched = sorted({entries[0].source for entries in runs.values()})
    for slug in touched:
        results[slug] = RunResult(new_run_id(slug), slug, "rebuild")
        _start_run(con, results[slug], "rebuild")
    previous: dict[str, Any] = {}
    try:
        previous = _load_settings(con)
        con.execute("BEGIN")
        _clear(con, touched)
        for run_id, entries in good:
            _replay(con, archive, run_id, entries, results[entries[0].source])
        for result in results.values():
            result.status, result.ended_at = "success", datetime.now(UTC)
            _update_run(con, result)
        if results:
            claims.reevaluate_after_load(con, set(results), next(iter(results.values())).run_id)
        con.execute("COMMIT")
    except BaseException as exc:
        for result in results.values():
            _abort(con, result, exc, 0)
        raise
    finally:
        _set(con, previous)
    return results


def _captured_runs(archive: Archive, slugs: set[str] | None) -> dict[str, list[Entry]]:
    runs: dict[str, list[Entry]] = {}
    for entry in archive.entries():
        if entry.source in sources.SOURCE_MODULES and (slugs is None or entry.source in slugs):
            runs.setdefault(entry.run_id, []).append(entry)
    return dict(sorted(runs.items(), key=lambda item: item[1][0].fetched_at))


def _clear(con: duckdb.DuckDBPyConnection, slugs: list[str]) -> None:
    for slug in slugs:
        for table in sources.get(slug).TABLES:
            con.execute(f"DELETE FROM {table}_versions")
        con.execute("DELETE FROM raw_responses WHERE source = ?", [slug])
        con.execute("DELETE FROM source_state WHERE source = ?", [slug])


def _replay(
    con: duckdb.DuckDBPyConnection,
    archive: Archive,
    run_id: str,
    entries: list[Entry],
    result: RunResult,
) -> None:
    source = sources.get(entries[0].source)
    loader = _Loader(con, source, run_id)
    state = read_state(con, source.SLUG)
    for entry in entries:
        fetched = archive.fetched(entry)
        page = Page(entry.kind, fetched, source.parse(fetched, entry.kind))
        state = _advance(source, state, loader.add(page, entry), Options(mode="incremental"))
    state = _advance(source, state, loader.flush(), Options(mode="incremental"))
    result.counts.add(loader.merge())
    write_state(con, source.SLUG, state)
