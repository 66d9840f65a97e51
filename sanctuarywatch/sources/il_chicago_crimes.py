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

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .. import socrata
from ..errors import RecordError
from ..http import Fetched, HttpClient
from . import Options, Page, PageIterator, State

SLUG = "il_chicago_crimes"
PUBLISHER = "City of Chicago / Chicago Police Department"
URL = "https://data.cityofchicago.org/resource/ijzp-q8t2.json"
FORMAT = "Socrata SODA JSON"
CADENCE = "daily, 7-day lag"
TABLES = {"il_chicago_crimes": ("id",)}
REQUESTS_PER_SECOND = 5.0
DEFAULT_PAGE_SIZE = 50_000
TIME_ZONE = ZoneInfo("America/Chicago")
REQUIRED = ("id", "date", "iucr", "primary_type")
MURDER_IUCR = frozenset({"0110"})
OTHER_HOMICIDE_IUCR = frozenset({"0130", "0141", "0142"})
FIRST_DAY = date(2001, 1, 1)
PORTAL_LAG = timedelta(days=7)


def fetch(client: HttpClient, options: Options, state: State) -> PageIterator:
    """Backfill a date range, or pull what changed since the watermark (minus a window)."""
    url = options.base_url or URL
    scope = "" if options.extra.get("all_crimes") else "primary_type = 'HOMICIDE'"
    where, order = socrata.window(options, state, FIRST_DAY, scope)
    yield from socrata.pages(
        client,
        SLUG,
        url,
        where,
        order,
        options.page_size or DEFAULT_PAGE_SIZE,
        select="*, :id, :updated_at",
    )


def parse(fetched: Fetched, kind: str) -> list[dict[str, Any]]:
    rows = socrata.parse_rows(fetched)
    socrata.require(SLUG, fetched.url, rows, REQUIRED)
    return rows


def normalize(rows: list[dict[str, Any]], kind: str) -> dict[str, list[dict[str, Any]]]:
    return {"il_chicago_crimes": [record(row) for row in rows]}


def advance(
    state: State, page: Page, records: dict[str, list[dict[str, Any]]], options: Options
) -> State:
    """Watermark: newest portal :updated_at seen. Complete through: the fetch time less the
    portal's 7-day lag, or the end of the backfill window if that is earlier."""
    stamps = [r["portal_updated_at"] for r in records.get("il_chicago_crimes", [])]
    stamps = [s for s in stamps if s is not None]
    if state.watermark:
        stamps.append(datetime.fromisoformat(state.watermark))
    fetched_local = page.fetched.fetched_at.astimezone(TIME_ZONE).replace(tzinfo=None)
    through = fetched_local - PORTAL_LAG
    if options.mode == "backfill" and options.end:
        through = min(through, datetime.combine(options.end, datetime.min.time()))
    if state.complete_through:
        through = max(through, state.complete_through)
    return State(watermark=max(stamps).isoformat() if stamps else None, complete_through=through)


def record(row: dict[str, Any]) -> dict[str, Any]:
    """One portal row (JSON or either CSV dialect) as a warehouse record."""
    key = str(row.get("id", "?"))
    try:
        return _record(row)
    except (TypeError, ValueError, OverflowError, IndexError, KeyError) as exc:  # by fuzzing
        raise RecordError(SLUG, "row", key, str(exc)) from None


def _record(row: dict[str, Any]) -> dict[str, Any]:
    local = socrata.floating_timestamp(row.get("date"))
    if local is None:
        raise ValueError("no date")
    latitude, longitude = socrata.point(row)
    iucr = socrata.padded(row.get("iucr"), 4)
    return {
        "id": socrata.integer(row["id"]),
        "case_number": row.get("case_number"),
        "occurred_local": local,
        "occurred_at": local.replace(tzinfo=TIME_ZONE).astimezone(UTC),
        "block": row.get("block"),
        "iucr": iucr,
        "primary_type": row.get("primary_type"),
        "description": row.get("description"),
        "location_description": row.get("location_description") or None,
        "arrest": socrata.boolean(row.get("arrest")),
        "domestic": socrata.boolean(row.get("domestic")),
        "beat": socrata.padded(row.get("beat"), 4),
        "district": socrata.padded(row.get("district"), 3),
        "ward": socrata.integer(row.get("ward")),
        "community_area": socrata.integer(row.get("community_area")),
        "fbi_code": row.get("fbi_code"),
        "x_coordinate": socrata.number(row.get("x_coordinate")),
        "y_coordinate": socrata.number(row.get("y_coordinate")),
        "year": socrata.integer(row.get("year")),
        "updated_on": socrata.floating_timestamp(row.get("updated_on")),
        "latitude": latitude,
        "longitude": longitude,
        "offense_class": offense_class(row.get("primary_type"), iucr),
        "portal_updated_at": socrata.floating_timestamp(row.get(":updated_at")),
    }


def offense_class(primary_type: str | None, iucr: str | None) -> str | None:
    """'murder' (IUCR 0110), 'homicide_other' (other HOMICIDE codes) or None."""
    if iucr in MURDER_IUCR:
        return "murder"
    if primary_type == "HOMICIDE" or iucr in OTHER_HOMICIDE_IUCR:
        return "homicide_other"
    return None
