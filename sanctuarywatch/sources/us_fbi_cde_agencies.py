"""FBI Crime Data Explorer: the police agencies of a state (ORI, name, type, county, NIBRS).

Publisher: FBI Uniform Crime Reporting Program (Crime Data Explorer).
URL: https://api.usa.gov/crime/fbi/cde/agency/byStateAbbr/{ST} (keyed), or the same path under
     https://cde.ucr.cjis.gov/LATEST; sources.platforms.fbi_cde chooses and records the host.
Cadence: changes rarely (new agencies, NIBRS transitions); a monthly pull is plenty.

Notes (dated, from the real Illinois response of 2025-2026):
- The answer is an object keyed by county name (upper case), each a list of agencies with
  `ori, agency_name, agency_type_name, counties, is_nibrs, nibrs_start_date, state_abbr,
  state_name, latitude, longitude`; `nibrs_start_date` is null for agencies not on NIBRS.
- An agency serving several counties may appear under each; the ORI is the key, so the last
  listing wins and `counties` keeps the agency's own list.
- Options: extra["states"] (two-letter codes; default IL and FL), extra["host"].
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sanctuarywatch.errors import LayoutError, RecordError
from sanctuarywatch.http import Fetched, HttpClient
from sanctuarywatch.sources import Options, Page, PageIterator, State
from sanctuarywatch.sources.platforms import fbi_cde

SLUG = "us_fbi_cde_agencies"
PUBLISHER = "FBI Uniform Crime Reporting Program (Crime Data Explorer)"
URL = "https://api.usa.gov/crime/fbi/cde/agency/byStateAbbr/{state}"
FORMAT = "JSON API"
CADENCE = "monthly"
TABLES = {"us_fbi_cde_agencies": ("ori",)}
REQUESTS_PER_SECOND = 0.25
DEFAULT_STATES = ("IL", "FL")
REQUIRED = ("ori", "agency_name", "agency_type_name")


def fetch(client: HttpClient, options: Options, state: State) -> PageIterator:
    """One request per state."""
    host = fbi_cde.choose_host(options)
    base, params = fbi_cde.base_url(options, host), fbi_cde.key_params(host)
    kind = fbi_cde.kind_for("agencies", host)
    for abbr in options.extra.get("states", DEFAULT_STATES):
        fetched = client.get(SLUG, f"{base}/agency/byStateAbbr/{abbr}", params=params)
        yield Page(kind, fetched, parse(fetched, kind))


def parse(fetched: Fetched, kind: str) -> list[dict[str, Any]]:
    """Every agency of every county, with the county it was listed under."""
    data = fbi_cde.json_object(SLUG, fetched)
    rows = []
    for county, agencies in data.items():
        if not isinstance(agencies, list):
            raise LayoutError(SLUG, fetched.url, "county -> list of agencies", f"{county!r}")
        for agency in agencies:
            rows.append(_checked(agency, fetched.url) | {"county": county})
    return rows


def _checked(agency: Any, url: str) -> dict[str, Any]:
    if not isinstance(agency, dict):
        raise LayoutError(SLUG, url, "agency objects", type(agency).__name__)
    missing = [name for name in REQUIRED if name not in agency]
    if missing:
        raise LayoutError(SLUG, url, f"agencies with {', '.join(REQUIRED)}", f"{missing} missing")
    return agency


def normalize(rows: list[dict[str, Any]], kind: str) -> dict[str, list[dict[str, Any]]]:
    host = fbi_cde.host_of(SLUG, kind)
    return {"us_fbi_cde_agencies": [record(row, host) for row in rows]}


def record(row: dict[str, Any], host: str) -> dict[str, Any]:
    try:
        start = row.get("nibrs_start_date")
        return {
            "ori": row["ori"],
            "agency_name": row["agency_name"],
            "agency_type": row["agency_type_name"],
            "county": row["county"],
            "counties": row.get("counties"),
            "state_abbr": row.get("state_abbr"),
            "state_name": row.get("state_name"),
            "is_nibrs": row.get("is_nibrs"),
            "nibrs_start_date": date.fromisoformat(start[:10]) if start else None,
            "latitude": row.get("latitude"),
            "longitude": row.get("longitude"),
            "host": host,
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise RecordError(SLUG, "agency list", str(row.get("ori")), repr(exc)) from None


def advance(
    state: State, page: Page, records: dict[str, list[dict[str, Any]]], options: Options
) -> State:
    """A full list every run: nothing to remember but when it was last complete."""
    through = page.fetched.fetched_at.replace(tzinfo=None)
    return State(watermark=state.watermark, complete_through=through)
