"""FBI UCR Return A per-agency files (Kaplan): the real 2014-2018 lines of five agencies, their
reporting patterns, and what the helpers may and may not sum. Expected values are computed
here from the saved files, never typed in. In the shape of every source's tests: (a) parse field
by field, (b) layout breaks, (c) recorded HTTP, (d) idempotence; then the reporting patterns."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date

import duckdb
import pytest
from conftest import FIXTURES, collect_demo_twice, fetched, layout_break

from sanctuarywatch.collect.run import collect
from sanctuarywatch.errors import ConfigError, FetchError, LayoutError
from sanctuarywatch.http import HttpClient
from sanctuarywatch.load import warehouse
from sanctuarywatch.load.archive import Archive
from sanctuarywatch.present import chart
from sanctuarywatch.query import helpers
from sanctuarywatch.sources import Options
from sanctuarywatch.sources import us_ucr_agency_monthly as src

DATA = FIXTURES / src.SLUG
LOOPBACK = "http://127.0.0.1:8765"
MDPD_COMMIT = "05e5a7b07ab38bac3747f27dddf391e630ecb4bd"
OTHER_COMMIT = "155973023a218230cbe1429b9abf87e59948dd80"
AGENCIES = {  # ORI: (saved file, upstream file, commit)
    "FL0130000": (
        "FL01300_miami_dade_pd_2014_2018.csv",
        "Florida_Miami-dade_County_Police_Department",
        MDPD_COMMIT,
    ),
    "FL0130600": (
        "FL01306_miami_pd_2014_2018.csv",
        "Florida_Miami_Police_Department",
        OTHER_COMMIT,
    ),
    "ILCPD0000": (
        "ILCPD00_chicago_pd_2014_2018.csv",
        "Illinois_Chicago_Police_Department",
        OTHER_COMMIT,
    ),
    "MDBPD0000": (
        "MDBPD00_baltimore_pd_2014_2018.csv",
        "Maryland_Baltimore_Police_Department",
        MDPD_COMMIT,
    ),
    "LANPD0000": (
        "LANPD00_new_orleans_pd_2014_2018.csv",
        "Louisiana_New_Orleans_Police_Department",
        OTHER_COMMIT,
    ),
}
MDPD, MIAMI = "agency:FL0130000", "agency:FL0130600"


def _csv_rows(ori: str) -> list[dict[str, str]]:
    with (DATA / AGENCIES[ori][0]).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _murders(ori: str, first: date, end: date) -> int:
    """Murders in the saved file over months [first, end), each month counted once."""
    by_month = {row["year"]: int(row["actual_murder"]) for row in _csv_rows(ori)}
    return sum(n for month, n in by_month.items() if first <= date.fromisoformat(month) < end)


def _parse(ori: str, body: bytes | None = None) -> list[dict[str, str]]:
    page = fetched(
        src.SLUG, body or (DATA / AGENCIES[ori][0]).read_bytes(), content_type="text/csv"
    )
    return src.parse(page, f"monthly:{ori}")


def _options(base: str = LOOPBACK, oris: tuple[str, ...] = tuple(AGENCIES)) -> Options:
    agencies = {ori: {"file": AGENCIES[ori][1], "ref": AGENCIES[ori][2]} for ori in oris}
    return Options(mode="backfill", base_url=base, extra={"agencies": agencies})


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    """The five agencies, loaded from the bundled demo archive through the collector."""
    from sanctuarywatch.load.archive import ArchiveTransport
    from sanctuarywatch.present import demo

    con = warehouse.connect(":memory:")
    step = next(s for s in demo.PLAN if s.slug == src.SLUG)
    replay = ArchiveTransport(*demo.bundled_archives())
    with HttpClient(transport=replay) as client:
        collect(con, Archive(tmp_path_factory.mktemp("raw")), client, src.SLUG, step.options)
    yield con
    con.close()


# --- (a) parse and normalize: the saved real files, field by field --------------------------


def test_repeated_2018_lines_are_dropped_once_each() -> None:
    for ori in AGENCIES:
        lines = _csv_rows(ori)
        rows = _parse(ori)
        assert len(rows) == len({row["year"] for row in lines}) == 60
        assert len(lines) - len(rows) == (12 if ori[:2] != "FL" else 0)


def test_parse_one_record_field_by_field() -> None:
    (december,) = [r for r in _parse("FL0130000") if r["year"] == "2017-12-01"]
    records = {r["offense"]: r for r in src.records(december, "FL0130000")}
    assert set(records) == set(src.OFFENSES)
    assert records["murder"] == {
        "ori": "FL0130000",
        "month": date(2017, 12, 1),
        "offense": "murder",
        "actual": int(december["actual_murder"]),
        "cleared": int(december["tot_clr_murder"]),
        "cleared_under_18": int(december["clr_18_murder"]),
        "unfounded": int(december["unfound_murder"]),
        "agency_name": december["agency"],
        "state": december["state"],
        "population": int(december["population"]),
        "card_actual_type": december["card_actual_type"],
        "card_actual_pt": december["card_actual_pt"],
        "card_tot_clr_type": december["card_tot_clr_type"],
    }
    (november,) = [r for r in _parse("FL0130000") if r["year"] == "2017-11-01"]
    assert src.records(november, "FL0130000")[0]["card_actual_type"] is None  # no return


def test_a_blank_count_is_null_and_a_negative_one_stays() -> None:
    assert src._count("") is None and src._count("-1") == -1
    negative = [r for r in _parse("FL0130600") if r["actual_manslaughter"].startswith("-")]
    assert negative and all(
        rec["actual"] < 0
        for row in negative
        for rec in src.records(row, "FL0130600")
        if rec["offense"] == "manslaughter"
    )


# --- (b) layout break: the project's clear error -------------------------------------------


def test_layout_break_a_missing_column() -> None:
    text = (DATA / AGENCIES["ILCPD0000"][0]).read_text()
    broken = text.replace("actual_murder,", "actual_homicide,", 1).encode()
    with layout_break(src.SLUG, "Kaplan's offenses_monthly columns") as caught:
        _parse("ILCPD0000", broken)
    assert "actual_murder" in caught.value.found


def test_a_file_of_another_agency_is_refused() -> None:
    with pytest.raises(LayoutError, match="ORI FL01306"):
        src.parse(
            fetched(src.SLUG, (DATA / AGENCIES["FL0130000"][0]).read_bytes()), "monthly:FL0130600"
        )


def test_two_different_lines_for_one_month_are_refused() -> None:
    lines = (DATA / AGENCIES["ILCPD0000"][0]).read_text().splitlines(keepends=True)
    changed = lines[2].replace(",43,", ",44,", 1)  # the second copy of December 2018
    assert changed != lines[2]
    with pytest.raises(LayoutError, match="one line per month"):
        _parse("ILCPD0000", "".join([*lines[:2], changed, *lines[3:]]).encode())


def test_agencies_must_be_named_by_a_job() -> None:
    with pytest.raises(ConfigError, match=r"extra\.agencies"):
        src.agencies(Options())
    with pytest.raises(ConfigError, match="9-character ORI"):
        src.agencies(Options(extra={"agencies": {"FL01300": "Florida_Miami_Police_Department"}}))


# --- (c) recorded HTTP: the loopback server serving the saved files ---------------------------


@pytest.mark.vcr(cassette="test_five_agencies_load_and_a_second_run_changes_nothing")
def test_recorded_five_agencies_load_and_a_second_run_changes_nothing(
    con: duckdb.DuckDBPyConnection, archive: Archive
) -> None:
    with HttpClient() as client:
        first = collect(con, archive, client, src.SLUG, _options())
        again = collect(con, archive, client, src.SLUG, _options())
    assert first.counts.new == 5 * 60 * len(src.OFFENSES) and first.requests == 5
    assert again.counts.written == 0 and again.counts.unchanged == first.counts.new
    sources = con.execute(
        f"SELECT DISTINCT source, source_url LIKE '%/data/offenses_monthly/%' FROM {src.SLUG}"
    ).fetchall()
    assert sources == [(src.SLUG, True)]


@pytest.mark.vcr
def test_an_unknown_file_is_a_fetch_error(con: duckdb.DuckDBPyConnection, archive: Archive) -> None:
    options = Options(
        mode="backfill",
        base_url=LOOPBACK,
        extra={"agencies": {"FL0130000": {"file": "Florida_No_Such_Agency", "ref": MDPD_COMMIT}}},
    )
    with HttpClient() as client, pytest.raises(FetchError) as caught:
        collect(con, archive, client, src.SLUG, options)
    assert caught.value.status == 404
    assert con.execute(f"SELECT count(*) FROM {src.SLUG}").fetchone() == (0,)


# --- (d) idempotence: the same files twice write no new version ---------------------------


def test_idempotent_a_second_run_writes_no_new_version(
    con: duckdb.DuckDBPyConnection, archive: Archive
) -> None:
    collect_demo_twice(con, archive, src.SLUG).assert_idempotent()


# --- reporting patterns and what may be summed ------------------------------------------------


def test_reporting_patterns_are_detected_per_agency_year(
    loaded: duckdb.DuckDBPyConnection,
) -> None:
    found = dict(
        ((ori, year), pattern)
        for ori, year, pattern in loaded.execute(
            "SELECT ori, year, pattern FROM agency_reporting_patterns"
        ).fetchall()
    )
    assert {found["FL0130000", y] for y in range(2014, 2019)} == {"annual"}
    assert [found["FL0130600", y] for y in range(2014, 2019)] == ["half_yearly"] * 3 + [
        "annual"
    ] * 2
    for ori in ("ILCPD0000", "MDBPD0000", "LANPD0000"):
        assert {found[ori, y] for y in range(2014, 2019)} == {"monthly"}


@pytest.mark.parametrize("year", [2016, 2017])
def test_mdpd_annual_murders_are_its_december_totals(
    loaded: duckdb.DuckDBPyConnection, year: int
) -> None:
    figure = helpers.count(loaded, MDPD, "murder", date(year, 1, 1), date(year + 1, 1, 1))
    expected = _murders("FL0130000", date(year, 12, 1), date(year + 1, 1, 1))
    assert figure.value == expected == _murders("FL0130000", date(year, 1, 1), date(year + 1, 1, 1))
    assert figure.inputs["source"] == src.SLUG
    assert {c.kind for c in figure.caveats} == {"definition"}


def test_a_january_august_mdpd_count_is_refused_with_the_reason_not_zero(
    loaded: duckdb.DuckDBPyConnection,
) -> None:
    assert _murders("FL0130000", date(2017, 1, 1), date(2017, 9, 1)) == 0  # the trap
    figure = helpers.count(loaded, MDPD, "murder", date(2017, 1, 1), date(2017, 9, 1))
    assert figure.value is None
    (why,) = [c.detail for c in figure.caveats if c.kind == "no_source"]
    assert why.startswith(
        "Miami-Dade Police Department (FL0130000) reported 2017 as one annual total"
    )
    assert "incomplete" not in {c.kind for c in figure.caveats}  # nothing is missing: it is folded


def test_miami_half_years_are_exact_and_a_window_across_one_is_refused(
    loaded: duckdb.DuckDBPyConnection,
) -> None:
    h1 = helpers.count(loaded, MIAMI, "murder", date(2016, 1, 1), date(2016, 7, 1))
    assert h1.value == _murders("FL0130600", date(2016, 6, 1), date(2016, 7, 1))
    whole = helpers.count(loaded, MIAMI, "murder", date(2017, 1, 1), date(2018, 1, 1))
    assert whole.value == _murders("FL0130600", date(2017, 12, 1), date(2018, 1, 1))
    h1_2017 = helpers.count(loaded, MIAMI, "murder", date(2017, 1, 1), date(2017, 7, 1))
    assert h1_2017.value is None and "2017 as one annual total" in h1_2017.caveats[0].detail
    across = helpers.count(loaded, MIAMI, "murder", date(2016, 1, 1), date(2016, 9, 1))
    assert across.value is None
    assert any("reported Jul-Dec 2016 as a half-year total" in c.detail for c in across.caveats)


@pytest.mark.parametrize("ori", ["ILCPD0000", "MDBPD0000", "LANPD0000"])
@pytest.mark.parametrize(("first", "end"), [((1, 1), (9, 1)), ((1, 1), (13, 1))])
@pytest.mark.parametrize("year", [2016, 2017, 2018])
def test_monthly_reporters_sum_their_months_once(
    loaded: duckdb.DuckDBPyConnection,
    ori: str,
    first: tuple[int, int],
    end: tuple[int, int],
    year: int,
) -> None:
    start = date(year, *first)
    stop = date(year + 1, 1, 1) if end == (13, 1) else date(year, *end)
    figure = helpers.count(loaded, f"agency:{ori}", "murder", start, stop)
    assert figure.value == _murders(ori, start, stop)
    assert figure.inputs["source"] == src.SLUG


def test_compare_chicago_with_mdpd_over_2017(loaded: duckdb.DuckDBPyConnection) -> None:
    result = helpers.compare(
        loaded, "murder", "agency:ILCPD0000", MDPD, date(2017, 1, 1), date(2018, 1, 1)
    )
    chicago = _murders("ILCPD0000", date(2017, 1, 1), date(2018, 1, 1))
    mdpd = _murders("FL0130000", date(2017, 1, 1), date(2018, 1, 1))
    population = int(_csv_rows("FL0130000")[12]["population"])  # 2017-12 (newest first)
    assert (result["count_a"].value, result["count_b"].value) == (chicago, mdpd)
    assert result["population_b"].value == population
    assert result["population_b"].inputs["kind"] == "agency_served"
    assert result["ratio_counts"].value == round(chicago / mdpd, 2)
    assert result["rate_b"].value == round(100_000 * mdpd / population, 2)
    refused = helpers.compare(
        loaded, "murder", "agency:ILCPD0000", MDPD, date(2017, 1, 1), date(2017, 9, 1)
    )
    assert refused["count_a"].value and refused["count_b"].value is None
    assert refused["ratio_counts"].value is None


def test_the_sql_macro_gives_the_same_answer(loaded: duckdb.DuckDBPyConnection) -> None:
    row = loaded.execute(
        "SELECT n, split_periods IS NULL FROM monthly_count(?, 'murder', '2017-01-01', "
        "'2018-01-01', 'infinity')",
        [MDPD],
    ).fetchone()
    assert row == (_murders("FL0130000", date(2017, 1, 1), date(2018, 1, 1)), True)


def _drawn(line: chart.Line) -> dict[date, int | None]:
    """A chart line's points: the end of each running total (exclusive) and its value."""
    return {point.end: point.figure.value for point in line.points}


def test_the_chart_draws_reported_periods_never_fake_months(
    loaded: duckdb.DuckDBPyConnection,
) -> None:
    """The chart's points are the helpers' figures: a total where an agency reported one, and
    no count (never zero) inside a period it reported as one total."""
    mdpd, miami, baltimore = chart.ytd_panels(
        loaded, date(2017, 8, 16), [MDPD, MIAMI, "agency:MDBPD0000"]
    )
    year_end = date(2017, 1, 1)
    annual = {end: None for end in _drawn(mdpd.last)}
    assert _drawn(mdpd.last) == annual | {
        year_end: _murders("FL0130000", date(2016, 1, 1), year_end)
    }
    assert set(_drawn(mdpd.this).values()) == {None}  # 2017 is one annual total too
    h1 = _murders("FL0130600", date(2016, 6, 1), date(2016, 7, 1))
    h2 = _murders("FL0130600", date(2016, 12, 1), year_end)
    counted = {end: n for end, n in _drawn(miami.last).items() if n is not None}
    assert counted == {date(2016, 7, 1): h1, year_end: h1 + h2}
    months = {end: n for end, n in _drawn(baltimore.this).items() if end.day == 1}
    assert len(months) == 7 and months == {
        end: _murders("MDBPD0000", date(2017, 1, 1), end) for end in months
    }
