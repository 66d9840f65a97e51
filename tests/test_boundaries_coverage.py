"""Coverage at its boundaries (issue 17): merging and gaps of half-open windows, the windows
a portal run asks for, the stalled-source rule, and Chicago's "complete through" and coverage
windows in Chicago time (the portal's floating timestamps), not UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb
import httpx
import pytest
from test_boundaries_helpers import CPD, PORTAL, _client, crime, set_coverage

from sanctuarywatch.collect.run import collect, read_state
from sanctuarywatch.http import Fetched
from sanctuarywatch.load import coverage
from sanctuarywatch.load.archive import Archive
from sanctuarywatch.load.sqlnorm import PageTable
from sanctuarywatch.query import helpers
from sanctuarywatch.sources import Options, Page, State
from sanctuarywatch.sources import il_chicago_crimes as crimes
from sanctuarywatch.sources.platforms import socrata

EVENT, UPDATED = coverage.EVENT, coverage.UPDATED


def _w(start: datetime, end: datetime, dimension: str = EVENT) -> coverage.Window:
    return coverage.Window(dimension, start, end)


def _d(day: int, hour: int = 0, microsecond: int = 0) -> datetime:
    return datetime(2024, 1, day, hour, 0, 0, microsecond)


# --- merge ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("windows", "merged"),
    [
        ([], []),
        ([(1, 3)], [(1, 3)]),
        ([(1, 3), (3, 5)], [(1, 5)]),  # touching: one window
        ([(3, 5), (1, 3)], [(1, 5)]),  # in any order
        ([(1, 4), (2, 3)], [(1, 4)]),  # one inside another keeps the outer end
        ([(1, 4), (2, 6)], [(1, 6)]),  # overlapping
        ([(1, 3), (4, 5)], [(1, 3), (4, 5)]),  # a day apart: two
        ([(4, 5), (1, 3), (2, 4)], [(1, 5)]),
        ([(1, 2), (1, 3)], [(1, 3)]),  # the same start
    ],
)
def test_merge(windows: list[tuple[int, int]], merged: list[tuple[int, int]]) -> None:
    found = coverage.merge(_w(_d(a), _d(b)) for a, b in windows)
    assert found == [_w(_d(a), _d(b)) for a, b in merged]


def test_merge_keeps_windows_a_microsecond_apart_apart_and_the_dimension() -> None:
    apart = [_w(_d(1), _d(2), UPDATED), _w(_d(2, microsecond=1), _d(3), UPDATED)]
    assert coverage.merge(apart) == apart
    assert coverage.merge([_w(_d(1), _d(2), UPDATED), _w(_d(2), _d(3), UPDATED)]) == [
        _w(_d(1), _d(3), UPDATED)
    ]


# --- gaps -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("windows", "start", "end", "missing"),
    [
        ([(1, 10)], 1, 10, []),  # exactly covered
        ([(1, 10)], 2, 9, []),
        ([(2, 10)], 1, 10, [(1, 2)]),  # starts a day late
        ([(1, 9)], 1, 10, [(9, 10)]),  # ends a day early
        ([(1, 3), (5, 10)], 1, 10, [(3, 5)]),  # a hole
        ([(1, 3), (3, 10)], 1, 10, []),  # touching windows leave no hole
        ([], 1, 10, [(1, 10)]),
        ([(10, 12)], 1, 10, [(1, 10)]),  # a window starting at the end covers nothing of it
        ([(0, 1)], 1, 10, [(1, 10)]),  # nor one ending at the start
        ([(11, 12)], 1, 10, [(1, 10)]),  # a window after the end does not stretch the gap
        ([(0, 1), (3, 5)], 1, 10, [(1, 3), (5, 10)]),  # one before the start: the rest count
        ([(0, 2), (4, 5), (8, 12)], 1, 10, [(2, 4), (5, 8)]),
        ([(5, 6), (1, 2)], 1, 10, [(2, 5), (6, 10)]),  # unsorted windows
        ([(1, 10)], 5, 5, []),  # an empty window misses nothing
    ],
)
def test_gaps(
    windows: list[tuple[int, int]], start: int, end: int, missing: list[tuple[int, int]]
) -> None:
    found = coverage.gaps(
        [_w(_d(a + 1), _d(b + 1)) for a, b in windows], _d(start + 1), _d(end + 1)
    )
    assert found == [_w(_d(a + 1), _d(b + 1)) for a, b in missing]


def test_a_microsecond_short_is_a_gap() -> None:
    end = _d(10)
    assert coverage.gaps([_w(_d(1), end - timedelta(microseconds=1))], _d(1), end) == [
        _w(end - timedelta(microseconds=1), end)
    ]
    assert coverage.gaps([_w(_d(1, microsecond=1), end)], _d(1), end) == [
        _w(_d(1), _d(1, microsecond=1))
    ]


@pytest.mark.parametrize(
    ("windows", "inside"),
    [
        ([(1, 3)], [(2, 3)]),  # clipped at the start
        ([(8, 12)], [(8, 10)]),  # and at the end
        ([(0, 12)], [(2, 10)]),
        ([(0, 2)], []),  # ends where the span starts: nothing inside
        ([(10, 12)], []),  # starts where it ends: nothing inside
        ([(4, 5), (3, 4)], [(3, 5)]),  # merged first
        ([(0, 3), (9, 12)], [(2, 3), (9, 10)]),
    ],
)
def test_within(windows: list[tuple[int, int]], inside: list[tuple[int, int]]) -> None:
    found = coverage.within([_w(_d(a + 1), _d(b + 1), UPDATED) for a, b in windows], _d(3), _d(11))
    assert found == [_w(_d(a + 1), _d(b + 1), UPDATED) for a, b in inside]


def test_windows_are_shown_by_day_or_to_the_minute() -> None:
    assert str(_w(_d(1), _d(2))) == "2024-01-01 to 2024-01-02"
    assert str(_w(_d(1, 21), _d(2, microsecond=1))) == "2024-01-01 21:00 to 2024-01-02 00:00"
    assert coverage.spans([]) == "none"
    assert coverage.spans([_w(_d(1), _d(2)), _w(_d(3), _d(4))]) == (
        "2024-01-01 to 2024-01-02, 2024-01-03 to 2024-01-04"
    )


# --- recorded coverage as known at a time ------------------------------------------------


def test_covered_is_what_was_recorded_by_then(con: duckdb.DuckDBPyConnection) -> None:
    first, second = datetime(2024, 2, 1, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC)
    coverage.record(con, "s", "r1", [_w(_d(1), _d(5)), _w(_d(9), _d(9))], first)  # empty: dropped
    coverage.record(con, "s", "r2", [_w(_d(5), _d(8)), _w(_d(1), _d(2), UPDATED)], second)
    assert coverage.covered(con, "s") == [_w(_d(1), _d(8))]
    assert coverage.covered(con, "s", str(second)) == [_w(_d(1), _d(8))]
    assert coverage.covered(con, "s", str(second - timedelta(microseconds=1))) == [_w(_d(1), _d(5))]
    assert coverage.covered(con, "s", str(first - timedelta(microseconds=1))) == []
    assert coverage.covered(con, "s", dimension=UPDATED) == [_w(_d(1), _d(2), UPDATED)]
    assert coverage.has_any(con, "s") and not coverage.has_any(con, "other")
    assert con.execute("SELECT count(*) FROM source_coverage").fetchone() == (3,)


# --- the windows a portal run asks for ---------------------------------------------------

FIRST_DAY = date(2001, 1, 1)
PUBLISHED = _d(8, 21)  # what the portal had published when the run fetched


@pytest.mark.parametrize(
    ("backfill", "window"),
    [
        ((date(2024, 1, 2), date(2024, 1, 5)), (_d(2), _d(5))),  # ends before the publication
        ((date(2024, 1, 2), date(2024, 1, 8)), (_d(2), _d(8))),
        ((date(2024, 1, 2), date(2024, 1, 9)), (_d(2), PUBLISHED)),  # asked past it: bounded
        ((date(2024, 1, 2), None), (_d(2), PUBLISHED)),
        ((None, None), (datetime(2001, 1, 1), PUBLISHED)),  # everything from the first day
    ],
)
def test_a_backfill_covers_its_event_dates_up_to_what_was_published(
    backfill: tuple[date | None, date | None], window: tuple[datetime, datetime]
) -> None:
    assert coverage.asked("backfill", backfill, None, None, FIRST_DAY, PUBLISHED) == [_w(*window)]


def test_an_incremental_run_covers_update_stamps_and_events_from_the_floor() -> None:
    since, floor = _d(3), _d(5)
    both = coverage.asked("incremental", (None, None), since, floor, FIRST_DAY, PUBLISHED)
    assert both == [_w(since, PUBLISHED, UPDATED), _w(floor, PUBLISHED)]
    without_floor = coverage.asked("incremental", (None, None), since, None, FIRST_DAY, PUBLISHED)
    assert without_floor == [_w(since, PUBLISHED, UPDATED)]
    first_run = coverage.asked("incremental", (None, None), None, floor, FIRST_DAY, PUBLISHED)
    assert first_run == [_w(datetime(2001, 1, 1), PUBLISHED)]


# --- a stalled source -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("newest", "stalled"),
    [
        (None, False),  # no data: nothing to say here (no_source says it)
        (_d(17), False),  # end - newest = 14 days: a usual quiet spell
        (_d(20), False),
        (_d(16, 23), True),  # an hour more
        (_d(31), False),  # the newest event on the window's end
        (datetime(2024, 2, 9), False),  # or after it
    ],
)
def test_newest_event_gap(newest: datetime | None, stalled: bool) -> None:
    end, usual = _d(31), timedelta(days=14)
    found = coverage.newest_event_gap(newest, end, usual)
    assert (found is not None) is stalled


def test_newest_event_gap_on_the_bound_and_a_microsecond_past_it() -> None:
    end, usual = _d(31), timedelta(days=14)
    assert coverage.newest_event_gap(end - usual, end, usual) is None
    found = coverage.newest_event_gap(end - usual - timedelta(microseconds=1), end, usual)
    assert found == (
        "the newest event in the data is 2024-01-16 23:59, 14 days before the window ends "
        "(2024-01-31); the source usually goes no more than 14 days without one"
    )


# --- Chicago time: "complete through" and coverage windows -------------------------------

# 03:00 UTC on Jan 15 is 21:00 on Jan 14 in Chicago (CST, UTC-6); less the portal's 7-day lag,
# the portal had published events up to 21:00 on Jan 7, Chicago time. In UTC it would be
# 03:00 on Jan 8: six hours of events never fetched would count as covered.
WINTER = datetime(2024, 1, 15, 3, tzinfo=UTC)
WINTER_THROUGH = datetime(2024, 1, 7, 21)
# 03:00 UTC on Jul 15 is 22:00 on Jul 14 in Chicago (CDT, UTC-5).
SUMMER = datetime(2024, 7, 15, 3, tzinfo=UTC)
SUMMER_THROUGH = datetime(2024, 7, 7, 22)


@pytest.mark.parametrize(
    ("fetched_at", "through"), [(WINTER, WINTER_THROUGH), (SUMMER, SUMMER_THROUGH)]
)
def test_a_chicago_backfill_covers_event_dates_in_chicago_time(
    fetched_at: datetime, through: datetime
) -> None:
    options = Options(mode="backfill", start=date(2024, 1, 1))
    assert crimes.covered(options, State(), fetched_at) == [_w(_d(1), through)]
    bounded = Options(mode="backfill", start=date(2024, 1, 1), end=date(2024, 1, 3))
    assert crimes.covered(bounded, State(), fetched_at) == [_w(_d(1), _d(3))]


def test_an_incremental_chicago_run_has_update_stamps_in_utc_and_events_in_chicago_time() -> None:
    state = State(watermark="2024-01-12T00:00:00", complete_through=_d(5))
    windows = crimes.covered(Options(mode="incremental"), state, WINTER)
    assert windows == [
        _w(_d(5), datetime(2024, 1, 15, 3), UPDATED),  # the watermark less 7 re-pull days
        _w(_d(5), WINTER_THROUGH),
    ]


def test_socrata_covered_uses_the_zone_it_is_given() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    options = Options(mode="backfill", start=date(2024, 1, 1))
    windows = socrata.covered(options, State(), FIRST_DAY, WINTER, timedelta(days=1), tokyo)
    assert windows == [_w(_d(1), datetime(2024, 1, 14, 12))]  # 12:00 on Jan 15 in Tokyo


def _page(
    con: duckdb.DuckDBPyConnection, fetched_at: datetime, newest: datetime | None
) -> tuple[Page, dict[str, PageTable]]:
    con.execute(
        "CREATE OR REPLACE TEMP TABLE page AS SELECT CAST(? AS TIMESTAMP) AS portal_updated_at",
        [newest],
    )
    fetched = Fetched(crimes.SLUG, PORTAL, 200, "application/json", b"[]", fetched_at)
    return Page("rows", fetched, None), {crimes.SLUG: PageTable(con, "page", 1)}


@pytest.mark.parametrize(
    ("mode", "end", "state", "through"),
    [
        ("backfill", None, State(), WINTER_THROUGH),
        ("backfill", date(2024, 1, 3), State(), _d(3)),  # the backfill ends first
        ("backfill", date(2024, 1, 8), State(), WINTER_THROUGH),  # the lag ends first
        ("backfill", date(2024, 1, 3), State(complete_through=_d(10)), _d(10)),  # never back
        ("incremental", None, State(watermark="2024-01-01T00:00:00"), None),  # unknown
        (
            "incremental",
            None,
            State(watermark="2024-01-01T00:00:00", complete_through=_d(2)),
            WINTER_THROUGH,
        ),
        ("incremental", None, State(), WINTER_THROUGH),  # a first run is a backfill
    ],
)
def test_complete_through_is_chicago_time_less_the_lag(
    con: duckdb.DuckDBPyConnection,
    mode: str,
    end: date | None,
    state: State,
    through: datetime | None,
) -> None:
    page, records = _page(con, WINTER, datetime(2024, 1, 9, 8))
    options = Options(mode=mode, start=date(2024, 1, 1) if end else None, end=end)
    advanced = crimes.advance(state, page, records, options)
    assert advanced.complete_through == through


def test_the_watermark_is_the_newest_update_stamp_seen(con: duckdb.DuckDBPyConnection) -> None:
    page, records = _page(con, WINTER, datetime(2024, 1, 9, 8))
    options = Options(mode="incremental")
    older = State(watermark="2024-01-01T00:00:00", complete_through=_d(2))
    assert crimes.advance(older, page, records, options).watermark == "2024-01-09T08:00:00"
    newer = State(watermark="2024-01-10T00:00:00", complete_through=_d(2))
    assert crimes.advance(newer, page, records, options).watermark == "2024-01-10T00:00:00"
    page, empty = _page(con, WINTER, None)
    assert crimes.advance(State(), page, empty, options).watermark is None
    assert crimes.advance(newer, page, empty, options).watermark == "2024-01-10T00:00:00"


@pytest.fixture
def fetched_in_winter(
    con: duckdb.DuckDBPyConnection, archive: Archive
) -> duckdb.DuckDBPyConnection:
    """A backfill from Jan 1 2024 with no end, fetched at 03:00 UTC on Jan 15, its coverage
    as the source states it (what `collect` records for the run)."""
    rows = [crime(1, datetime(2024, 1, 5)), crime(2, datetime(2024, 1, 7, 20))]

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=rows if request.url.params.get("$offset") == "0" else [])

    options = Options(mode="backfill", start=date(2024, 1, 1), base_url=PORTAL)
    with _client(answer, WINTER) as client:
        collect(con, archive, client, crimes.SLUG, options, job="test")
    set_coverage(con, crimes.SLUG, crimes.covered(options, State(), WINTER), WINTER)
    return con


def test_a_run_is_complete_through_chicago_time(
    fetched_in_winter: duckdb.DuckDBPyConnection,
) -> None:
    assert read_state(fetched_in_winter, crimes.SLUG).complete_through == WINTER_THROUGH


@pytest.mark.parametrize(
    ("end", "gap"),
    [
        (WINTER_THROUGH, None),
        (datetime(2024, 1, 7, 22), "2024-01-07 21:00 to 2024-01-07 22:00"),
        (datetime(2024, 1, 8, 3), "2024-01-07 21:00 to 2024-01-08 03:00"),
    ],
)
def test_a_count_past_what_was_published_in_chicago_time_is_incomplete(
    fetched_in_winter: duckdb.DuckDBPyConnection, end: datetime, gap: str | None
) -> None:
    figure = helpers.count(fetched_in_winter, CPD, "murder", _d(1), end)
    assert figure.value == 2
    found = [c.detail for c in figure.caveats if c.kind == "incomplete"]
    if gap is None:
        assert found == []
    else:
        assert len(found) == 1 and f"never collected for {gap}" in found[0]
