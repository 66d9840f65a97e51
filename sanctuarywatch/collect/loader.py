"""Staging a run's pages: each page's records, with the provenance every row carries, the
raw-response index, the windows the run covered, and the source's state as pages go by.

Everything here runs inside the run's one transaction, on the warehouse connection.
"""

from __future__ import annotations

from datetime import datetime
from types import ModuleType
from typing import Any

import duckdb

from sanctuarywatch.collect import tuning
from sanctuarywatch.errors import RecordError
from sanctuarywatch.load import coverage, sqlnorm
from sanctuarywatch.load.archive import Entry
from sanctuarywatch.load.warehouse import LoadCounts, Stage
from sanctuarywatch.sources import Options, Page, State

Staged = list[tuple[Page, dict[str, Any]]]


def normalise(source: ModuleType, rows: Any, kind: str) -> dict[str, Any]:
    """A parsed page's records per table, by the one path its source declares: its
    NORMALIZER (in a scratch DuckDB, as Arrow) or its `normalize`. The rebuild's check reads
    pages through this; a load stages a NORMALIZER's pages in the warehouse instead, a
    batch at a time (`Loader`), by the same query."""
    normaliser: sqlnorm.Normaliser | None = getattr(source, "NORMALIZER", None)
    if normaliser is not None:
        return {normaliser.table: normaliser.records(rows)}
    records: dict[str, Any] = source.normalize(rows, kind)
    return records


class Loader:
    """Stages each page's records for one run, with the provenance every row carries.

    A source with a NORMALIZER parses pages to page files, which the stage normalises a batch
    at a time, straight into a staged batch: the records never become Python objects. Others
    give Python records (`normalise`), staged page by page. `add` and `flush` return what
    was staged as (last page, records) for the source's `advance`.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, source: ModuleType, run_id: str) -> None:
        self.con, self.source, self.run_id = con, source, run_id
        self.stages = {table: Stage(con, table, key) for table, key in source.TABLES.items()}
        self.normaliser: sqlnorm.Normaliser | None = getattr(source, "NORMALIZER", None)
        self.batch_pages = tuning.pages_per_batch(con)
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
            records = normalise(self.source, page.rows, page.kind)
        except RecordError as exc:
            raise RecordError(exc.source, entry.url, exc.key, exc.detail) from None
        for table, rows in records.items():
            self.stages[table].append(rows, self._provenance(entry))
            self.rows += len(rows)
        return records

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


def record_coverage(
    con: duckdb.DuckDBPyConnection,
    source: ModuleType,
    options: Options,
    state: State,
    loader: Loader,
    run_id: str,
) -> None:
    """The windows this run has seen in full, for a source that states them (`covered`),
    bounded by when its first page was fetched (a replay: when it was recorded)."""
    if hasattr(source, "covered") and loader.first_fetched_at is not None:
        windows = source.covered(options, state, loader.first_fetched_at)
        coverage.record(con, source.SLUG, run_id, windows, loader.first_fetched_at)


def advance(source: ModuleType, state: State, staged: Staged, options: Options) -> State:
    """The source's state after the pages just staged (its `advance`, page by page)."""
    for page, records in staged:
        state = source.advance(state, page, records, options)
    return state
