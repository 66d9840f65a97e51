"""The one writer of fact rows: a run's rows staged as Parquet, then merged into
`<table>_versions` inside the run's transaction (see `Stage`).

The record hash that tells a changed record from one seen again is DuckDB's 64-bit `hash`
of the row's values as the table types them (`record_hash_sql`); `warehouse.migrate`
re-computes stored hashes when that function may have changed (another DuckDB version).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from sanctuarywatch.load.columns import PROVENANCE_COLUMNS, LoadCounts, arrow_batch, fact_columns
from sanctuarywatch.load.sqlnorm import PARQUET, Normaliser, PageFile, PageTable, literal

if TYPE_CHECKING:  # imported where Arrow is made (see sqlnorm)
    import pyarrow as pa


def record_hash_sql(typed: Sequence[tuple[str, str]]) -> str:
    """SQL for a record's hash: DuckDB's `hash` of its values cast to the table's types, so a
    staged row and its stored version hash alike. A 64-bit hash, not md5 of the row as text:
    md5 cost ~2.5 s a million rows, `hash` ~0.25 s; two different versions of one record
    colliding is a 1 in 2^64 chance."""
    row = ", ".join(f"CAST({name} AS {kind})" for name, kind in typed)
    return f"hash(ROW({row}))"


STAGE_PREFIX = "sanctuarywatch-stage-"


def _scratch_folder(con: duckdb.DuckDBPyConnection) -> str:
    """A folder for a load's staged batches, beside the warehouse where DuckDB spills (its
    temp_directory, `<file>.tmp`) so a full backfill (~70 MB a million rows) is not written
    to a /tmp that may be memory; the system's temp folder for a database in memory.

    Folders left by a killed load are removed here: only the process that holds the
    warehouse read-write can load, so another process's folder beside it is stale."""
    spill = Path(str(con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0]))
    if not spill.is_absolute():
        return tempfile.mkdtemp(prefix=f"{STAGE_PREFIX}{os.getpid()}-")
    spill.mkdir(parents=True, exist_ok=True)
    for folder in spill.glob(f"{STAGE_PREFIX}*"):
        if not folder.name.startswith(f"{STAGE_PREFIX}{os.getpid()}-"):
            shutil.rmtree(folder, ignore_errors=True)
    return tempfile.mkdtemp(prefix=f"{STAGE_PREFIX}{os.getpid()}-", dir=spill)


def _paths(files: Sequence[str]) -> str:
    return "[" + ", ".join(literal(f) for f in files) + "]"


def _unlink(files: Sequence[str]) -> None:
    for path in files:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def _same_key(con: duckdb.DuckDBPyConnection, table: str, key: Sequence[str]) -> str:
    """SQL matching a staged row `s` to a version `v` by key. `=` where the column cannot be
    NULL: DuckDB then skips the row groups of versions outside the slice's key range (an
    8M-row backfill scanned every version for every slice, three times); IS NOT DISTINCT
    FROM where it can, so a NULL key still finds its versions."""
    nullable = dict(
        con.execute(
            "SELECT column_name, is_nullable FROM duckdb_columns() WHERE table_name = ?",
            [f"{table}_versions"],
        ).fetchall()
    )
    return " AND ".join(
        f"v.{k} IS NOT DISTINCT FROM s.{k}" if nullable.get(k, True) else f"v.{k} = s.{k}"
        for k in key
    )


class Stage:
    """Rows of one run for one table, staged as Parquet files and merged into
    `<table>_versions` inside the run's transaction.

    Each batch (a page's records, or a Normaliser's pages) is written to a Parquet file of its
    own with its provenance and record hash. Staging never puts a row in a table: DuckDB keeps
    every row a transaction puts in any table, temp or not, until the commit, even once the
    table is emptied or dropped, so a staging table grew with the run (an 8M-row backfill ran
    out of memory). Once `FLUSH_ROWS` are staged they are merged as a slice: versions seen
    again or replaced are updated then; the new versions of all slices are inserted at the
    end in one statement, and go to the file as row groups fill. A slice is merged only
    before the next batch is staged (or by `merge`), so the last batch can still be read
    while the source's `advance` looks at it.

    A key staged again in a later slice with other values gets a version of its own, as a
    later run would give it; within a slice the latest observation wins. New versions go in
    unsorted: the sort ran out of memory in an 8M-row backfill however it was cut.
    """

    FLUSH_ROWS = 250_000

    def __init__(self, con: duckdb.DuckDBPyConnection, table: str, key: Sequence[str]) -> None:
        self.con, self.table, self.key = con, table, tuple(key)
        typed = fact_columns(con, table)
        self.columns = [name for name, _ in typed]
        # the record hash is computed as each batch is staged, over the values as the table
        # types them (so it equals the hash of the stored version), not in one pass at merge
        self.record_hash = record_hash_sql(typed)
        self.staged_columns = ", ".join(
            [f"CAST({name} AS {kind}) AS {name}" for name, kind in typed]
            + ["CAST(observed_at AS TIMESTAMPTZ) AS observed_at"]
            + [f"CAST({name} AS VARCHAR) AS {name}" for name in PROVENANCE_COLUMNS]
        )
        self.same_key = _same_key(con, table, self.key)
        self.counts = LoadCounts()
        self.folder = _scratch_folder(con)
        self._remove = weakref.finalize(self, shutil.rmtree, self.folder, ignore_errors=True)
        self.slice: list[str] = []  # batches staged since the last merged slice
        self.pending: list[str] = []  # merged slices whose new versions wait to be inserted
        self.staged = 0
        self.successors = 0  # versions closed whose successors wait in `pending`
        self.batches = 0

    @property
    def rows(self) -> int:
        """Rows staged in this run so far, merged or not."""
        return self.counts.seen

    def append(
        self,
        records: Sequence[dict[str, Any]] | pa.Table,
        constants: Mapping[str, Any] | None = None,
    ) -> None:
        """Stage records (dicts, or Arrow); `constants` are columns with one value for all."""
        if not len(records):
            return
        batch = arrow_batch(self.con, self.table, records, constants)  # noqa: F841 (read by DuckDB)
        path = self._next_batch()
        self.con.execute(
            f"COPY (SELECT {self.staged_columns}, {self.record_hash} AS record_hash FROM batch) "
            f"TO {literal(path)} {PARQUET}"
        )
        self._added(path, len(records))

    def append_pages(
        self,
        normaliser: Normaliser,
        files: Sequence[PageFile],
        by_file: Mapping[str, Mapping[str, Any]],
    ) -> PageTable:
        """Normalise page files straight into a staged batch, each row joined to its page
        file's constant columns (`by_file`: observed_at and provenance). The records never
        leave DuckDB, and are written once. The batch is returned for the source's `advance`."""
        path = self._next_batch()
        names = list(next(iter(by_file.values())))
        rows = ", ".join(
            "(" + ", ".join(f"$v{i}_{j}" for j in range(len(names) + 1)) + ")"
            for i in range(len(by_file))
        )
        params = {
            f"v{i}_{j}": value
            for i, (file, constants) in enumerate(by_file.items())
            for j, value in enumerate([file, *(constants[n] for n in names)])
        }

        def staged(normalised: str) -> str:
            return (
                f"SELECT *, {self.record_hash} AS record_hash FROM ({normalised}) "
                f"JOIN (VALUES {rows}) AS given(_file, {', '.join(names)}) USING (_file)"
            )

        batch = normaliser.copy(self.con, files, staged, path, params)
        self._added(path, len(batch))
        return batch

    def merge(self) -> LoadCounts:
        """Merge what is still staged; return what the run changed, all slices together."""
        self.flush()
        self._insert_pending()
        self._remove()
        return self.counts

    def flush(self) -> None:
        """Merge the staged slice: versions it observes again or replaces are updated now;
        its new versions wait for the run's one INSERT (see `_insert_pending`)."""
        if not self.slice:
            return
        files, self.slice, self.staged = self.slice, [], 0
        latest = self._latest_observations(files)
        if self.pending and self._meets_pending(latest):
            self._insert_pending()  # a key of this slice waits there: its version goes first
        self._update(f"read_parquet({_paths(latest)})")
        self.pending += self._new_versions(latest)

    def _next_batch(self) -> str:
        """A path for the next batch, once a full slice is merged. Named in staging order."""
        if self.staged >= self.FLUSH_ROWS:
            self.flush()
        self.batches += 1
        return os.path.join(self.folder, f"{self.batches:09d}.parquet")

    def _added(self, path: str, rows: int) -> None:
        self.slice.append(path)
        self.counts.seen += rows
        self.staged += rows

    def _latest_observations(self, files: list[str]) -> list[str]:
        """The slice's files, a key staged more than once keeping only its latest observation
        (the later batch, then the later row, on a tie). The check reads only the key
        columns; a window over every row is paid only when a key repeats (usually never)."""
        part = ", ".join(self.key)
        if not self._count(
            f"SELECT count(*) FROM (SELECT 1 FROM read_parquet({_paths(files)}) "
            f"GROUP BY {part} HAVING count(*) > 1)"
        ):
            return files
        return self._rewritten(
            files,
            f"SELECT * EXCLUDE (filename, file_row_number) FROM "
            f"read_parquet({_paths(files)}, filename = true, file_row_number = true) "
            f"QUALIFY row_number() OVER (PARTITION BY {part} "
            f"ORDER BY observed_at DESC, filename DESC, file_row_number DESC) = 1",
        )

    def _meets_pending(self, files: list[str]) -> bool:
        """Whether a key of this slice is among the new versions waiting to be inserted."""
        return bool(
            self._count(
                f"SELECT count(*) FROM read_parquet({_paths(self.pending)}) v "
                f"SEMI JOIN read_parquet({_paths(files)}) s ON {self.same_key}"
            )
        )

    def _new_versions(self, files: list[str]) -> list[str]:
        """The slice's rows that become versions: those whose key has no current version once
        `_update` has run. Usually all (a backfill: the files as they are) or few (an
        incremental run: copied out). Decided now, while the slice is small; a later slice
        that does not meet this one's keys cannot change the answer."""
        versions, staged = f"{self.table}_versions", f"read_parquet({_paths(files)})"
        if not self._count(
            f"SELECT count(*) FROM {versions} v SEMI JOIN {staged} s ON {self.same_key} "
            f"WHERE v.valid_to IS NULL"
        ):
            return files
        return self._rewritten(
            files,
            f"SELECT * FROM {staged} s WHERE NOT EXISTS (SELECT 1 FROM {versions} v "
            f"WHERE {self.same_key} AND v.valid_to IS NULL)",
        )

    def _rewritten(self, files: list[str], query: str) -> list[str]:
        """The slice's files replaced by one holding `query`'s rows (a subset of theirs)."""
        path = self._next_batch()
        self.con.execute(f"COPY ({query}) TO {literal(path)} {PARQUET}")
        _unlink(files)
        return [path]

    def _update(self, staged: str) -> None:
        """Versions observed again get their last observation; versions a newer observation
        replaces are closed (their successors are inserted by `_insert_pending`)."""
        on = self.same_key
        versions = f"{self.table}_versions"
        self.counts.unchanged += self._count(
            f"UPDATE {versions} v SET last_observed_at = greatest(v.last_observed_at, "
            f"s.observed_at) "
            f"FROM {staged} s WHERE {on} AND v.valid_to IS NULL AND v.record_hash = s.record_hash"
        )
        closed = self._count(
            f"UPDATE {versions} v SET valid_to = s.observed_at FROM {staged} s "
            f"WHERE {on} AND v.valid_to IS NULL AND v.record_hash <> s.record_hash "
            f"AND s.observed_at > v.valid_from"
        )
        self.counts.changed += closed
        self.successors += closed

    def _insert_pending(self) -> None:
        """Insert the new versions of the slices merged so far.

        One INSERT for the run, not one a slice: each parallel INSERT leaves part-filled row
        groups that the next checkpoint rewrites (1M rows in four INSERTs: 2.3 s, then a
        2.3 s checkpoint; in one: 2.4 s and no rewrite). `flush` inserts early when a slice
        meets a waiting key, so its versions are in the table before it is merged.
        """
        if not self.pending:
            return
        files, self.pending = self.pending, []
        cols = ", ".join(self.columns)
        try:
            inserted = self._count(
                f"INSERT INTO {self.table}_versions ({cols}, record_hash, valid_from, valid_to, "
                f"first_observed_at, last_observed_at, {', '.join(PROVENANCE_COLUMNS)}) "
                f"SELECT {cols}, record_hash, observed_at, NULL, observed_at, observed_at, "
                f"{', '.join(PROVENANCE_COLUMNS)} FROM read_parquet({_paths(files)})"
            )
        finally:
            _unlink(files)
        self.counts.new += inserted - self.successors  # a closed version's successor: changed
        self.successors = 0

    def _count(self, sql: str) -> int:
        """A statement's one number: the rows an UPDATE or INSERT touched, or a count."""
        row = self.con.execute(sql).fetchone()
        return int(row[0]) if row else 0
