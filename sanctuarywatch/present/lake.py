"""The warehouse's facts as a lake: every `<name>_versions` table as Hive-partitioned Parquet.

`sanctuarywatch export --lake DIR` writes, for each versioned table,

    DIR/<name>/source=<slug>/valid_from_year=<YYYY>/data_0.parquet
    DIR/views.sql       the warehouse's three faces of each table, as DuckDB SQL over the files
    DIR/_lake.json      tables, row counts, columns and types (an empty table has no folder)

so Spark, Trino or DuckDB on another machine read the same facts without the DuckDB file
(which one process writes at a time). The year is the UTC year of `valid_from`, when the
version became current: every table has it (the event columns differ per table), a version
never moves to another year, and an as-of question (`valid_from <= ts`) reads only the
years up to ts. It is named `valid_from_year` because a table may have a `year` column of
its own (il_chicago_crimes). The files hold every column but the two partition columns,
which readers take from the folder names.

The other two faces are queries over `<name>_versions` (`views.sql` defines them so):

    current    SELECT * FROM <name>_versions WHERE valid_to IS NULL
    as of ts   SELECT * FROM <name>_versions WHERE valid_from <= ts
                 AND (valid_to IS NULL OR valid_to > ts)
               (add `AND valid_from_year <= year(ts)` where the reader prunes by folder)

Each table is written beside the old one and swapped in by two renames, so a reader sees
the whole old table or the whole new one (or, between the renames, none).
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from sanctuarywatch.errors import ConfigError
from sanctuarywatch.load import warehouse
from sanctuarywatch.load.sqlnorm import literal
from sanctuarywatch.load.warehouse import versioned_tables

PARTITIONS = ("source", "valid_from_year")


def export_lake(con: duckdb.DuckDBPyConnection, folder: str | Path) -> dict[str, int]:
    """Write every versioned table under `folder`; return rows written per table."""
    root = Path(folder)
    if root.exists() and not root.is_dir():
        raise ConfigError(str(root), "is a file; --lake expects a folder")
    root.mkdir(parents=True, exist_ok=True)
    written = {name: _write_table(con, root, name) for name in versioned_tables(con)}
    schemas = {name: warehouse.versioned_columns(con, name) for name in written}
    (root / "views.sql").write_text(views_sql(schemas, written), encoding="utf-8")
    (root / "_lake.json").write_text(_manifest(schemas, written), encoding="utf-8")
    return written


def _write_table(con: duckdb.DuckDBPyConnection, root: Path, name: str) -> int:
    """COPY one table to a fresh folder beside the old one, then swap the two."""
    target, fresh, old = root / name, root / f".{name}.new", root / f".{name}.old"
    for leftover in (fresh, old):
        shutil.rmtree(leftover, ignore_errors=True)
    rows = _count(con, f"{name}_versions")
    if rows:
        year = "year(valid_from AT TIME ZONE 'UTC')"
        query = f"SELECT *, {year} AS valid_from_year FROM {name}_versions"
        con.execute(
            f"COPY ({query}) TO {literal(str(fresh))} "
            f"(FORMAT parquet, COMPRESSION zstd, PARTITION_BY ({', '.join(PARTITIONS)}))"
        )
    if target.exists():
        target.rename(old)
    if rows:
        fresh.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    return rows


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0


def views_sql(schemas: dict[str, list[tuple[str, str]]], rows: dict[str, int]) -> str:
    """DuckDB statements that give each table its warehouse faces over the lake's files:
    `<name>_versions` (columns in the warehouse's order and types), `<name>` and
    `<name>_as_of(ts)`. Paths are relative: run it from the lake folder, or first
    `SET file_search_path = '<lake folder>'`."""
    lines = [
        "-- sanctuarywatch lake: the warehouse's views over the Parquet files (DuckDB SQL).",
        "-- From the lake folder: duckdb -init views.sql (or SET file_search_path first).",
    ]
    for name, columns in schemas.items():
        lines.append(f"CREATE OR REPLACE VIEW {name}_versions AS {_versions(name, columns, rows)};")
        lines.append(
            f"CREATE OR REPLACE VIEW {name} AS "
            f"SELECT * FROM {name}_versions WHERE valid_to IS NULL;"
        )
        lines.append(
            f"CREATE OR REPLACE MACRO {name}_as_of(ts) AS TABLE SELECT * FROM {name}_versions "
            "WHERE valid_from <= CAST(ts AS TIMESTAMPTZ) "
            "AND (valid_to IS NULL OR valid_to > CAST(ts AS TIMESTAMPTZ));"
        )
    return "\n".join(lines) + "\n"


def _versions(name: str, columns: list[tuple[str, str]], rows: dict[str, int]) -> str:
    if not rows.get(name):  # no files to read: an empty relation of the same shape
        typed = ", ".join(f'CAST(NULL AS {kind}) AS "{column}"' for column, kind in columns)
        return f"SELECT {typed} WHERE false"
    listed = ", ".join(f'CAST("{column}" AS {kind}) AS "{column}"' for column, kind in columns)
    files = literal(f"{name}/*/*/*.parquet")
    return f"SELECT {listed} FROM read_parquet({files}, hive_partitioning = true)"


def _manifest(schemas: dict[str, list[tuple[str, str]]], rows: dict[str, int]) -> str:
    tables = {
        name: {"rows": rows[name], "columns": dict(columns)} for name, columns in schemas.items()
    }
    data = {
        "exported_at": datetime.now(UTC).isoformat(),
        "layout": "<table>/source=<slug>/valid_from_year=<UTC year of valid_from>/*.parquet",
        "partitions": list(PARTITIONS),
        "tables": tables,
    }
    return json.dumps(data, indent=1)


def read_lake(con: duckdb.DuckDBPyConnection, folder: str | Path) -> None:
    """Define the lake's views (views.sql) in `con`, reading the files under `folder`."""
    root = Path(folder)
    con.execute(f"SET file_search_path = {literal(str(root.resolve()))}")
    con.execute((root / "views.sql").read_text(encoding="utf-8"))
