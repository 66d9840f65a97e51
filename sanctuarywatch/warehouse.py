"""The DuckDB warehouse: opening it, migrating it, and the one writer of fact rows.

Schema lives in numbered SQL files (`warehouse/NNN_name.sql`), applied in order and recorded
in `schema_version`. Every fact table is versioned the same way, so the warehouse can answer
"what did the data say on 2017-08-16?":

    <name>_versions      every version of every record ever observed, with
                         valid_from/valid_to (when this version was current), first/last
                         observed times, and the source URL, raw sha256 and run behind it
    <name>               view: the current version of each record
    <name>_as_of(ts)     table macro: the version current at time ts

Files are created with a storage compatibility version that the duckdb CLI on PyPI (1.5.x)
can open, because SQL users reach for that tool first.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from .errors import ConfigError
from .sqlnorm import PageTable, literal

if TYPE_CHECKING:  # imported where Arrow is made (see sqlnorm)
    import pyarrow as pa

DEFAULT_DB = Path("warehouse") / "sanctuarywatch.duckdb"
DB_ENV = "SANCTUARYWATCH_DB"
STORAGE_COMPATIBILITY = "v1.5.0"
VERSION_COLUMNS = (
    "record_hash",
    "valid_from",
    "valid_to",
    "first_observed_at",
    "last_observed_at",
)
PROVENANCE_COLUMNS = ("source", "source_url", "raw_sha256", "run_id")
SQL_FILE = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


def db_path(option: str | os.PathLike[str] | None = None) -> Path:
    """Where the warehouse lives: the option, else $SANCTUARYWATCH_DB, else warehouse/."""
    chosen = option or os.environ.get(DB_ENV) or DEFAULT_DB
    return Path(chosen)


def schema_dir() -> Path:
    """The numbered SQL files: inside the installed wheel, or warehouse/ in a checkout."""
    packaged = Path(str(resources.files("sanctuarywatch") / "_warehouse"))
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / "warehouse"
    if checkout.is_dir():
        return checkout
    raise ConfigError("sanctuarywatch package", "schema files not found (broken install?)")


def connect(
    path: str | os.PathLike[str] | None = None, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """Open (creating and migrating if needed) the warehouse; ':memory:' for tests."""
    target = ":memory:" if str(path) == ":memory:" else str(db_path(path))
    if target != ":memory:" and not read_only:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {}
    if not read_only:
        config["storage_compatibility_version"] = STORAGE_COMPATIBILITY
    try:
        con = duckdb.connect(target, read_only=read_only, config=config)
    except duckdb.IOException as exc:
        raise ConfigError(target, f"cannot open the warehouse: {exc}") from None
    con.execute("SET enable_progress_bar = false")  # it would print into logs and pipes
    if not read_only:
        migrate(con)
    return con


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply every numbered SQL file not yet applied; return the versions applied now."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version "
        "(version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMPTZ DEFAULT now())"
    )
    done = {row[0] for row in con.execute("SELECT version FROM schema_version").fetchall()}
    applied = []
    for path in sorted(schema_dir().glob("*.sql")):
        match = SQL_FILE.match(path.name)
        if not match or int(match.group(1)) in done:
            continue
        con.execute("BEGIN")
        try:
            con.execute(path.read_text(encoding="utf-8"))
            con.execute(
                "INSERT INTO schema_version (version, name) VALUES (?, ?)",
                [int(match.group(1)), path.name],
            )
            _create_version_views(con)
            con.execute("COMMIT")
        except duckdb.Error as exc:
            con.execute("ROLLBACK")
            raise ConfigError(str(path), f"schema file failed: {exc}") from None
        applied.append(int(match.group(1)))
    return applied


def _create_version_views(con: duckdb.DuckDBPyConnection) -> None:
    for name in versioned_tables(con):
        con.execute(
            f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM {name}_versions WHERE valid_to IS NULL"
        )
        con.execute(
            f"CREATE OR REPLACE MACRO {name}_as_of(ts) AS TABLE "
            f"SELECT * FROM {name}_versions WHERE valid_from <= CAST(ts AS TIMESTAMPTZ) "
            f"AND (valid_to IS NULL OR valid_to > CAST(ts AS TIMESTAMPTZ))"
        )


def versioned_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Base names of every versioned fact table (`<name>_versions`)."""
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '%\\_versions' ESCAPE '\\' "
        "AND NOT temporary ORDER BY 1"
    ).fetchall()
    return [row[0].removesuffix("_versions") for row in rows]


@dataclass
class LoadCounts:
    """What one load did to one table."""

    seen: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0

    @property
    def written(self) -> int:
        return self.new + self.changed

    def add(self, other: LoadCounts) -> None:
        self.seen += other.seen
        self.new += other.new
        self.changed += other.changed
        self.unchanged += other.unchanged


def _arrow_type(kind: str) -> pa.DataType:
    """The Arrow type a SQL column type is staged as (text for any other)."""
    import pyarrow as pa

    types = {
        "BIGINT": pa.int64(),
        "INTEGER": pa.int32(),
        "DOUBLE": pa.float64(),
        "BOOLEAN": pa.bool_(),
        "DATE": pa.date32(),
        "TIMESTAMP": pa.timestamp("us"),
        "TIMESTAMP WITH TIME ZONE": pa.timestamp("us", tz="UTC"),
    }
    return types.get(kind, pa.string())


def fact_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    """(name, type) of a versioned table's own columns, without versioning columns."""
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE table_name = ? ORDER BY column_index",
        [f"{table}_versions"],
    ).fetchall()
    if not rows:
        raise ConfigError(table, "no such versioned table in the warehouse schema")
    skip = set(VERSION_COLUMNS) | set(PROVENANCE_COLUMNS)
    return [(name, kind) for name, kind in rows if name not in skip]


def arrow_batch(
    con: duckdb.DuckDBPyConnection,
    table: str,
    records: Sequence[dict[str, Any]] | pa.Table,
    constants: Mapping[str, Any] | None = None,
) -> pa.Table:
    """Records as an Arrow table typed by the SQL schema (the schema is the one truth).

    `constants` (observed_at and provenance, the same for every row of a page) become
    repeated Arrow columns instead of being copied into each record: one dict less per row.
    """
    import pyarrow as pa

    columns = fact_columns(con, table)
    fields = [pa.field(name, _arrow_type(kind)) for name, kind in columns]
    fields += [pa.field("observed_at", pa.timestamp("us", tz="UTC"))]
    fields += [pa.field(name, pa.string()) for name in PROVENANCE_COLUMNS]
    constants = constants or {}
    rows = pa.schema([f for f in fields if f.name not in constants])
    if isinstance(records, pa.Table):  # normalised in DuckDB already: just order and type it
        batch = records.select(rows.names).cast(rows)
    else:
        batch = pa.Table.from_pylist(list(records), schema=rows)
    for f in fields:
        if f.name in constants:
            batch = batch.append_column(
                f, pa.repeat(pa.scalar(constants[f.name], f.type), len(records))
            )
    return batch


class Stage:
    """Rows of one run for one table, staged and merged into `<table>_versions` a slice at a
    time, inside the run's transaction.

    Pages are appended as they arrive (through Arrow, never executemany, or straight from a
    Normaliser's table). Once `FLUSH_ROWS` are staged they are merged and the stage starts
    empty again. The stage lives in a scratch connection of its own that commits statement by
    statement, and reaches the run's transaction as a Parquet file: DuckDB keeps every row a
    transaction puts in any table, temp or not, until the commit, even once the table is
    emptied or dropped, so a stage inside the transaction grew with the run and a 100 MB load
    ran out of memory part-way through an 8M-row backfill. Rows a transaction adds to the
    versions table go to the file as row groups fill (BENCHMARKS.md).

    A key staged again in a later slice with other values gets a version of its own, as a
    later run would give it; within a slice the latest observation wins. New versions go in
    unsorted: the sort ran out of memory in an 8M-row backfill however it was cut.
    """

    FLUSH_ROWS = 50_000

    def __init__(self, con: duckdb.DuckDBPyConnection, table: str, key: Sequence[str]) -> None:
        self.con, self.table, self.key = con, table, tuple(key)
        self.scratch = con.cursor()
        zone = con.execute("SELECT current_setting('TimeZone')").fetchall()[0][0]
        self.scratch.execute(f"SET TimeZone = {literal(zone)}")  # record hashes spell out instants
        typed = fact_columns(con, table)
        self.columns = [name for name, _ in typed]
        # the record hash is computed as each page is staged, over the values as the table
        # types them (so it equals the hash of the stored version), not in one pass at merge
        row = ", ".join(f"CAST({name} AS {kind})" for name, kind in typed)
        self.record_hash = f"md5(CAST(ROW({row}) AS VARCHAR))"
        self.name = f"stage_{table}"
        self.counts = LoadCounts()
        self.staged = 0
        self._empty()

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
        self.scratch.execute(
            f"INSERT INTO {self.name} BY NAME "
            f"SELECT *, {self.record_hash} AS record_hash FROM batch"
        )
        self._added(len(records))

    def append_pages(self, pages: PageTable, by_file: Mapping[str, Mapping[str, Any]]) -> None:
        """Stage pages a Normaliser left in a temp table of `self.scratch`, copied inside
        DuckDB (no Arrow hop); `by_file` gives each page file's constant columns (observed_at
        and provenance), joined on the table's `_file` column."""
        if not len(pages) or not by_file:
            return
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
        selected = ", ".join([*self.columns, *names, f"{self.record_hash} AS record_hash"])
        self.scratch.execute(
            f"INSERT INTO {self.name} BY NAME SELECT {selected} FROM {pages.name} "
            f"JOIN (VALUES {rows}) AS given(_file, {', '.join(names)}) USING (_file)",
            params,
        )
        self._added(len(pages))

    def merge(self) -> LoadCounts:
        """Merge what is still staged; return what the run changed, all slices together."""
        self.flush()
        self.scratch.close()
        return self.counts

    def flush(self) -> None:
        """Upsert the staged rows as versions and empty the stage. Idempotent for equal input."""
        if not self.staged:
            return
        self._keep_latest_observations()
        handle, path = tempfile.mkstemp(suffix=".parquet", prefix="sanctuarywatch-stage-")
        os.close(handle)
        try:
            self.scratch.execute(
                f"COPY {self.name} TO {literal(path)} (FORMAT parquet, COMPRESSION uncompressed)"
            )
            self._upsert(f"read_parquet({literal(path)})")
        finally:
            os.unlink(path)
        self._empty()

    def _upsert(self, staged: str) -> None:
        cols = ", ".join(self.columns)
        on = " AND ".join(f"v.{k} IS NOT DISTINCT FROM s.{k}" for k in self.key)
        versions = f"{self.table}_versions"
        self.counts.unchanged += self._count(
            f"UPDATE {versions} v SET last_observed_at = greatest(v.last_observed_at, s.observed_at) "
            f"FROM {staged} s WHERE {on} AND v.valid_to IS NULL AND v.record_hash = s.record_hash"
        )
        changed = self._count(
            f"UPDATE {versions} v SET valid_to = s.observed_at FROM {staged} s "
            f"WHERE {on} AND v.valid_to IS NULL AND v.record_hash <> s.record_hash "
            f"AND s.observed_at > v.valid_from"
        )
        inserted = self._count(
            f"INSERT INTO {versions} ({cols}, record_hash, valid_from, valid_to, "
            f"first_observed_at, last_observed_at, {', '.join(PROVENANCE_COLUMNS)}) "
            f"SELECT {cols}, record_hash, observed_at, NULL, observed_at, observed_at, "
            f"{', '.join(PROVENANCE_COLUMNS)} FROM {staged} s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {versions} v WHERE {on} AND v.valid_to IS NULL)"
        )
        self.counts.changed += changed
        self.counts.new += inserted - changed

    def _added(self, rows: int) -> None:
        self.counts.seen += rows
        self.staged += rows
        if self.staged >= self.FLUSH_ROWS:
            self.flush()

    def _empty(self) -> None:
        self.scratch.execute(
            f"CREATE OR REPLACE TEMP TABLE {self.name} AS SELECT {', '.join(self.columns)}, "
            f"CAST(NULL AS TIMESTAMPTZ) AS observed_at, "
            f"{', '.join(f'CAST(NULL AS VARCHAR) AS {c}' for c in PROVENANCE_COLUMNS)}, "
            f"record_hash FROM {self.table}_versions LIMIT 0"
        )
        self.staged = 0

    def _keep_latest_observations(self) -> None:
        """A key staged more than once in a slice keeps only its latest observation. Only the
        repeated keys are sorted (usually none): a window over every staged row needed the
        whole run in memory and failed at 8 million rows under the load's memory limit."""
        part = ", ".join(self.key)
        on = " AND ".join(f"s.{k} IS NOT DISTINCT FROM d.{k}" for k in self.key)
        self.scratch.execute(
            f"DELETE FROM {self.name} WHERE rowid IN ("
            f"SELECT s.rowid FROM {self.name} s SEMI JOIN "
            f"(SELECT {part} FROM {self.name} GROUP BY {part} HAVING count(*) > 1) d ON {on} "
            f"QUALIFY row_number() OVER (PARTITION BY {', '.join(f's.{k}' for k in self.key)} "
            f"ORDER BY s.observed_at DESC, s.rowid DESC) > 1)"
        )

    def _count(self, sql: str) -> int:
        row = self.con.execute(sql).fetchone()
        return int(row[0]) if row else 0
