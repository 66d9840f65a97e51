"""The record hash (issue 21): DuckDB's 64-bit `hash` of a row's typed values, stored as
UBIGINT, re-computed when the scheme changes, so no record looks changed because of it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
from test_warehouse import _victim

from sanctuarywatch.load import warehouse
from sanctuarywatch.load.stage import Stage, record_hash_sql

TABLE = "il_chicago_violence_victims"
T1, T2, T3 = (datetime(2026, month, 1, tzinfo=UTC) for month in (1, 2, 3))
# the hash before issue 21: md5 of the row cast to text
OLD_HASH = "md5(CAST(ROW({row}) AS VARCHAR))"


def _load(db: Path, rows: list[dict[str, object]]) -> warehouse.LoadCounts:
    con = warehouse.connect(db)
    try:
        stage = Stage(con, TABLE, ("unique_id",))
        stage.append(rows)
        con.execute("BEGIN")
        counts = stage.merge()
        con.execute("COMMIT")
        return counts
    finally:
        con.close()


def _stored(db: Path) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db)) as con:
        return con.execute(
            f"SELECT unique_id, record_hash, valid_from, valid_to FROM {TABLE}_versions "
            "ORDER BY unique_id, valid_from"
        ).fetchall()


def test_the_hash_is_the_typed_row_and_equals_the_stored_version(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    _load(db, [_victim(1, "0110", T1)])
    with duckdb.connect(str(db)) as con:
        typed = warehouse.fact_columns(con, TABLE)
        kind, same = con.execute(
            f"SELECT typeof(record_hash), record_hash = {record_hash_sql(typed)} "
            f"FROM {TABLE}_versions"
        ).fetchone() or (None, None)
    assert (kind, same) == ("UBIGINT", True)


def test_a_warehouse_with_md5_text_hashes_is_rehashed_and_reloads_as_unchanged(
    tmp_path: Path,
) -> None:
    db = tmp_path / "w.duckdb"
    _load(db, [_victim(1, "0110", T1), _victim(2, "0110", T1)])
    with duckdb.connect(str(db)) as con:  # as a warehouse made before the change looked
        row = ", ".join(
            f"CAST({name} AS {kind})" for name, kind in warehouse.fact_columns(con, TABLE)
        )
        con.execute(
            f"ALTER TABLE {TABLE}_versions ALTER record_hash SET DATA TYPE VARCHAR "
            f"USING {OLD_HASH.format(row=row)}"
        )
        con.execute("DROP TABLE schema_record_hash")
    again = _load(db, [_victim(1, "0110", T2), _victim(2, "0130", T2)])
    assert (again.new, again.changed, again.unchanged) == (0, 1, 1)
    with duckdb.connect(str(db)) as con:
        assert con.execute(f"SELECT DISTINCT typeof(record_hash) FROM {TABLE}").fetchall() == [
            ("UBIGINT",)
        ]


def test_another_duckdb_version_rehashes_every_stored_version(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    _load(db, [_victim(1, "0110", T1)])
    _load(db, [_victim(1, "0130", T2)])
    before = _stored(db)
    with duckdb.connect(str(db)) as con:  # hashes from a DuckDB whose `hash` differed
        con.execute(f"UPDATE {TABLE}_versions SET record_hash = 0")
        con.execute("UPDATE schema_record_hash SET scheme = 'hash(...) on DuckDB 1.9.9'")
    warehouse.connect(db).close()
    assert _stored(db) == before  # the closed version re-hashed too
    assert _load(db, [_victim(1, "0130", T3)]).unchanged == 1


def test_a_table_a_later_file_makes_with_a_text_hash_is_typed_as_the_hash(
    tmp_path: Path,
) -> None:
    db = tmp_path / "w.duckdb"
    warehouse.connect(db).close()
    with duckdb.connect(str(db)) as con:
        con.execute(
            "CREATE TABLE extra_versions (k VARCHAR, v INTEGER, record_hash VARCHAR NOT NULL, "
            "valid_from TIMESTAMPTZ, valid_to TIMESTAMPTZ, first_observed_at TIMESTAMPTZ, "
            "last_observed_at TIMESTAMPTZ, source VARCHAR, source_url VARCHAR, "
            "raw_sha256 VARCHAR, run_id VARCHAR)"
        )
        con.execute("INSERT INTO extra_versions (k, v, record_hash) VALUES ('a', 1, 'x')")
    con = warehouse.connect(db)
    try:
        typed = warehouse.fact_columns(con, "extra")
        assert con.execute(
            f"SELECT typeof(record_hash), record_hash = {record_hash_sql(typed)} "
            "FROM extra_versions"
        ).fetchall() == [("UBIGINT", True)]
    finally:
        con.close()


def test_an_up_to_date_warehouse_is_not_rehashed(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    _load(db, [_victim(1, "0110", T1)])
    with duckdb.connect(str(db)) as con:
        con.execute(f"UPDATE {TABLE}_versions SET record_hash = 7")
    warehouse.connect(db).close()
    assert [row[1] for row in _stored(db)] == [7]
