"""Chicago victims of homicides and non-fatal shootings (City of Chicago Data Portal).

Publisher: City of Chicago, Office of Public Safety Administration / Chicago Police Department.
URL: https://data.cityofchicago.org/resource/gumc-mgzr.json (SODA 2.x)
Cadence: daily.

Notes (dated):
- One row per victimization, key `unique_id`; non-fatal shootings are covered from 2010.
  This is the source for "people shot" (gunshot_injury_i = 'Y').
- Columns are known from a public connector's schema (2024); no real rows were available to
  this project, so its tests use constructed rows labelled as such and the demo archive does
  not include this source: claims about shootings say the source is not loaded.
- gunshot_injury_i is Y / N / UNKNOWN; UNKNOWN is kept as NULL, never as "not shot".
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from .. import socrata
from ..errors import RecordError
from ..http import Fetched, HttpClient
from . import Options, Page, PageIterator, State

SLUG = "il_chicago_violence_victims"
PUBLISHER = "City of Chicago / Chicago Police Department"
URL = "https://data.cityofchicago.org/resource/gumc-mgzr.json"
FORMAT = "Socrata SODA JSON"
CADENCE = "daily"
TABLES = {"il_chicago_violence_victims": ("unique_id",)}
REQUESTS_PER_SECOND = 5.0
DEFAULT_PAGE_SIZE = 50_000
TIME_ZONE = ZoneInfo("America/Chicago")
REQUIRED = ("unique_id", "date", "victimization_primary", "gunshot_injury_i")
FIRST_DAY = date(2010, 1, 1)


def fetch(client: HttpClient, options: Options, state: State) -> PageIterator:
    url = options.base_url or URL
    where, order = socrata.window(options, state, FIRST_DAY)
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
    return {"il_chicago_violence_victims": [record(row) for row in rows]}


def advance(
    state: State, page: Page, records: dict[str, list[dict[str, Any]]], options: Options
) -> State:
    """Watermark: newest `updated` value seen (the dataset's own update stamp)."""
    stamps = [r["updated"] for r in records.get("il_chicago_violence_victims", []) if r["updated"]]
    if state.watermark:
        stamps.append(datetime.fromisoformat(state.watermark))
    events = [r["occurred_local"] for r in records.get("il_chicago_violence_victims", [])]
    if state.complete_through:
        events.append(state.complete_through)
    return State(
        watermark=max(stamps).isoformat() if stamps else None,
        complete_through=max(events, default=None),
    )


def record(row: dict[str, Any]) -> dict[str, Any]:
    key = str(row.get("unique_id", "?"))
    try:
        return _record(row)
    except (TypeError, ValueError) as exc:
        raise RecordError(SLUG, "row", key, str(exc)) from None


def _record(row: dict[str, Any]) -> dict[str, Any]:
    local = socrata.floating_timestamp(row.get("date"))
    if local is None:
        raise ValueError("no date")
    latitude, longitude = socrata.point(row)
    primary = (row.get("victimization_primary") or "").upper()
    return {
        "unique_id": str(row["unique_id"]),
        "case_number": row.get("case_number"),
        "occurred_local": local,
        "occurred_at": local.replace(tzinfo=TIME_ZONE).astimezone(UTC),
        "block": row.get("block"),
        "victimization_primary": row.get("victimization_primary"),
        "incident_primary": row.get("incident_primary"),
        "gunshot_injury": socrata.boolean(row.get("gunshot_injury_i")),
        "is_homicide": primary == "HOMICIDE",
        "victimization_iucr_cd": row.get("victimization_iucr_cd"),
        "victimization_fbi_cd": row.get("victimization_fbi_cd"),
        "zip_code": row.get("zip_code"),
        "ward": socrata.integer(row.get("ward")),
        "community_area": row.get("community_area"),
        "area": socrata.integer(row.get("area")),
        "district": socrata.padded(row.get("district"), 3),
        "beat": socrata.padded(row.get("beat"), 4),
        "age": row.get("age"),
        "sex": row.get("sex"),
        "race": row.get("race"),
        "location_description": row.get("location_description"),
        "updated": socrata.floating_timestamp(row.get("updated") or row.get(":updated_at")),
        "latitude": latitude,
        "longitude": longitude,
    }
