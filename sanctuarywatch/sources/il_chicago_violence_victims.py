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

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sanctuarywatch.http import Fetched, HttpClient
from sanctuarywatch.load import coverage, sqlnorm
from sanctuarywatch.sources import Options, Page, PageIterator, State
from sanctuarywatch.sources.platforms import socrata

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
# Not documented for this dataset; taken to be the crimes dataset's week (same portal, same
# department) until real rows say otherwise.
PORTAL_LAG = timedelta(days=7)
QUIET_SPELL = timedelta(days=14)


FIELDS = (
    "unique_id",
    "case_number",
    "date",
    "block",
    "victimization_primary",
    "incident_primary",
    "gunshot_injury_i",
    "victimization_iucr_cd",
    "victimization_fbi_cd",
    "zip_code",
    "ward",
    "community_area",
    "area",
    "district",
    "beat",
    "age",
    "sex",
    "race",
    "location_description",
    "updated",
    "latitude",
    "longitude",
    "location",
    ":id",
    ":updated_at",
)
DATASET = socrata.Dataset(SLUG, URL, FIELDS, FIRST_DAY, DEFAULT_PAGE_SIZE)
COLUMNS = (
    sqlnorm.Column(
        "unique_id", '"unique_id"', "CASE WHEN unique_id IS NULL THEN 'no unique_id' END"
    ),
    sqlnorm.text("case_number"),
    sqlnorm.timestamp("occurred_local", "date", required=True),
    sqlnorm.text("block"),
    sqlnorm.text("victimization_primary"),
    sqlnorm.text("incident_primary"),
    sqlnorm.boolean("gunshot_injury", "gunshot_injury_i"),
    sqlnorm.Column("is_homicide", "coalesce(upper(victimization_primary) = 'HOMICIDE', false)"),
    sqlnorm.text("victimization_iucr_cd"),
    sqlnorm.text("victimization_fbi_cd"),
    sqlnorm.text("zip_code"),
    sqlnorm.integer("ward"),
    sqlnorm.text("community_area"),
    sqlnorm.integer("area"),
    sqlnorm.padded("district", 3),
    sqlnorm.padded("beat", 4),
    sqlnorm.text("age"),
    sqlnorm.text("sex"),
    sqlnorm.text("race"),
    sqlnorm.text("location_description"),
    sqlnorm.timestamp("updated", "updated_or_system"),
    *sqlnorm.point(),
)
DERIVED = (sqlnorm.Column("occurred_at", sqlnorm.local_to_utc("occurred_local", str(TIME_ZONE))),)


def fetch(client: HttpClient, options: Options, state: State) -> PageIterator:
    yield from socrata.walk(client, DATASET, options, state)


# the update stamp is the dataset's own `updated` field, else the portal's :updated_at
UPDATED = sqlnorm.Column(
    "updated_or_system",
    "CASE WHEN nullif(updated, '') IS NULL THEN \":updated_at\" ELSE updated END",
)
# The source's one normalise path: victim rows as records, in DuckDB (value rules: sqlnorm).
NORMALIZER = sqlnorm.Normaliser(
    SLUG, SLUG, FIELDS, COLUMNS, DERIVED, "unique_id", REQUIRED, inputs=(UPDATED,)
)


def parse(fetched: Fetched, kind: str) -> sqlnorm.PageFile:
    return socrata.read_page(fetched, FIELDS)


def covered(options: Options, state: State, fetched_at: datetime) -> list[coverage.Window]:
    """The event dates and update stamps a complete run of `fetch` has seen."""
    return socrata.covered(options, state, FIRST_DAY, fetched_at, PORTAL_LAG, TIME_ZONE)


def advance(
    state: State, page: Page, records: dict[str, sqlnorm.PageTable], options: Options
) -> State:
    """Watermark: newest `updated` value seen (the dataset's own update stamp)."""
    table = records[SLUG]
    stamps = [s for s in (table.max("updated"),) if s is not None]
    if state.watermark:
        stamps.append(datetime.fromisoformat(state.watermark))
    events = [e for e in (table.max("occurred_local"),) if e is not None]
    if state.complete_through:
        events.append(state.complete_through)
    return State(
        watermark=max(stamps).isoformat() if stamps else None,
        complete_through=max(events, default=None),
    )
