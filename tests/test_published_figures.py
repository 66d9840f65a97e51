"""Published figures: the bundled file, a user's own file, and what breaks them; in the shape of
every source's tests: (a) parse field by field, (b) layout breaks, (c) no HTTP: the files are
read from disk, (d) idempotence."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from conftest import FIXTURES, collect_demo_twice, layout_break

from sanctuarywatch.collect.run import collect
from sanctuarywatch.errors import ConfigError, RecordError
from sanctuarywatch.http import Fetched, HttpClient
from sanctuarywatch.load.archive import Archive
from sanctuarywatch.sources import Options
from sanctuarywatch.sources import published_figures as src

USER_FILE = FIXTURES / src.SLUG / "user_figures_constructed.csv"
SHARED_COPY = Path(__file__).resolve().parents[2] / "shared" / "data" / "published_figures.csv"


def _load(con: duckdb.DuckDBPyConnection, archive: Archive, **extra: object) -> None:
    with HttpClient() as client:
        collect(con, archive, client, src.SLUG, Options(extra=dict(extra)))


def _value(con: duckdb.DuckDBPyConnection, figure_id: str) -> object:
    row = con.execute("SELECT value FROM published_figures WHERE figure_id = ?", [figure_id])
    return row.fetchone()


# --- (a) parse: the bundled file, field by field -------------------------------------------


def test_parse_one_figure_field_by_field() -> None:
    """Every field of the bundled file's first figure that fills every column, each expected
    value read from the file itself."""
    with src.bundled_path().open(newline="", encoding="utf-8") as handle:
        line = next(row for row in csv.DictReader(handle) if all(row.values()))
    page = src.read_file(src.bundled_path(), datetime(2026, 1, 1, tzinfo=UTC))
    records = src.normalize(src.parse(page, "figures"), "figures")["published_figures"]
    assert [r for r in records if r["figure_id"] == line["figure_id"]] == [
        {
            "figure_id": line["figure_id"],
            "jurisdiction": line["jurisdiction"],
            "reporting_body": line["reporting_body"],
            "measure": line["measure"],
            "period_start": datetime.fromisoformat(line["period_start"]),
            "period_end": datetime.fromisoformat(line["period_end"]),
            "value": float(line["value"]),
            "unit": line["unit"],
            "compared_to_period_start": datetime.fromisoformat(line["compared_to_period_start"]),
            "compared_to_period_end": datetime.fromisoformat(line["compared_to_period_end"]),
            "published_on": date.fromisoformat(line["published_on"]),
            "publication_url": line["source_url"],
            "note": line["note"],
        }
    ]


def test_bundled_file_is_the_shared_one() -> None:
    if SHARED_COPY.exists():
        assert src.bundled_path().read_bytes() == SHARED_COPY.read_bytes()
    assert src.bundled_path().with_name("README.md").exists()


# --- (b) layout break: the project's clear error -------------------------------------------


def test_layout_break_a_file_missing_a_column(
    con: duckdb.DuckDBPyConnection, archive: Archive, tmp_path: Path
) -> None:
    broken = tmp_path / "figures.csv"
    broken.write_text(USER_FILE.read_text().replace(",published_on,", ",published,", 1))
    with layout_break(src.SLUG, "published_on") as caught:
        _load(con, archive, path=str(broken))
    assert "published_on" in caught.value.found
    assert con.execute("SELECT count(*) FROM published_figures").fetchone() == (0,)


def test_a_missing_user_file_is_a_config_error(
    con: duckdb.DuckDBPyConnection, archive: Archive, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        _load(con, archive, path=[str(tmp_path / "nowhere.csv")])


BUNDLED = src.bundled_path().read_text(encoding="utf-8").splitlines()
ROW = BUNDLED[3]  # miami_dade_county_homicides_2016, 231 in 2016-01-01..2016-12-31


@pytest.mark.parametrize(
    ("row", "found"),
    [
        ("short,a,b", "the row stops before column 'measure'"),
        (ROW + ",x", "1 more values than the header has columns"),
        (ROW.replace(",231,", ",nan,"), "column 'value': expected a finite number, found 'nan'"),
        (ROW.replace(",231,", ",-inf,"), "column 'value': expected a finite number"),
        (ROW.replace(",231,", ",lots,"), "column 'value': expected a number, found 'lots'"),
        (
            ROW.replace("2016-01-01,2016-12-31", "2016-12-31,2016-01-01"),
            "period_end 2016-01-01 is before period_start 2016-12-31",
        ),
        (ROW.replace("2017-02-01", "2017-02-30"), "column 'published_on': expected a date"),
        (ROW.replace("2016-12-31", "2016-12-32"), "column 'period_end': expected a date"),
    ],
)
def test_a_bad_row_is_refused_with_its_line(row: str, found: str) -> None:
    fetched = Fetched(
        src.SLUG,
        "file:///figures.csv",
        200,
        "text/csv",
        f"{BUNDLED[0]}\n{row}\n".encode(),
        datetime(2026, 1, 1),
    )
    with pytest.raises(RecordError, match=r"in file:///figures\.csv, line 2: ") as caught:
        src.parse(fetched, "figures")
    assert found in str(caught.value)


# --- (c) no HTTP: fetch reads the files from disk, each a Fetched with a file:// URL -------


def test_bundled_figures_load_with_their_provenance(
    con: duckdb.DuckDBPyConnection, archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(src.PATH_ENV, raising=False)
    _load(con, archive)
    assert con.execute("SELECT count(*) FROM published_figures").fetchone() == (24,)
    jag = con.execute(
        "SELECT value, unit, published_on, period_start, source_url, publication_url "
        "FROM published_figures WHERE figure_id = 'miami_dade_byrne_jag_fy2016'"
    ).fetchone()
    assert jag is not None
    assert jag[:4] == (481347.0, "usd", date(2017, 8, 5), datetime(2016, 10, 1))
    assert jag[4].startswith("file://") and jag[4].endswith("/published_figures.csv")
    assert jag[5] is None
    weekend = con.execute(
        "SELECT period_start, period_end FROM published_figures "
        "WHERE figure_id = 'chicago_july4_weekend_2017_shot'"
    ).fetchone()
    assert weekend == (datetime(2017, 6, 30, 17, 0), datetime(2017, 7, 5, 6, 0))
    assert _value(con, "miami_dade_county_murders_h1_2017") == (92.0,)


def test_a_user_file_adds_and_replaces_figures(
    con: duckdb.DuckDBPyConnection, archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(src.PATH_ENV, str(USER_FILE))
    _load(con, archive)
    assert con.execute("SELECT count(*) FROM published_figures").fetchone() == (25,)
    assert _value(con, "test_user_figure") == (7.0,)
    assert _value(con, "miami_dade_county_murders_h1_2017") == (93.0,)
    urls = con.execute("SELECT DISTINCT url FROM raw_responses ORDER BY url").fetchall()
    assert len(urls) == 2 and all(u[0].startswith("file://") for u in urls)


# --- (d) idempotence: the same files twice write no new version ----------------------------


def test_idempotent_a_second_run_writes_no_new_version(
    con: duckdb.DuckDBPyConnection, archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(src.PATH_ENV, raising=False)
    collect_demo_twice(con, archive, src.SLUG).assert_idempotent()
