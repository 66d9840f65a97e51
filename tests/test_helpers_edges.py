"""Query helpers: what a figure says beside its number (issue 17: mutants of the helpers that
the boundary tests let live). A figure's window for its caveats, the words of its caveats,
the inputs and evidence it shows, and how a missing value is shown."""

from __future__ import annotations

import csv
from datetime import date, datetime

import duckdb
from test_boundaries_helpers import CPD, crime, load_crimes

from sanctuarywatch.collect.run import collect
from sanctuarywatch.http import HttpClient
from sanctuarywatch.load.archive import Archive
from sanctuarywatch.query import helpers
from sanctuarywatch.query.helpers import Figure
from sanctuarywatch.sources import Options, published_figures

HALF_2017 = (date(2015, 1, 1), date(2017, 7, 1))  # collected through June 2017 only


def _two_victims(con: duckdb.DuckDBPyConnection, archive: Archive) -> None:
    rows = [crime(1, datetime(2017, 3, 1), arrest=True), crime(2, datetime(2017, 4, 1))]
    load_crimes(con, archive, rows, window=HALF_2017)


def _incomplete(figure: Figure) -> list[str]:
    return [c.detail for c in figure.caveats if c.kind == "incomplete"]


def test_an_arrest_share_is_partial_over_its_own_calendar_year(
    con: duckdb.DuckDBPyConnection, archive: Archive
) -> None:
    _two_victims(con, archive)
    figure = helpers.arrest_share(con, CPD, 2017)
    assert figure.value == 50.0
    assert figure.inputs == {"victims": 2, "with_arrest": 1, "unit": "percent"}
    gaps = _incomplete(figure)
    assert any("never collected for 2017-07-01 to 2018-01-01" in gap for gap in gaps), gaps
    assert any("before the window ends (2018-01-01)" in gap for gap in gaps), gaps
    (definition,) = [c.detail for c in figure.caveats if c.kind == "definition"]
    assert definition == (
        "the portal's arrest flag is the arrest status when the data was fetched, "
        "not the share of cases cleared in the same year"
    )


def test_a_year_collected_in_full_gives_an_arrest_share_without_a_gap(
    con: duckdb.DuckDBPyConnection, archive: Archive
) -> None:
    rows = [crime(i, datetime(2016, month, 28)) for i, month in enumerate(range(1, 13), 1)]
    load_crimes(con, archive, rows, window=(date(2016, 1, 1), date(2017, 1, 1)))
    figure = helpers.arrest_share(con, CPD, 2016)
    assert figure.value == 0.0 and _incomplete(figure) == []


def test_yearly_counts_show_every_year_asked_for_and_the_gap(
    con: duckdb.DuckDBPyConnection, archive: Archive
) -> None:
    _two_victims(con, archive)
    figure = helpers.yearly_counts(con, CPD, "homicide", 2016, 2017)
    assert figure.value == 2
    assert figure.inputs == {"by_year": {2017: 2}, "first_year": 2016, "last_year": 2017}
    assert any("never collected for 2017-07-01 to 2018-01-01" in g for g in _incomplete(figure))


def test_a_figure_without_a_value_says_so_in_its_table_row() -> None:
    assert "<td style='text-align:right'>no value</td>" in Figure("x", None, {}).html_row()
    assert "<td style='text-align:right'>1,234</td>" in Figure("x", 1234, {}).html_row()


# ---- figures that exist only in a publication ----------------------------------------------


def test_a_published_figure_names_its_publisher_note_and_publication(
    con: duckdb.DuckDBPyConnection, archive: Archive
) -> None:
    with HttpClient() as client:
        collect(con, archive, client, published_figures.SLUG, Options())
    with published_figures.bundled_path().open(newline="", encoding="utf-8") as handle:
        row = next(r for r in csv.DictReader(handle) if r["note"] and r["unit"])
    figure = helpers.published(con, row["figure_id"])
    assert figure.value == float(row["value"])
    assert figure.inputs == {
        "figure_id": row["figure_id"],
        "reporting_body": row["reporting_body"],
        "unit": row["unit"],
        "jurisdiction": row["jurisdiction"],
        "published_on": date.fromisoformat(row["published_on"]),
        "publication_url": row["source_url"],
    }
    (caveat,) = figure.caveats
    assert (caveat.kind, caveat.detail) == (
        "publication",
        f"published by {row['reporting_body']} on {row['published_on']}, "
        f"not computed from data; {row['note']}",
    )
    (behind,) = figure.evidence
    assert behind["publication"] == {
        "url": row["source_url"],
        "published_on": row["published_on"],
        "by": row["reporting_body"],
    }


def test_a_published_figure_not_loaded_says_so(con: duckdb.DuckDBPyConnection) -> None:
    figure = helpers.published(con, "no_such_figure")
    assert (figure.value, figure.inputs) == (None, {"figure_id": "no_such_figure"})
    assert [(c.kind, c.detail) for c in figure.caveats] == [
        ("no_source", "published figure no_such_figure is not loaded")
    ]


def test_a_population_not_loaded_names_both_sources(con: duckdb.DuckDBPyConnection) -> None:
    figure = helpers.population(con, CPD, 2017)
    assert figure.value is None
    assert ("no_source", "no Census estimate or CDE population for it loaded") in [
        (c.kind, c.detail) for c in figure.caveats
    ]
