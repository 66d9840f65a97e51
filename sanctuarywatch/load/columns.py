"""What every versioned fact table has in common: its columns, and how a load counts.

A fact table `<name>_versions` holds the record's own columns, then the versioning columns
and the provenance columns below; the SQL schema is the one truth about the record's columns
and their types, read here from DuckDB's catalogue rather than declared twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import duckdb

from sanctuarywatch.errors import ConfigError

if TYPE_CHECKING:  # imported where Arrow is made (see sqlnorm)
    import pyarrow as pa

VERSION_COLUMNS = (
    "record_hash",
    "valid_from",
    "valid_to",
    "first_observed_at",
    "last_observed_at",
)
PROVENANCE_COLUMNS = ("source", "source_url", "raw_sha256", "run_id")


def versioned_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Base names of every versioned fact table (`<name>_versions`)."""
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '%\\_versions' ESCAPE '\\' "
        "AND NOT temporary ORDER BY 1"
    ).fetchall()
    return [row[0].removesuffix("_versions") for row in rows]


def versioned_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    """(name, type) of every column of `<table>_versions`, in order."""
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE table_name = ? AND NOT internal ORDER BY column_index",
        [f"{table}_versions"],
    ).fetchall()
    return [(str(name), str(kind)) for name, kind in rows]


def fact_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    """(name, type) of a versioned table's own columns, without versioning columns."""
    rows = versioned_columns(con, table)
    if not rows:
        raise ConfigError(table, "no such versioned table in the warehouse schema")
    skip = set(VERSION_COLUMNS) | set(PROVENANCE_COLUMNS)
    return [(name, kind) for name, kind in rows if name not in skip]


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
