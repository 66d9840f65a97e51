"""The DuckDB warehouse: opening it, migrating it, and the one writer of fact rows.

Tables live in numbered SQL files (`warehouse/NNN_name.sql`), applied once, in order, and
recorded in `schema_version`; views and macros in `warehouse/views/` (one file per family,
each defined once), re-applied whenever they change. Every fact table is versioned the same
way, so the warehouse can answer "what did the data say on 2017-08-16?":

    <name>_versions      every version of every record ever observed, with
                         valid_from/valid_to (when this version was current), first/last
                         observed times, and the source URL, raw sha256 and run behind it
    <name>               view: the current version of each record
    <name>_as_of(ts)     table macro: the version current at time ts

Files are created with a storage compatibility version that the duckdb CLI on PyPI (1.5.x)
can open, because SQL users reach for that tool first.
"""

from __future__ import annotations

import hashlib
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from sanctuarywatch.errors import ConfigError
from sanctuarywatch.load.columns import (
    PROVENANCE_COLUMNS,
    VERSION_COLUMNS,
    LoadCounts,
    arrow_batch,
    fact_columns,
    versioned_columns,
    versioned_tables,
)
from sanctuarywatch.load.stage import STAGE_PREFIX, Stage, record_hash_sql

__all__ = [  # the columns and the stage are re-exported: `warehouse.Stage` and the rest
    "PROVENANCE_COLUMNS",
    "STAGE_PREFIX",
    "VERSION_COLUMNS",
    "LoadCounts",
    "Stage",
    "arrow_batch",
    "connect",
    "db_path",
    "fact_columns",
    "migrate",
    "schema_dir",
    "versioned_columns",
    "versioned_tables",
]

DEFAULT_DB = Path("warehouse") / "sanctuarywatch.duckdb"
DB_ENV = "SANCTUARYWATCH_DB"
STORAGE_COMPATIBILITY = "v1.5.0"
SQL_FILE = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


def db_path(option: str | os.PathLike[str] | None = None) -> Path:
    """Where the warehouse lives: the option, else $SANCTUARYWATCH_DB, else warehouse/."""
    chosen = option or os.environ.get(DB_ENV) or DEFAULT_DB
    return Path(chosen)


def schema_dir() -> Path:
    """The SQL files (numbered, and views/): inside the installed wheel, or warehouse/ in a
    checkout."""
    packaged = Path(str(resources.files("sanctuarywatch") / "_warehouse"))
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "warehouse"
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
    if _rehash(con):  # views bound to the old column type are made again
        _create_version_views(con)
        con.execute("DROP TABLE IF EXISTS schema_views")
    _apply_views(con)
    return applied


def _apply_views(con: duckdb.DuckDBPyConnection) -> None:
    """Views and macros (warehouse/views/*.sql, in name order): each defined once, in one
    file per family, and re-applied whenever those files change. They hold no data, so unlike
    tables they need no numbered history; a warehouse of any age gets today's definitions."""
    files = sorted((schema_dir() / "views").glob("*.sql"))
    texts = [path.read_text(encoding="utf-8") for path in files]
    digest = hashlib.sha256("\0".join(texts).encode()).hexdigest()
    con.execute("CREATE TABLE IF NOT EXISTS schema_views (sha256 VARCHAR, applied_at TIMESTAMPTZ)")
    row = con.execute("SELECT sha256 FROM schema_views").fetchone()
    if row and row[0] == digest:
        return
    con.execute("BEGIN")
    try:
        for path, text in zip(files, texts, strict=True):
            try:
                con.execute(text)
            except duckdb.Error as exc:
                raise ConfigError(str(path), f"view file failed: {exc}") from None
        con.execute("DELETE FROM schema_views")
        con.execute("INSERT INTO schema_views VALUES (?, now())", [digest])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


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


def hash_scheme() -> str:
    """What the stored record hashes were computed with. DuckDB does not promise that `hash`
    gives the same value in another version, so the version is part of the scheme."""
    return f"hash(ROW(typed values)) on DuckDB {duckdb.__version__}"


def _rehash(con: duckdb.DuckDBPyConnection) -> bool:
    """Re-compute stored record hashes when the scheme changed (a new DuckDB, or a warehouse
    from when hashes were md5 text), and type as UBIGINT the hash of a table a numbered file
    made with the old VARCHAR column: otherwise every record would look changed on its next
    load and get a spurious new version. One transaction; ~0.3 s a million rows."""
    con.execute("CREATE TABLE IF NOT EXISTS schema_record_hash (scheme VARCHAR)")
    row = con.execute("SELECT scheme FROM schema_record_hash").fetchone()
    current = bool(row) and row[0] == hash_scheme()  # type: ignore[index]
    stale = [t for t in versioned_tables(con) if not current or not _typed_as_hash(con, t)]
    if not stale and current:
        return False
    con.execute("BEGIN")
    try:
        for table in stale:
            _rehash_table(con, table)
        con.execute("DELETE FROM schema_record_hash")
        con.execute("INSERT INTO schema_record_hash VALUES (?)", [hash_scheme()])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return bool(stale)


def _typed_as_hash(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return dict(versioned_columns(con, table))["record_hash"] == "UBIGINT"


def _rehash_table(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Type the column, then fill it. Not one `ALTER ... USING hash(...)`: DuckDB logs that
    expression in the write-ahead log, and replaying it after a crash (before a checkpoint)
    asks to install the extension `hash` lives in, which fails offline."""
    versions, hashed = f"{table}_versions", record_hash_sql(fact_columns(con, table))
    if not _typed_as_hash(con, table):
        con.execute(f"ALTER TABLE {versions} ALTER record_hash SET DATA TYPE UBIGINT USING 0")
    con.execute(f"UPDATE {versions} SET record_hash = {hashed}")
