"""Chicago Police Department crimes, 2001 to present (City of Chicago Data Portal).

Publisher: City of Chicago, Chicago Police Department (CLEAR system).
URL: https://data.cityofchicago.org/resource/ijzp-q8t2.json (SODA 2.x; also .csv)
Cadence: daily; the newest 7 days are withheld. Records are reclassified and updated for years.

Notes (dated):
- One row per incident, except homicides: one row per victim (portal description, 2023).
- "Murder" here means IUCR 0110, first-degree murder (FBI code 01A), the series the city and
  the press count as murders. Other HOMICIDE IUCRs are 0130 second-degree murder, 0141
  involuntary manslaughter and 0142 reckless homicide; they are kept as
  offense_class = 'homicide_other', so "all homicides" = murder + homicide_other.
- The arrest flag is the arrest status when fetched, not whether the case was cleared in the
  year it happened (2023 snapshot: 282 of 786 victims of 2016 flagged).
- 2016: CPD said 762 homicides at the time; the portal now has 786 victim rows (counts drift).
- By default only HOMICIDE rows are collected (options.extra["all_crimes"] pulls every crime).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sanctuarywatch.http import Fetched, HttpClient
from sanctuarywatch.load import coverage, sqlnorm
from sanctuarywatch.sources import Options, Page, PageIterator, State
from sanctuarywatch.sources.platforms import socrata

SLUG = "il_chicago_crimes"
PUBLISHER = "City of Chicago / Chicago Police Department"
URL = "https://data.cityofchicago.org/resource/ijzp-q8t2.json"
FORMAT = "Socrata SODA JSON"
CADENCE = "daily, 7-day lag"
TABLES = {"il_chicago_crimes": ("id",)}
REQUESTS_PER_SECOND = 5.0
# 20,000 rows a page, not the portal's maximum of 50,000: a load holds about two pages at a
# time (one parsed ahead), and at 50,000 that alone cost ~130 MB more peak memory for no
# measurable speed (BENCHMARKS.md). A full history (8M rows) is 400 requests.
DEFAULT_PAGE_SIZE = 20_000
TIME_ZONE = ZoneInfo("America/Chicago")
REQUIRED = ("id", "date", "iucr", "primary_type")
MURDER_IUCR = frozenset({"0110"})
OTHER_HOMICIDE_IUCR = frozenset({"0130", "0141", "0142"})
FIRST_DAY = date(2001, 1, 1)
PORTAL_LAG = timedelta(days=7)
# The longest Chicago went without a homicide victim in 2001-2017 is 8.8 days (the portal
# rows in ../shared/data/chicago); a count whose window ends more than two weeks after the
# newest event in the warehouse is read as a stalled source, not a quiet spell.
QUIET_SPELL = timedelta(days=14)


FIELDS = (
    "id",
    "case_number",
    "date",
    "block",
    "iucr",
    "primary_type",
    "description",
    "location_description",
    "arrest",
    "domestic",
    "beat",
    "district",
    "ward",
    "community_area",
    "fbi_code",
    "x_coordinate",
    "y_coordinate",
    "year",
    "updated_on",
    "latitude",
    "longitude",
    "location",
    ":id",
    ":updated_at",
)
DATASET = socrata.Dataset(SLUG, URL, FIELDS, FIRST_DAY, DEFAULT_PAGE_SIZE)
COLUMNS = (
    sqlnorm.integer("id", sql_type="BIGINT", required=True),
    sqlnorm.text("case_number"),
    sqlnorm.timestamp("occurred_local", "date", required=True),
    sqlnorm.text("block"),
    sqlnorm.padded("iucr", 4),
    sqlnorm.text("primary_type"),
    sqlnorm.text("description"),
    sqlnorm.text("location_description", empty_is_null=True),
    sqlnorm.boolean("arrest"),
    sqlnorm.boolean("domestic"),
    sqlnorm.padded("beat", 4),
    sqlnorm.padded("district", 3),
    sqlnorm.integer("ward"),
    sqlnorm.integer("community_area"),
    sqlnorm.text("fbi_code"),
    sqlnorm.number("x_coordinate"),
    sqlnorm.number("y_coordinate"),
    sqlnorm.integer("year"),
    sqlnorm.timestamp("updated_on"),
    *sqlnorm.point(),
    sqlnorm.timestamp("portal_updated_at", ":updated_at"),
)
DERIVED = (
    sqlnorm.Column("occurred_at", sqlnorm.local_to_utc("occurred_local", str(TIME_ZONE))),
    sqlnorm.Column(
        "offense_class",
        f"CASE WHEN iucr IN ({', '.join(map(sqlnorm.literal, sorted(MURDER_IUCR)))}) "
        "THEN 'murder' "
        f"WHEN primary_type = 'HOMICIDE' OR iucr IN "
        f"({', '.join(map(sqlnorm.literal, sorted(OTHER_HOMICIDE_IUCR)))}) "
        "THEN 'homicide_other' END",
    ),
)


def fetch(client: HttpClient, options: Options, state: State) -> PageIterator:
    """Backfill a date range, or pull what changed since the watermark (minus a window)."""
    scope = "" if options.extra.get("all_crimes") else "primary_type = 'HOMICIDE'"
    yield from socrata.walk(client, DATASET, options, state, scope)


# The source's one normalise path: portal rows (a JSON page, or dicts from either CSV
# dialect) as records, in DuckDB (value rules: sqlnorm); a load runs it in the warehouse.
NORMALIZER = sqlnorm.Normaliser(SLUG, SLUG, FIELDS, COLUMNS, DERIVED, "id", REQUIRED)


def parse(fetched: Fetched, kind: str) -> sqlnorm.PageFile:
    return socrata.read_page(fetched, FIELDS)


def covered(options: Options, state: State, fetched_at: datetime) -> list[coverage.Window]:
    """The event dates and update stamps a complete run of `fetch` has seen."""
    return socrata.covered(options, state, FIRST_DAY, fetched_at, PORTAL_LAG, TIME_ZONE)


def advance(
    state: State, page: Page, records: dict[str, sqlnorm.PageTable], options: Options
) -> State:
    """Watermark: newest portal :updated_at seen. Complete through: the fetch time less the
    portal's 7-day lag, or the end of the backfill window if that is earlier."""
    newest = records[SLUG].max("portal_updated_at")
    stamps = [newest] if newest is not None else []
    if state.watermark:
        stamps.append(datetime.fromisoformat(state.watermark))
    fetched_local = page.fetched.fetched_at.astimezone(TIME_ZONE).replace(tzinfo=None)
    through: datetime | None = fetched_local - PORTAL_LAG
    if options.mode == "incremental" and state.watermark and not state.complete_through:
        through = None  # loaded before coverage was kept: what an update pull covers is unknown
    if through and options.mode == "backfill" and options.end:
        through = min(through, datetime.combine(options.end, datetime.min.time()))
    if state.complete_through:
        through = max(through, state.complete_through) if through else state.complete_through
    return State(watermark=max(stamps).isoformat() if stamps else None, complete_through=through)
