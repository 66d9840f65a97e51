"""The warehouse: migrations, the versioned writer, and files the duckdb 1.5 CLI can open."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from sanctuarywatch.load import warehouse
from sanctuarywatch.load.stage import Stage, _same_key

T1 = datetime(2026, 1, 1, tzinfo=UTC)
T2 = datetime(2026, 2, 1, tzinfo=UTC)
T3 = datetime(2026, 3, 1, tzinfo=UTC)


def _victim(id_: int, iucr: str, observed: datetime) -> dict[str, object]:
    return {
        "unique_id": str(id_),
        "victimization_primary": "HOMICIDE",
        "victimization_iucr_cd": iucr,
        "occurred_local": datetime(2017, 7, 1),
        "observed_at": observed,
        "source": "t",
        "source_url": f"http://127.0.0.1/{observed:%m}",
        "raw_sha256": "0" * 64,
        "run_id": "r",
    }


def _load(con: duckdb.DuckDBPyConnection, rows: list[dict[str, object]]) -> warehouse.LoadCounts:
    stage = Stage(con, "il_chicago_violence_victims", ("unique_id",))
    stage.append(rows)
    return stage.merge()


def test_migrations_are_recorded_and_applied_once(con: duckdb.DuckDBPyConnection) -> None:
    versions = [
        row[0] for row in con.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()
    ]
    files = sorted(int(p.name[:3]) for p in warehouse.schema_dir().glob("[0-9][0-9][0-9]_*.sql"))
    assert versions == files and 1 in versions
    assert warehouse.migrate(con) == []


def test_versions_observations_and_as_of(con: duckdb.DuckDBPyConnection) -> None:
    assert _load(con, [_victim(1, "0110", T1), _victim(2, "0110", T1)]).new == 2
    same = _load(con, [_victim(1, "0110", T2), _victim(2, "0110", T2)])
    assert (same.new, same.changed, same.unchanged) == (0, 0, 2)
    changed = _load(con, [_victim(1, "0130", T3)])
    assert (changed.new, changed.changed) == (0, 1)
    history = con.execute(
        "SELECT victimization_iucr_cd, valid_from, valid_to, first_observed_at, last_observed_at, "
        "source_url "
        "FROM il_chicago_violence_victims_versions WHERE unique_id = '1' ORDER BY valid_from"
    ).fetchall()
    assert history == [
        ("0110", T1, T3, T1, T2, "http://127.0.0.1/01"),  # where this version was first seen
        ("0130", T3, None, T3, T3, "http://127.0.0.1/03"),
    ]
    as_of = (
        "SELECT victimization_iucr_cd FROM il_chicago_violence_victims_as_of(?) WHERE "
        "unique_id = '1'"
    )
    assert con.execute(as_of, [datetime(2026, 2, 15, tzinfo=UTC)]).fetchall() == [("0110",)]
    assert con.execute(as_of, [T3]).fetchall() == [("0130",)]
    assert con.execute("SELECT count(*) FROM il_chicago_violence_victims").fetchone() == (2,)


def test_a_stale_observation_does_not_overwrite_a_newer_one(con: duckdb.DuckDBPyConnection) -> None:
    _load(con, [_victim(1, "0130", T2)])
    late = _load(con, [_victim(1, "0110", T1)])
    assert late.written == 0
    assert con.execute(
        "SELECT victimization_iucr_cd FROM il_chicago_violence_victims"
    ).fetchall() == [("0130",)]


def test_a_key_twice_in_one_load_keeps_the_newest(con: duckdb.DuckDBPyConnection) -> None:
    counts = _load(con, [_victim(1, "0110", T1), _victim(1, "0130", T2)])
    assert counts.new == 1
    assert con.execute(
        "SELECT victimization_iucr_cd FROM il_chicago_violence_victims"
    ).fetchall() == [("0130",)]


def test_a_key_again_in_a_later_slice_gets_a_version_of_its_own(
    con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Stage, "FLUSH_ROWS", 2)
    con.execute("BEGIN")
    stage = Stage(con, "il_chicago_violence_victims", ("unique_id",))
    stage.append([_victim(1, "0110", T1), _victim(2, "0110", T1)])  # a full slice: merged
    stage.append([_victim(1, "0130", T2)])
    counts = stage.merge()
    assert (counts.seen, counts.new, counts.changed) == (3, 2, 1)
    assert con.execute(
        "SELECT victimization_iucr_cd, valid_from, valid_to FROM "
        "il_chicago_violence_victims_versions "
        "WHERE unique_id = '1' ORDER BY valid_from"
    ).fetchall() == [("0110", T1, T2), ("0130", T2, None)]
    con.execute("ROLLBACK")  # slices merged before the end are still the run's, undone with it
    assert con.execute("SELECT count(*) FROM il_chicago_violence_victims_versions").fetchone() == (
        0,
    )


def test_a_file_backed_load_leaves_no_staged_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches are staged beside the warehouse (its spill folder, `<file>.tmp`), not in a /tmp
    that may be memory, and are gone once merged."""
    monkeypatch.setattr(Stage, "FLUSH_ROWS", 1)  # slices merged during the load as well
    db = tmp_path / "w.duckdb"
    con = warehouse.connect(db)
    stage = Stage(con, "il_chicago_violence_victims", ("unique_id",))
    for n in range(3):
        stage.append([_victim(n, "0110", T1)])
    spill = db.with_name(db.name + ".tmp")
    assert list(spill.glob(f"{warehouse.STAGE_PREFIX}*"))  # staged there while it loads
    assert stage.merge().new == 3
    assert not list(spill.glob(f"{warehouse.STAGE_PREFIX}*"))  # staged batches removed
    con.close()


def test_keys_that_cannot_be_null_are_matched_with_equals(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """`=` lets DuckDB skip versions outside a slice's keys; a nullable key needs IS NOT
    DISTINCT FROM, or a row with a NULL key would never find its version."""
    con.execute("CREATE TEMP TABLE t_versions (a INTEGER NOT NULL, b VARCHAR)")
    assert _same_key(con, "t", ["a", "b"]) == ("v.a = s.a AND v.b IS NOT DISTINCT FROM s.b")


def test_db_path_option_beats_environment_beats_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(warehouse.DB_ENV, raising=False)
    assert warehouse.db_path() == Path("warehouse/sanctuarywatch.duckdb")
    monkeypatch.setenv(warehouse.DB_ENV, "/tmp/env.duckdb")
    assert warehouse.db_path() == Path("/tmp/env.duckdb")
    assert warehouse.db_path("/tmp/opt.duckdb") == Path("/tmp/opt.duckdb")


def test_the_duckdb_cli_from_pypi_opens_the_file(tmp_path: Path) -> None:
    beside = Path(sys.executable).parent / "duckdb"  # the venv's bin, on PATH or not
    cli = str(beside) if beside.exists() else shutil.which("duckdb")
    assert cli, "the duckdb CLI (PyPI package duckdb-cli 1.5.x) is a test dependency"
    version = subprocess.run([cli, "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("v1.5"), version
    path = tmp_path / "w.duckdb"
    con = warehouse.connect(path)
    _load(con, [_victim(7, "0110", T1)])
    con.close()
    out = subprocess.run(
        [
            cli,
            "-readonly",
            "-csv",
            str(path),
            "-c",
            "SELECT unique_id, victimization_iucr_cd FROM il_chicago_violence_victims",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.splitlines() == ["unique_id,victimization_iucr_cd", "7,0110"]
