"""Query helpers at their boundaries (issue 17): each rule's value on the bound and on each
side, on a small warehouse built for the test through the sources' own loaders (`collect`
with answers served in memory), never on the demo snapshot.

The loaders here (`load_crimes`, `load_monthly`, `load_census`, `set_coverage`) are shared by
the other test_boundaries_* files.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from conftest import FIXTURES, load_json

from sanctuarywatch.collect.run import RunResult, collect
from sanctuarywatch.http import HttpClient
from sanctuarywatch.load import coverage, warehouse
from sanctuarywatch.load.archive import ARCHIVE_TIME_HEADER, Archive
from sanctuarywatch.query import helpers
from sanctuarywatch.query.helpers import Caveat, Figure
from sanctuarywatch.sources import Options
from sanctuarywatch.sources import il_chicago_crimes as crimes
from sanctuarywatch.sources import us_census_population as census
from sanctuarywatch.sources import us_fbi_cde_agency_monthly as monthly

CPD = "agency:ILCPD0000"
CHICAGO = "place:1714000"
PORTAL = "http://127.0.0.1:1/resource/ijzp-q8t2.json"
CDE = "http://127.0.0.1:1/LATEST"
CENSUS = "http://127.0.0.1:1/census"
FETCHED = datetime(2020, 1, 1, 12, tzinfo=UTC)  # long after every event below
CDE_SAMPLE = FIXTURES / monthly.SLUG / "summarized_agency_ILCPD0000_V_2024.json"
CDE_SERIES = "Chicago Police Department Offenses"


class _Recorded(httpx.MockTransport):
    """Answers the way an archive replay does: each with the time it was first fetched, so
    a test chooses when its rows were observed."""

    replays_archive = True


def _client(answer: Callable[[httpx.Request], httpx.Response], fetched_at: datetime) -> HttpClient:
    def handler(request: httpx.Request) -> httpx.Response:
        response = answer(request)
        response.headers[ARCHIVE_TIME_HEADER] = fetched_at.isoformat()
        return response

    return HttpClient(transport=_Recorded(handler))


def crime(id_: int, occurred: datetime, iucr: str = "0110", arrest: bool = False) -> dict[str, Any]:
    """One portal row as the SODA API sends it (homicide IUCRs: 0110 murder, 0130 other)."""
    return {
        "id": str(id_),
        "case_number": f"JT{id_:06d}",
        "date": f"{occurred:%Y-%m-%dT%H:%M:%S.%f}",
        "iucr": iucr,
        "primary_type": "HOMICIDE",
        "description": "FIRST DEGREE MURDER" if iucr == "0110" else "SECOND DEGREE MURDER",
        "arrest": arrest,
        "year": str(occurred.year),
        ":id": f"row-{id_}",
        ":updated_at": "2019-12-01T00:00:00.000Z",
    }


def load_crimes(
    con: duckdb.DuckDBPyConnection,
    archive: Archive,
    rows: list[dict[str, Any]],
    fetched_at: datetime = FETCHED,
    window: tuple[date, date] = (date(2015, 1, 1), date(2019, 1, 1)),
) -> RunResult:
    """A Chicago backfill of `window` answered with `rows`, observed at `fetched_at`; the
    run's coverage is then set to exactly `window` (see `set_coverage`)."""

    def answer(request: httpx.Request) -> httpx.Response:
        first = request.url.params.get("$offset") == "0"
        return httpx.Response(200, json=rows if first else [])

    options = Options(mode="backfill", start=window[0], end=window[1], base_url=PORTAL)
    with _client(answer, fetched_at) as client:
        result = collect(con, archive, client, crimes.SLUG, options, job="test")
    set_coverage(con, crimes.SLUG, [_day_window(*window)], fetched_at)
    return result


def _day_window(start: date, end: date) -> coverage.Window:
    return coverage.Window(coverage.EVENT, _midnight(start), _midnight(end))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time())


def set_coverage(
    con: duckdb.DuckDBPyConnection,
    source: str,
    windows: Iterable[coverage.Window],
    observed_at: datetime = FETCHED,
) -> None:
    """The source's recorded coverage, replaced by `windows` (what a test states it is)."""
    con.execute("DELETE FROM source_coverage WHERE source = ?", [source])
    coverage.record(con, source, "test-coverage", windows, observed_at)


def load_monthly(
    con: duckdb.DuckDBPyConnection,
    archive: Archive,
    months: dict[str, int | None] | None = None,
    drop: Iterable[str] = (),
) -> None:
    """Chicago PD's real 2024 CDE violent-crime response, with some months' counts changed
    (None: the CDE has the month but no count) or dropped from the answer altogether."""
    body = copy.deepcopy(load_json(CDE_SAMPLE))
    actuals = body["offenses"]["actuals"][CDE_SERIES]
    actuals.update(months or {})
    for month in drop:
        del actuals[month]

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    options = Options(
        mode="backfill",
        start=date(2024, 1, 1),
        end=date(2025, 1, 1),
        base_url=CDE,
        extra={"agencies": ["ILCPD0000"], "offenses": ["V"], "host": "site"},
    )
    with _client(answer, FETCHED) as client:
        collect(con, archive, client, monthly.SLUG, options, job="test")


_AFF_HEADER = (
    'Id,Id2,Geography,Target Geo Id,Target Geo Id2,Rank,Geography,Geography,"April 1, 2010 - '
    'Census","April 1, 2010 - Estimates Base",Population Estimate (as of July 1) - 2016\n'
)


def load_census(
    con: duckdb.DuckDBPyConnection, archive: Archive, by_vintage: dict[int, int]
) -> None:
    """Chicago's 2016 estimate as each vintage gives it (the American FactFinder layout),
    the vintages served in the order given."""

    def body(value: int) -> str:
        return _AFF_HEADER + (
            '0100000US,,United States,1620000US1714000,1714000,3,"United States - Chicago city, '
            f'Illinois","Chicago city, Illinois",2695598,2695620,{value}\n'
        )

    def answer(request: httpx.Request) -> httpx.Response:
        vintage = int(request.url.path.rsplit("-", 1)[1].removesuffix(".csv"))
        text = body(by_vintage[vintage])
        return httpx.Response(200, text=text, headers={"content-type": "text/csv"})

    files = [{"url": f"{CENSUS}/est-{v}.csv", "vintage": v} for v in by_vintage]
    options = Options(mode="backfill", extra={"files": files})
    with _client(answer, FETCHED) as client:
        collect(con, archive, client, census.SLUG, options, job="test")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[duckdb.DuckDBPyConnection, Archive]]:
    """An empty warehouse and archive for one test."""
    con = warehouse.connect(":memory:")
    yield con, Archive(tmp_path / "raw")
    con.close()


@pytest.fixture(scope="module")
def shared_db(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[], tuple[duckdb.DuckDBPyConnection, Archive]]]:
    """Empty warehouses for fixtures that build one and share it, read-only, in a module."""
    opened: list[duckdb.DuckDBPyConnection] = []

    def open_one() -> tuple[duckdb.DuckDBPyConnection, Archive]:
        opened.append(warehouse.connect(":memory:"))
        return opened[-1], Archive(tmp_path_factory.mktemp("raw"))

    yield open_one
    for con in opened:
        con.close()


def _kinds(figure: Figure) -> list[str]:
    return [c.kind for c in figure.caveats]


# --- count: [start, end) in local time --------------------------------------------------


END = datetime(2017, 8, 17)


@pytest.fixture(scope="module")
def around_the_end(
    shared_db: Callable[[], tuple[duckdb.DuckDBPyConnection, Archive]],
) -> duckdb.DuckDBPyConnection:
    """Murders on the first instant of the year, one microsecond before Aug 17, exactly on
    Aug 17 (the end bound of the count below), and one microsecond after it."""
    con, archive = shared_db()
    moments = [
        datetime(2017, 1, 1),
        END - timedelta(microseconds=1),
        END,
        END + timedelta(microseconds=1),
        datetime(2017, 8, 20),
    ]
    load_crimes(con, archive, [crime(n, m) for n, m in enumerate(moments, 1)])
    return con


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (datetime(2017, 1, 1), END, 2),  # the start is in, the end is out
        (datetime(2017, 1, 1), END + timedelta(microseconds=1), 3),  # the end bound, just in
        (datetime(2017, 1, 1), END - timedelta(microseconds=1), 1),  # the last one just out
        (datetime(2017, 1, 1, 0, 0, 0, 1), END, 1),  # the first one just out
        (END, END + timedelta(microseconds=2), 2),  # a window that starts on an event
        (END, END, None),  # an empty window counts nothing (and there is no monthly data)
    ],
)
def test_a_count_is_start_inclusive_end_exclusive(
    around_the_end: duckdb.DuckDBPyConnection, start: datetime, end: datetime, expected: int
) -> None:
    assert helpers.count(around_the_end, CPD, "murder", start, end).value == expected


def test_the_sql_window_excludes_an_event_on_its_end(
    around_the_end: duckdb.DuckDBPyConnection,
) -> None:
    """incident_rows (warehouse/033) is what both the helper and the SQL shortcut count."""
    window = ["2017-01-01", "2017-08-17"]
    rows = around_the_end.execute(
        "SELECT occurred_local FROM incident_rows(?, 'murder', ?, ?, 'infinity') ORDER BY 1",
        [CPD, *window],
    ).fetchall()
    assert rows == [(datetime(2017, 1, 1),), (END - timedelta(microseconds=1),)]
    shortcut = around_the_end.execute(
        "SELECT chicago_homicide_victims(?, ?, 'murder')", window
    ).fetchone()
    assert shortcut == (2,)


def test_a_place_is_counted_through_the_agency_that_serves_it(
    around_the_end: duckdb.DuckDBPyConnection,
) -> None:
    figure = helpers.count(around_the_end, CHICAGO, "murder", date(2017, 1, 1), date(2017, 8, 17))
    assert figure.value == 2 and figure.inputs["jurisdiction"] == CPD
    assert figure.inputs["granularity"] == "incident"
    assert figure.inputs["start"] == datetime(2017, 1, 1) and figure.inputs["end"] == END
    assert figure.label == f"murder in {CPD}, 2017-01-01 00:00 to 2017-08-17 00:00"
    assert figure.evidence[0]["responses"][0]["source"] == crimes.SLUG


def test_homicide_counts_every_homicide_iucr_and_murder_only_first_degree(
    db: tuple[duckdb.DuckDBPyConnection, Archive],
) -> None:
    con, archive = db
    load_crimes(
        con,
        archive,
        [crime(1, datetime(2017, 3, 1)), crime(2, datetime(2017, 3, 2), iucr="0130")],
    )
    window = (date(2017, 1, 1), date(2018, 1, 1))
    assert helpers.count(con, CPD, "murder", *window).value == 1
    assert helpers.count(con, CPD, "homicide", *window).value == 2


# --- the coverage and stalled-source caveats of an incident count ------------------------


def _incomplete(figure: Figure) -> list[str]:
    return [c.detail for c in figure.caveats if c.kind == "incomplete"]


def test_a_window_inside_the_coverage_has_no_incomplete_caveat(
    around_the_end: duckdb.DuckDBPyConnection,
) -> None:
    figure = helpers.count(around_the_end, CPD, "murder", date(2017, 1, 1), date(2017, 8, 17))
    assert _incomplete(figure) == []


@pytest.mark.parametrize(
    ("end", "gap"),
    [
        (datetime(2019, 1, 1), None),  # the window ends where the coverage ends
        (datetime(2019, 1, 1, 0, 0, 0, 1), "2019-01-01 to 2019-01-01 00:00"),
        (datetime(2019, 1, 2), "2019-01-01 to 2019-01-02"),
    ],
)
def test_a_window_past_the_coverage_is_incomplete(
    db: tuple[duckdb.DuckDBPyConnection, Archive], end: datetime, gap: str | None
) -> None:
    con, archive = db
    load_crimes(con, archive, [crime(1, datetime(2018, 12, 30))])
    figure = helpers.count(con, CPD, "murder", datetime(2018, 6, 1), end)
    found = _incomplete(figure)
    if gap is None:
        assert found == []
    else:
        assert len(found) == 1 and gap in found[0] and crimes.SLUG in found[0]


def test_no_recorded_coverage_is_incomplete(db: tuple[duckdb.DuckDBPyConnection, Archive]) -> None:
    con, archive = db
    load_crimes(con, archive, [crime(1, datetime(2017, 3, 1))])
    con.execute("DELETE FROM source_coverage")
    figure = helpers.count(con, CPD, "murder", date(2017, 1, 1), date(2017, 3, 10))
    assert figure.value == 1
    assert len(_incomplete(figure)) == 1 and "no recorded coverage" in _incomplete(figure)[0]


@pytest.mark.parametrize(("days", "stalled"), [(14, False), (15, True)])
def test_a_window_ending_past_the_newest_event_by_more_than_the_quiet_spell(
    db: tuple[duckdb.DuckDBPyConnection, Archive], days: int, stalled: bool
) -> None:
    """Chicago's quiet spell is 14 days: a window that ends 14 days after the newest event
    is a quiet fortnight; a day more reads as a stalled source."""
    con, archive = db
    newest = datetime(2018, 3, 1)
    load_crimes(con, archive, [crime(1, newest)])
    figure = helpers.count(con, CPD, "murder", date(2018, 1, 1), newest + timedelta(days=days))
    found = [d for d in _incomplete(figure) if "newest event" in d]
    assert bool(found) is stalled
    if stalled:
        assert found[0].startswith(f"{crimes.SLUG}: the newest event in the data is 2018-03-01")


# --- monthly data: whole months, `approximated`, `incomplete` ---------------------------


@pytest.fixture(scope="module")
def cde(
    shared_db: Callable[[], tuple[duckdb.DuckDBPyConnection, Archive]],
) -> duckdb.DuckDBPyConnection:
    con, archive = shared_db()
    load_monthly(con, archive)
    return con


def _cde_months(first: int, last: int) -> int:
    """The real sample's January..December 2024 counts, months first to last inclusive."""
    actuals = load_json(CDE_SAMPLE)["offenses"]["actuals"][CDE_SERIES]
    return int(sum(actuals[f"{m:02d}-2024"] for m in range(first, last + 1)))


@pytest.mark.parametrize(
    ("start", "end", "months", "approximated"),
    [
        (datetime(2024, 1, 1), datetime(2024, 3, 1), (1, 2), False),  # whole months
        (datetime(2024, 1, 15), datetime(2024, 3, 1), (1, 2), True),  # starts mid-month
        (datetime(2024, 1, 1), datetime(2024, 2, 15), (1, 2), True),  # ends mid-month
        (datetime(2024, 1, 1), datetime(2024, 3, 1, 0, 0, 1), (1, 3), True),  # a second over
        (datetime(2024, 1, 1), datetime(2024, 2, 29), (1, 2), True),  # leap day: still Feb
        (datetime(2024, 1, 1), datetime(2024, 2, 1), (1, 1), False),
    ],
)
def test_monthly_data_counts_whole_months_and_says_so_for_part_of_one(
    cde: duckdb.DuckDBPyConnection,
    start: datetime,
    end: datetime,
    months: tuple[int, int],
    approximated: bool,
) -> None:
    figure = helpers.count(cde, CPD, "violent_crime", start, end)
    assert figure.value == _cde_months(*months)
    assert figure.inputs["granularity"] == "month"
    last = date(2024, months[1] + 1, 1)
    assert figure.inputs["months"] == [str(date(2024, months[0], 1)), str(last)]
    assert ("approximated" in _kinds(figure)) is approximated
    if approximated:
        (caveat,) = [c for c in figure.caveats if c.kind == "approximated"]
        assert caveat.detail == (
            f"monthly data: counted whole months 2024-{months[0]:02d}-01 to {last} (exclusive) "
            f"for the window {start:%Y-%m-%d} to {end:%Y-%m-%d}"
        )
    assert "incomplete" not in _kinds(figure)


def test_a_month_without_a_count_makes_the_total_unknown_and_incomplete(
    db: tuple[duckdb.DuckDBPyConnection, Archive],
) -> None:
    con, archive = db
    load_monthly(con, archive, {"02-2024": None})
    figure = helpers.count(con, CPD, "violent_crime", date(2024, 1, 1), date(2024, 4, 1))
    assert figure.value is None
    assert figure.caveats == [Caveat("incomplete", "1 of 3 months have no data")]
    whole = helpers.count(con, CPD, "violent_crime", date(2024, 3, 1), date(2024, 5, 1))
    assert whole.value == _cde_months(3, 4) and whole.caveats == []


# issue 17 finding, fixed by warehouse/044 (issue 19): monthly_count sums only the periods an
# agency reported, so a month the CDE left out is a gap, never a zero.
@pytest.mark.parametrize(
    ("start", "end", "caveat"),
    [
        (date(2024, 1, 1), date(2024, 4, 1), "1 of 3 months have no data"),  # left out
        (date(2024, 11, 1), date(2025, 3, 1), "2 of 4 months have no data"),  # past the data
    ],
)
def test_a_month_missing_from_the_data_is_incomplete(
    db: tuple[duckdb.DuckDBPyConnection, Archive], start: date, end: date, caveat: str
) -> None:
    con, archive = db
    load_monthly(con, archive, drop=["02-2024"])
    figure = helpers.count(con, CPD, "violent_crime", start, end)
    assert figure.value is None and figure.caveats == [Caveat("incomplete", caveat)]


def test_no_incident_and_no_monthly_data_is_no_source(con: duckdb.DuckDBPyConnection) -> None:
    figure = helpers.count(con, CPD, "violent_crime", date(2024, 1, 1), date(2024, 2, 1))
    assert figure.value is None and _kinds(figure) == ["no_source"]
    assert "violent_crime" in figure.caveats[0].detail and CPD in figure.caveats[0].detail


# --- ytd: Jan 1 through the cut-off, against the same day last year ---------------------


@pytest.mark.parametrize(
    ("day", "last_year"),
    [
        (date(2016, 2, 29), date(2015, 2, 28)),
        (date(2016, 2, 28), date(2015, 2, 28)),
        (date(2016, 3, 1), date(2015, 3, 1)),
        (date(2017, 3, 1), date(2016, 3, 1)),
        (date(2017, 1, 1), date(2016, 1, 1)),
        (date(2017, 12, 31), date(2016, 12, 31)),
    ],
)
def test_same_day_last_year(day: date, last_year: date) -> None:
    assert helpers.same_day_last_year(day) == last_year


@pytest.fixture(scope="module")
def two_years(
    shared_db: Callable[[], tuple[duckdb.DuckDBPyConnection, Archive]],
) -> duckdb.DuckDBPyConnection:
    """Murders around the 2016 leap day and the same days of 2015 and 2017."""
    con, archive = shared_db()
    moments = [
        datetime(2015, 1, 1),
        datetime(2015, 2, 28, 23, 59, 59),
        datetime(2015, 3, 1),
        datetime(2016, 1, 1),
        datetime(2016, 2, 28, 12),
        datetime(2016, 2, 29, 23, 59, 59),
        datetime(2016, 3, 1),
        datetime(2016, 12, 31, 23, 59, 59),
        datetime(2017, 1, 1),
        datetime(2017, 3, 1, 23, 59, 59),
        datetime(2017, 3, 2),
    ]
    load_crimes(con, archive, [crime(n, m) for n, m in enumerate(moments, 1)])
    return con


def test_ytd_on_a_leap_day_against_feb_28(two_years: duckdb.DuckDBPyConnection) -> None:
    result = helpers.ytd(two_years, CPD, "murder", date(2016, 2, 29))
    assert (result["this_year"].value, result["last_year"].value) == (3, 2)
    assert result["last_year"].inputs["end"] == datetime(2015, 3, 1)
    assert result["this_year"].inputs["end"] == datetime(2016, 3, 1)
    assert result["change"].value == 50.0
    assert result["change"].label == "change in murder, Jan 1 - Feb 29, 2016 vs 2015"
    assert result["change"].inputs == {"cutoff": date(2016, 2, 29), "unit": "percent"}
    rolling = result["rolling_12_months"]
    assert (rolling.inputs["start"], rolling.inputs["end"]) == (
        datetime(2015, 3, 1),
        datetime(2016, 3, 1),
    )
    assert rolling.value == 4


def test_ytd_after_a_leap_year_on_mar_1(two_years: duckdb.DuckDBPyConnection) -> None:
    result = helpers.ytd(two_years, CPD, "murder", date(2017, 3, 1))
    assert (result["this_year"].value, result["last_year"].value) == (2, 4)
    assert result["change"].value == -50.0
    assert result["rolling_12_months"].value == 3  # 2016-03-02 .. 2017-03-01, both ends in


def test_ytd_with_nothing_last_year_has_no_change(two_years: duckdb.DuckDBPyConnection) -> None:
    result = helpers.ytd(two_years, CPD, "murder", date(2015, 3, 1))
    assert result["this_year"].value == 3 and result["change"].value is None


@pytest.mark.parametrize(
    ("new", "old", "change"),
    [
        (110, 100, 10.0),
        (90, 100, -10.0),
        (100, 100, 0.0),
        (0, 100, -100.0),
        (4, 3, 33.3),  # rounded to one decimal
        (2, 3, -33.3),
        (5, 0, None),  # from zero: no percentage
        (0, 0, None),
        (None, 100, None),
        (5, None, None),
        (-5, 10, -150.0),
    ],
)
def test_percent_change(new: float | None, old: float | None, change: float | None) -> None:
    assert helpers.percent_change(new, old) == change


@pytest.mark.parametrize(
    ("cutoff", "days"),
    [
        (date(2017, 1, 1), 1),
        (date(2017, 2, 28), 59),  # day 59: 58 days after Jan 1
        (date(2017, 3, 1), 60),  # 59 days after Jan 1: still early
        (date(2016, 2, 29), 60),
        (date(2017, 3, 2), None),  # 60 days after Jan 1: no longer early
        (date(2016, 3, 1), None),
    ],
)
def test_early_year_caveat_for_the_first_60_days(
    two_years: duckdb.DuckDBPyConnection, cutoff: date, days: int | None
) -> None:
    change = helpers.ytd(two_years, CPD, "murder", cutoff)["change"]
    early = [c for c in change.caveats if c.kind == "early_year"]
    if days is None:
        assert early == []
    else:
        assert early == [
            Caveat("early_year", f"only {days} days into the year: small counts swing widely")
        ]


# --- rate and ratio ---------------------------------------------------------------------


def _figure(value: float | None, label: str = "x", **inputs: Any) -> Figure:
    return Figure(label, value, inputs, [Caveat("definition", label)], [{"sql": label}])


@pytest.mark.parametrize(
    ("events", "people", "rate"),
    [
        (10, 1_000_000, 1.0),
        (1, 300_000, 0.33),
        (0, 1_000_000, 0.0),  # no events is a rate of zero, not no rate
        (None, 1_000_000, None),
        (10, 0, None),  # no population: no rate
        (10, None, None),
    ],
)
def test_rate_per_100000(events: float | None, people: float | None, rate: float | None) -> None:
    figure = helpers.rate(_figure(events, "n"), _figure(people, "pop", kind="census", vintage=2017))
    assert figure.value == rate
    assert figure.label == "n per 100,000 (pop)"
    assert figure.inputs == {
        "count": events,
        "population": people,
        "population_kind": "census",
        "vintage": 2017,
    }
    assert [c.detail for c in figure.caveats] == ["n", "pop"]
    assert figure.evidence == [{"sql": "n"}, {"sql": "pop"}]


@pytest.mark.parametrize(
    ("a", "b", "ratio"),
    [
        (337, 92, 3.66),
        (1, 3, 0.33),
        (0, 5, 0.0),  # a zero numerator is a ratio of zero
        (5, 0, None),  # a zero denominator is no ratio
        (None, 5, None),
        (5, None, None),
        (-4, 2, -2.0),
    ],
)
def test_ratio(a: float | None, b: float | None, ratio: float | None) -> None:
    figure = helpers.ratio(_figure(a, "a"), _figure(b, "b"))
    assert figure.value == ratio
    assert (figure.label, figure.inputs) == ("a / b", {"a": a, "b": b})
    assert [c.detail for c in figure.caveats] == ["a", "b"]
    assert figure.evidence == [{"sql": "a"}, {"sql": "b"}]


# --- population: the newest vintage unless one is named ---------------------------------


@pytest.fixture(scope="module")
def vintages(
    shared_db: Callable[[], tuple[duckdb.DuckDBPyConnection, Archive]],
) -> duckdb.DuckDBPyConnection:
    con, archive = shared_db()
    load_census(con, archive, {2016: 2_704_958, 2018: 2_720_000, 2017: 2_716_000})
    return con


def test_population_is_the_newest_vintage_unless_one_is_named(
    vintages: duckdb.DuckDBPyConnection,
) -> None:
    newest = helpers.population(vintages, CHICAGO, 2016)
    assert (newest.value, newest.inputs["vintage"]) == (2_720_000, 2018)
    assert newest.inputs["kind"] == "census" and newest.inputs["name"] == "Chicago city, Illinois"
    assert newest.label == "population of Chicago city, Illinois, 2016"
    for vintage, value in [(2016, 2_704_958), (2017, 2_716_000), (2018, 2_720_000)]:
        named = helpers.population(vintages, CHICAGO, 2016, vintage=vintage)
        assert (named.value, named.inputs["vintage"]) == (value, vintage)
    missing = helpers.population(vintages, CHICAGO, 2016, vintage=2019)
    assert missing.value is None and _kinds(missing) == ["no_source"]
    assert helpers.population(vintages, CHICAGO, 2015).value is None


def test_population_for_a_serving_agency_is_its_area_with_a_caveat(
    vintages: duckdb.DuckDBPyConnection,
) -> None:
    figure = helpers.population_for(vintages, CPD, 2016)
    assert figure.value == 2_720_000
    assert figure.caveats == [
        Caveat(
            "definition",
            f"{CPD} serves {CHICAGO}: its counts are set against the population of "
            "Chicago city, Illinois",
        )
    ]


# --- known_on: what the data said then ---------------------------------------------------


@pytest.mark.parametrize(
    ("known_on", "cut"),
    [
        (None, "infinity"),
        (date(2017, 8, 16), "2017-08-17 00:00:00+00"),
        (date(2016, 2, 29), "2016-03-01 00:00:00+00"),
        (date(2016, 12, 31), "2017-01-01 00:00:00+00"),
        (datetime(2017, 8, 16, 12, 30), "2017-08-16T12:30:00+00:00"),  # naive: UTC
        (datetime(2017, 8, 16, 7, 30, tzinfo=UTC), "2017-08-16T07:30:00+00:00"),
    ],
)
def test_the_observation_cut(known_on: helpers.KnownOn, cut: str) -> None:
    assert helpers.as_of(known_on) == cut


def test_an_aware_instant_is_cut_in_utc() -> None:
    chicago = datetime(2017, 8, 16, 19, 0, tzinfo=crimes.TIME_ZONE)  # CDT, UTC-5
    assert helpers.as_of(chicago) == "2017-08-17T00:00:00+00:00"


@pytest.fixture(scope="module")
def observed(
    shared_db: Callable[[], tuple[duckdb.DuckDBPyConnection, Archive]],
) -> duckdb.DuckDBPyConnection:
    """One murder first observed at noon UTC on 2017-08-16, a second at 23:59:59.999999
    that day, a third at the first instant of Aug 17."""
    con, archive = shared_db()
    noon = datetime(2017, 8, 16, 12, tzinfo=UTC)
    for n, at in enumerate(
        [
            noon,
            datetime(2017, 8, 16, 23, 59, 59, 999999, tzinfo=UTC),
            datetime(2017, 8, 17, 0, 0, 0, 1, tzinfo=UTC),
        ],
        1,
    ):
        load_crimes(con, archive, [crime(n, datetime(2017, 3, n))], fetched_at=at)
    return con


@pytest.mark.parametrize(
    ("known_on", "expected"),
    [
        (date(2017, 8, 15), None),  # the day before: nothing observed yet
        (date(2017, 8, 16), 2),  # through the end of that day (UTC), not its start
        (date(2017, 8, 17), 3),
        (None, 3),
        (datetime(2017, 8, 16, 12), 1),  # an instant: up to and including it
        (datetime(2017, 8, 16, 11, 59, 59, 999999), None),
        (datetime(2017, 8, 16, 7, 0, tzinfo=crimes.TIME_ZONE), 1),  # = 12:00 UTC
    ],
)
def test_known_on_counts_what_was_observed_by_then(
    observed: duckdb.DuckDBPyConnection, known_on: helpers.KnownOn, expected: int | None
) -> None:
    figure = helpers.count(observed, CPD, "murder", date(2017, 1, 1), date(2018, 1, 1), known_on)
    assert figure.value == expected
