"""The lake (`sanctuarywatch export --lake DIR`): every `_versions` table as Hive-partitioned
Parquet, read back with DuckDB equal to the warehouse: every version, the current rows and
the rows as of a time, with the warehouse's columns and types."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from sanctuarywatch.cli import main
from sanctuarywatch.load import warehouse
from sanctuarywatch.load.archive import Archive
from sanctuarywatch.present import demo, lake


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "warehouse.duckdb"
    con = warehouse.connect(path)
    demo.run(con, Archive(path.parent / "raw"))
    con.close()
    return path


def read_back(folder: Path, db: Path) -> duckdb.DuckDBPyConnection:
    """A fresh DuckDB with the lake's views (views.sql), and the warehouse attached as w."""
    reader = duckdb.connect()
    lake.read_lake(reader, folder)
    reader.execute(f"ATTACH '{db}' AS w (READ_ONLY)")
    return reader


def differ(con: duckdb.DuckDBPyConnection, a: str, b: str) -> int:
    """Rows in one relation and not the other, either way (duplicates count)."""
    row = con.execute(
        f"SELECT (SELECT count(*) FROM ({a} EXCEPT ALL {b})) "
        f"+ (SELECT count(*) FROM ({b} EXCEPT ALL {a}))"
    ).fetchone()
    return int(row[0]) if row else -1


def test_the_lake_read_back_equals_the_warehouse(demo_db: Path, tmp_path: Path) -> None:
    con = warehouse.connect(demo_db, read_only=True)
    try:
        tables = warehouse.versioned_tables(con)
        written = lake.export_lake(con, tmp_path / "lake")
    finally:
        con.close()
    reader = read_back(tmp_path / "lake", demo_db)
    assert sorted(written) == tables
    assert written["il_chicago_crimes"] == 8922
    for table in tables:
        newest = reader.execute(f"SELECT max(valid_from) FROM w.{table}_versions").fetchone()
        at = newest[0] if newest and newest[0] else "2026-01-01"
        for face in (f"{table}_versions", table, f"{table}_as_of('{at}')"):
            assert differ(reader, f"SELECT * FROM {face}", f"SELECT * FROM w.{face}") == 0, face
        shape = "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {}_versions)"
        lake_shape = reader.execute(shape.format(table)).fetchall()
        assert lake_shape == reader.execute(shape.format(f"w.{table}")).fetchall()


def test_folders_are_source_and_year_for_any_hive_reader(demo_db: Path, tmp_path: Path) -> None:
    con = warehouse.connect(demo_db, read_only=True)
    try:
        lake.export_lake(con, tmp_path / "lake")
        years = con.execute(
            "SELECT DISTINCT year(valid_from AT TIME ZONE 'UTC') FROM il_chicago_crimes_versions"
        ).fetchall()
    finally:
        con.close()
    table = tmp_path / "lake" / "il_chicago_crimes"
    assert sorted(p.relative_to(table).as_posix() for p in table.glob("*/*")) == [
        f"source=il_chicago_crimes/valid_from_year={year}" for (year,) in sorted(years)
    ]
    plain = duckdb.connect()  # no views: how Spark or Trino see it, partitions from the folders
    found = plain.execute(
        "SELECT source, valid_from_year, count(*) FROM read_parquet(?, hive_partitioning = true) "
        "GROUP BY ALL",
        [str(table / "*" / "*" / "*.parquet")],
    ).fetchall()
    assert found == [("il_chicago_crimes", years[0][0], 8922)]
    assert not (tmp_path / "lake" / "il_chicago_violence_victims").exists()  # no rows, no folder


def test_export_again_replaces_every_table(demo_db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "lake"
    (folder / "il_chicago_crimes" / "source=gone" / "valid_from_year=1999").mkdir(parents=True)
    assert main(["--db", str(demo_db), "export", "--lake", str(folder)]) == 0
    assert main(["--db", str(demo_db), "export", "--lake", str(folder)]) == 0
    assert not (folder / "il_chicago_crimes" / "source=gone").exists()
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # nothing half-swapped
    reader = read_back(folder, demo_db)
    rows = "SELECT * FROM il_chicago_crimes_versions"
    assert differ(reader, rows, rows.replace("FROM ", "FROM w.")) == 0
