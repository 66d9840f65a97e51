"""The exports on the bundled data: CSV, Parquet and JSON files read back equal to the values
they were written from (compared with the helpers' own results, never typed in). The chart's
tests are in tests/test_chart.py."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from sanctuarywatch.errors import ConfigError
from sanctuarywatch.load import warehouse
from sanctuarywatch.load.archive import Archive
from sanctuarywatch.present import demo, export
from sanctuarywatch.query import helpers
from sanctuarywatch.query.claims import Evaluation, evaluate_all
from sanctuarywatch.scheduling import daemon

CHICAGO = "agency:ILCPD0000"
CUTOFF = date(2017, 8, 16)


@pytest.fixture(scope="module")
def demo_con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    con = warehouse.connect(":memory:")
    demo.run(con, Archive(tmp_path_factory.mktemp("archive")))
    yield con
    con.close()


@pytest.fixture(scope="module")
def ytd(demo_con: duckdb.DuckDBPyConnection) -> dict[str, helpers.Figure]:
    return helpers.ytd(demo_con, CHICAGO, "murder", CUTOFF)


@pytest.fixture(scope="module")
def evaluations(demo_con: duckdb.DuckDBPyConnection) -> list[Evaluation]:
    return evaluate_all(demo_con)


def _read(path: Path) -> list[tuple[object, ...]]:
    return duckdb.sql(f"SELECT * FROM '{path}'").fetchall()


# --- exports -----------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_ytd_round_trip(ytd: dict[str, helpers.Figure], tmp_path: Path, suffix: str) -> None:
    path = export.export(ytd, tmp_path / f"ytd.{suffix}")
    rows = duckdb.sql(f"SELECT name, label, value, evidence FROM '{path}'").fetchall()
    assert [(n, lab, v) for n, lab, v, _ in rows] == [
        (name, f.label, f.value) for name, f in ytd.items()
    ]
    assert json.loads(rows[0][3])[0]["sql"] == ytd["this_year"].evidence[0]["sql"]


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_single_figure_and_list(
    demo_con: duckdb.DuckDBPyConnection, tmp_path: Path, suffix: str
) -> None:
    people = helpers.population(demo_con, "place:1714000", 2017, 2017)
    export.export(people, tmp_path / f"one.{suffix}")
    assert _read(tmp_path / f"one.{suffix}")[0][2] == people.value
    pair = [people, helpers.population(demo_con, "county:12086", 2017, 2019)]
    export.export(pair, tmp_path / f"two.{suffix}")
    assert [r[2] for r in _read(tmp_path / f"two.{suffix}")] == [f.value for f in pair]


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_evaluations_round_trip(evaluations: list[Evaluation], tmp_path: Path, suffix: str) -> None:
    path = export.export(evaluations, tmp_path / f"ledger.{suffix}")
    rows = duckdb.sql(
        f"SELECT claim_id, verdict, said_on, \"values\", caveats FROM '{path}'"
    ).fetchall()
    assert [(r[0], r[1]) for r in rows] == [(ev.claim.id, ev.verdict) for ev in evaluations]
    assert [r[2] for r in rows] == [ev.claim.said_on for ev in evaluations]
    for row, ev in zip(rows, evaluations, strict=True):
        assert [v["value"] for v in json.loads(row[3])] == [
            f.value for check in ev.checks for f in check.figures
        ]
        assert [c["kind"] for c in json.loads(row[4])] == [c.kind for c in ev.caveats]


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_query_round_trip(demo_con: duckdb.DuckDBPyConnection, tmp_path: Path, suffix: str) -> None:
    sql = (
        "SELECT year, count(*) AS n FROM incident_events('infinity') "
        "WHERE jurisdiction_id = ? AND offense = ? GROUP BY year ORDER BY year;"
    )
    path = export.export_query(demo_con, sql, tmp_path / f"q.{suffix}", [CHICAGO, "murder"])
    assert _read(path) == demo_con.execute(sql, [CHICAGO, "murder"]).fetchall()


def test_a_query_exports_from_a_connection_without_file_access(tmp_path: Path) -> None:
    """The CLI runs the user's query with file access off (daemon.deny_files); the file is
    written from a private connection, and the query itself can still reach no file."""
    with duckdb.connect() as con:
        daemon.deny_files(con)
        path = export.export_query(con, "SELECT 42 AS n", tmp_path / "n.csv")
        assert path.read_text(encoding="utf-8").split() == ["n", "42"]
        with pytest.raises(duckdb.PermissionException):
            export.export_query(con, f"SELECT * FROM '{path}'", tmp_path / "again.csv")
        with pytest.raises(ConfigError, match="one SELECT"):
            export.export_query(con, "CREATE TABLE t AS SELECT 1", tmp_path / "t.csv")
    assert not (tmp_path / "again.csv").exists() and not (tmp_path / "t.csv").exists()


def test_to_arrow(ytd: dict[str, helpers.Figure], evaluations: list[Evaluation]) -> None:
    table = export.to_arrow(ytd)
    assert isinstance(table, pa.Table)
    assert table.column("value").to_pylist() == [f.value for f in ytd.values()]
    assert export.to_arrow(evaluations).num_rows == len(evaluations)
    assert export.to_arrow(evaluations[0]).column("claim_id").to_pylist() == [
        evaluations[0].claim.id
    ]
    assert export.to_arrow([]).num_rows == 0


def test_bad_format_and_type(ytd: dict[str, helpers.Figure], tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown export format 'xlsx'"):
        export.export(ytd, tmp_path / "sub" / "ytd.xlsx")
    assert not (tmp_path / "sub").exists()  # refused before anything is made
    with pytest.raises(ConfigError, match="is a folder"):
        export.export(ytd, tmp_path)
    with pytest.raises(TypeError, match="expected Figures"):
        export.to_arrow([1, 2])  # type: ignore[list-item]
    path = export.export(ytd, tmp_path / "ytd.data", fmt="parquet")
    assert path.read_bytes()[:4] == b"PAR1"


def test_path_with_quote(ytd: dict[str, helpers.Figure], tmp_path: Path) -> None:
    path = export.export(ytd, tmp_path / "it's.csv")
    assert len(path.read_text(encoding="utf-8").splitlines()) > len(ytd)


# --- JSON and DataFrames -----------------------------------------------------------------


def test_json_of_helpers_and_claims_is_their_to_dict(
    ytd: dict[str, helpers.Figure], evaluations: list[Evaluation], tmp_path: Path
) -> None:
    path = export.export(ytd, tmp_path / "ytd.json")
    assert json.loads(path.read_text(encoding="utf-8")) == {k: f.to_dict() for k, f in ytd.items()}
    path = export.export(evaluations, tmp_path / "ledger.json")
    assert json.loads(path.read_text(encoding="utf-8")) == [ev.to_dict() for ev in evaluations]
    one = export.export(evaluations[0], tmp_path / "one.data", fmt="json")
    assert json.loads(one.read_text(encoding="utf-8"))["claim"]["id"] == evaluations[0].claim.id


def test_query_to_json_is_an_array_of_rows(
    demo_con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    sql = "SELECT year, count(*) AS n FROM il_chicago_crimes GROUP BY year ORDER BY year"
    path = export.export_query(demo_con, sql, tmp_path / "q.json")
    rows = json.loads(path.read_text(encoding="utf-8"))
    assert [(r["year"], r["n"]) for r in rows] == demo_con.execute(sql).fetchall()


def test_dataframes_hold_the_arrow_rows(
    ytd: dict[str, helpers.Figure], evaluations: list[Evaluation]
) -> None:
    pytest.importorskip("pandas")
    pytest.importorskip("polars")
    frame = export.to_pandas(ytd)
    assert list(frame["value"]) == [f.value for f in ytd.values()]
    assert export.to_polars(evaluations)["claim_id"].to_list() == [
        ev.claim.id for ev in evaluations
    ]


@pytest.mark.parametrize("module", ["pandas", "polars"])
def test_a_missing_extra_is_named(
    module: str, ytd: dict[str, helpers.Figure], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # as if not installed: import fails
    convert = getattr(export, f"to_{module}")
    with pytest.raises(ImportError, match=rf"pip install 'sanctuarywatch\[{module}\]'"):
        convert(ytd)
    with pytest.raises(ConfigError):
        convert(ytd)
