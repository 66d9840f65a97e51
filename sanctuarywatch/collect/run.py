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

from sanctuarywatch import sources
from sanctuarywatch.collect import fetchlog
from sanctuarywatch.errors import ConfigError, LayoutError, RecordError, SanctuaryWatchError
from sanctuarywatch.http import Fetched, HttpClient, redact
from sanctuarywatch.load import coverage, sqlnorm
from sanctuarywatch.load.archive import Archive, Damage, DamagedArchiveError, Entry
from sanctuarywatch.load.warehouse import LoadCounts, Stage
from sanctuarywatch.sources import Options, Page, State

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
    claims_error: str | None = None  # the load stands; its claims were not re-evaluated
    skipped: list[Damage] = field(default_factory=list)  # rebuild: captures left out
    rows_before: int = 0  # rebuild: the source's current rows before and after
    rows_after: int = 0


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
    requests_before = client.requests_made
    _malloc_for_pages()
    previous: dict[str, Any] = {}
    try:
        previous = _load_settings(con)
        con.execute("BEGIN")
        loader = _Loader(con, source, result.run_id)
        state = before = read_state(con, slug)
        with _Writer(archive) as writer:
            fetched = _archived(source.fetch(client, options, state), writer, result.run_id)
            with _ahead(fetched) as pages:
                for page, entry in pages:
                    state = _advance(source, state, loader.add(page, entry), options)
                    if progress:
                        progress(loader.pages, loader.rows)
            state = _advance(source, state, loader.flush(), options)
            writer.wait()  # every raw response is on disk before the load can commit
        result.requests = client.requests_made - requests_before
        _record_coverage(con, source, options, before, loader, result.run_id)
        _finish(con, loader, result, state)
        con.execute("COMMIT")
    except BaseException as exc:
        _abort(con, result, exc, client.requests_made - requests_before)
        raise
    else:  # committed: whatever happens here, the run stands
        if result.counts.written:
            result.claims_error = _reevaluate_claims(con, {slug}, result.run_id)
        _checkpoint(con)
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
        self.first_fetched_at: datetime | None = None

    def add(self, page: Page, entry: Entry) -> Staged:
        self._index(entry)
        if self.first_fetched_at is None:
            self.first_fetched_at = entry.fetched_at
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


def _record_coverage(
    con: duckdb.DuckDBPyConnection,
    source: ModuleType,
    options: Options,
    state: State,
    loader: _Loader,
    run_id: str,
) -> None:
    """The windows this run has seen in full, for a source that states them (`covered`),
    bounded by when its first page was fetched (a replay: when it was recorded)."""
    if hasattr(source, "covered") and loader.first_fetched_at is not None:
        windows = source.covered(options, state, loader.first_fetched_at)
        coverage.record(con, source.SLUG, run_id, windows, loader.first_fetched_at)


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


def _reevaluate_claims(con: duckdb.DuckDBPyConnection, slugs: set[str], run_id: str) -> str | None:
    """Re-evaluate the claims a committed load touched, in their own transaction; return
    the error if that fails. A load commits on its own merits: a broken claims file (or a
    claim that cannot be computed) must not roll back data that loaded fine."""
    try:
        con.execute("BEGIN")
        _claims().reevaluate_after_load(con, slugs, run_id)
        con.execute("COMMIT")
    except Exception as exc:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        error = redact(str(exc) if isinstance(exc, SanctuaryWatchError) else repr(exc))
        log.error("run %s: loaded, but claims not re-evaluated: %s", run_id, error)
        return error
    return None


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
    con: duckdb.DuckDBPyConnection,
    archive: Archive,
    slugs: Iterable[str] | None = None,
    skip_damaged: bool = False,
) -> dict[str, RunResult]:
    """Reload the named sources (default: all in the archive) from raw captures only.

    Every captured run is read back and re-parsed before anything is cleared, because a
    rebuild must never lose data it cannot re-read: a blob missing, cut short or holding
    another body, a manifest line that is not an entry, a page that no longer parses, each
    fails the rebuild, naming the file, with the warehouse as it was. With `skip_damaged`
    the runs they belong to are left out instead: each result lists what it skipped, and
    `rows_before`/`rows_after` show what was not reloaded. The reload is one transaction;
    the claims it touched are re-evaluated after it commits (`claims_error` if that fails).
    """
    runs, damage = _checked_runs(archive, _known(slugs))
    # damage that names no run (no manifest line legible) cannot be skipped: fail
    if damage and not (skip_damaged and all(d.run_id for d in damage)):
        raise DamagedArchiveError(
            damage,
            "rebuild stopped, nothing changed (--skip-damaged reloads the rest without these runs)",
        )
    results = _rebuild_results(con, runs, damage)
    left_out = {d.run_id for d in damage}
    previous: dict[str, Any] = {}
    try:
        previous = _load_settings(con)
        con.execute("BEGIN")
        _reload(con, archive, [(r, e) for r, e in runs.items() if r not in left_out], results)
        con.execute("COMMIT")
    except BaseException as exc:
        for result in results.values():
            _abort(con, result, exc, 0)
        raise
    else:
        if results:
            error = _reevaluate_claims(con, set(results), next(iter(results.values())).run_id)
            for result in results.values():
                result.claims_error = error
    finally:
        _set(con, previous)
    return results


def _known(slugs: Iterable[str] | None) -> set[str] | None:
    """The sources asked for; a name that is none of them is an error, not 'no captures'."""
    wanted = set(slugs or ())
    if unknown := sorted(wanted - set(sources.SOURCE_MODULES)):
        names = ", ".join(repr(name) for name in unknown)
        known = ", ".join(sources.SOURCE_MODULES)
        raise ConfigError("rebuild", f"unknown source {names}; known sources: {known}")
    return wanted or None


def _checked_runs(
    archive: Archive, slugs: set[str] | None
) -> tuple[dict[str, list[Entry]], list[Damage]]:
    """The captured runs of the sources asked for, and what of them cannot be read back."""
    runs, damage = _captured_runs(archive, slugs)
    for run_id, entries in runs.items():
        damage += _unreadable(archive, run_id, entries)
    return runs, damage


def _captured_runs(
    archive: Archive, slugs: set[str] | None
) -> tuple[dict[str, list[Entry]], list[Damage]]:
    entries, damage = archive.scan()
    runs: dict[str, list[Entry]] = {}
    for entry in entries:
        if entry.source in sources.SOURCE_MODULES and (slugs is None or entry.source in slugs):
            runs.setdefault(entry.run_id, []).append(entry)
    ours = [d for d in damage if slugs is None or d.source is None or d.source in slugs]
    return dict(sorted(runs.items(), key=lambda item: item[1][0].fetched_at)), ours


def _unreadable(archive: Archive, run_id: str, entries: list[Entry]) -> list[Damage]:
    """A run's blobs that cannot be read back as written, and the first of its pages that
    no longer parses (one is enough to fail it; a parser change often fails them all)."""
    source = sources.get(entries[0].source)
    blobs: list[Damage] = []
    page: Damage | None = None
    for entry in entries:
        try:
            fetched = archive.fetched(entry)
        except LayoutError as exc:
            blobs.append(
                Damage(entry.source, run_id, exc.where, f"{exc.found} (expected {exc.expected})")
            )
            continue
        if page is None:
            try:
                source.normalize(source.parse(fetched, entry.kind), entry.kind)
            except SanctuaryWatchError as exc:
                page = Damage(entry.source, run_id, entry.url, str(exc).splitlines()[0])
    return blobs + ([page] if page else [])


def _rebuild_results(
    con: duckdb.DuckDBPyConnection, runs: dict[str, list[Entry]], damage: list[Damage]
) -> dict[str, RunResult]:
    """A `runs` row for each source the rebuild reloads, with the captures it leaves out."""
    touched = {entries[0].source for entries in runs.values()}
    touched |= {d.source for d in damage if d.source in sources.SOURCE_MODULES}
    results = {slug: RunResult(new_run_id(slug), slug, "rebuild") for slug in sorted(touched)}
    for found in damage:
        if found.source in results:
            results[found.source].skipped.append(found)
        log.warning("rebuild skips %s; its rows are not reloaded", found)
    for result in results.values():
        _start_run(con, result, "rebuild")
    return results


def _reload(
    con: duckdb.DuckDBPyConnection,
    archive: Archive,
    runs: list[tuple[str, list[Entry]]],
    results: dict[str, RunResult],
) -> None:
    """Inside the rebuild's transaction: clear the sources, replay their runs, record."""
    for result in results.values():
        result.rows_before = _current_rows(con, result.source)
    _clear(con, list(results))
    for run_id, entries in runs:
        _replay(con, archive, run_id, entries, results[entries[0].source])
    for result in results.values():
        result.rows_after = _current_rows(con, result.source)
        result.status, result.ended_at = "success", datetime.now(UTC)
        _update_run(con, result)
        if result.skipped:
            log.warning(
                "rebuild %s: %d current rows before, %d after; %d captures skipped",
                result.source,
                result.rows_before,
                result.rows_after,
                len(result.skipped),
            )


def _current_rows(con: duckdb.DuckDBPyConnection, slug: str) -> int:
    total = 0
    for table in sources.get(slug).TABLES:
        row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
        total += int(row[0]) if row else 0
    return total


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
    with _Writer(archive) as writer:
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
    claims: bool = True,
) -> RunResult:
    """Load one complete fetch (`fetch_to_archive`) into the warehouse: the loading half of
    `collect`, with its guarantees (one transaction; the `runs` row, under the fetch's run
    id; coverage; the claims it touched once committed, unless `claims` is False: many
    partitions' loads then leave them to one re-evaluation after the last). A fetch already
    loaded is not loaded again (returned with nothing written); one whose load failed is
    loaded anew. After the commit, the source's state goes to the archive for the next fetch."""
    record = fetchlog.read(archive, run_id)
    source = sources.get(record.source)
    result = RunResult(run_id, record.source, record.options.mode, requests=record.requests)
    if _already_loaded(con, run_id):
        result.status = "success"
        return result
    _restart_run(con, result, job)
    previous: dict[str, Any] = {}
    try:
        previous = _load_settings(con)
        con.execute("BEGIN")
        loader = _Loader(con, source, run_id)
        state = read_state(con, record.source)
        for entry in record.entries:
            fetched = archive.fetched(entry)
            page = Page(entry.kind, fetched, source.parse(fetched, entry.kind))
            state = _advance(source, state, loader.add(page, entry), record.options)
        state = _advance(source, state, loader.flush(), record.options)
        _record_coverage(con, source, record.options, record.state, loader, run_id)
        _finish(con, loader, result, state)
        con.execute("COMMIT")
    except BaseException as exc:
        _abort(con, result, exc, record.requests)
        raise
    else:
        if claims and result.counts.written:
            result.claims_error = _reevaluate_claims(con, {record.source}, run_id)
        _checkpoint(con)
        fetchlog.write_state(archive, record.source, state)
    finally:
        _set(con, previous)
    return result


def _already_loaded(con: duckdb.DuckDBPyConnection, run_id: str) -> bool:
    row = con.execute("SELECT status FROM runs WHERE run_id = ?", [run_id]).fetchone()
    return bool(row and row[0] == "success")


def _restart_run(con: duckdb.DuckDBPyConnection, result: RunResult, job: str) -> None:
    """The `runs` row of a load: new, or a failed attempt's row made `running` again."""
    found = con.execute("SELECT 1 FROM runs WHERE run_id = ?", [result.run_id]).fetchone()
    if found is None:
        _start_run(con, result, job)
        return
    con.execute(
        "UPDATE runs SET job = ?, started_at = ?, status = 'running', ended_at = NULL, "
        "error = NULL WHERE run_id = ?",
        [job, result.started_at, result.run_id],
    )


def _claims() -> ModuleType:
    """The claims module, imported when a load has committed: a run sits below the claims in
    the layers (ARCHITECTURE.md), and reaches up only to re-evaluate what it changed."""
    from sanctuarywatch.query import claims

    return claims
