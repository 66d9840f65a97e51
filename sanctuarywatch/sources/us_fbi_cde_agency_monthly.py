"""FBI Crime Data Explorer: monthly offense counts and clearances per police agency.

Publisher: FBI Uniform Crime Reporting Program (Crime Data Explorer).
URL: https://api.usa.gov/crime/fbi/cde/summarized/agency/{ORI}/{offense}?from=MM-YYYY&to=MM-YYYY
     (keyed), or the same path under https://cde.ucr.cjis.gov/LATEST (the site's backend);
     see sanctuarywatch.sources.platforms.fbi_cde for how the host is chosen and recorded.
Cadence: monthly refresh; agencies revise months until the following spring.

Notes (dated, from SOURCES.md and the real 2024 Chicago PD response, refresh 2026-02-15):
- `offenses.actuals` holds series named "<Agency name> Offenses" / "... Clearances", each a
  dict "MM-YYYY" -> count, in no particular order; rates and populations use the same names.
- An unknown ORI answers 200 with `actuals: null`: that means "no data", never zero, so the
  requested months load with actual = NULL.
- The latest month can be partial: months not over before `cde_properties.last_refresh_date`
  (or after `max_data_date`) are dropped; a later run loads them once complete.
- Negative counts are corrections and stay as published; revisions become new versions.
- Not every agency reports by month (2026-12, issue 19): the Miami-Dade Police Department
  sends one annual total, booked in December. warehouse/044 reads each agency-year's pattern
  from the loaded months (null: not reported; a year whose only non-zero month is December:
  annual; June and December: half-yearly), as for us_ucr_agency_monthly, and the helpers never
  sum months of a year that was not reported by month.
- Options: extra["agencies"] (ORIs), extra["offenses"] (CDE codes), extra["host"].
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sanctuarywatch.errors import LayoutError, RecordError
from sanctuarywatch.http import Fetched, HttpClient
from sanctuarywatch.sources import Options, Page, PageIterator, State
from sanctuarywatch.sources.platforms import fbi_cde

SLUG = "us_fbi_cde_agency_monthly"
PUBLISHER = "FBI Uniform Crime Reporting Program (Crime Data Explorer)"
URL = "https://api.usa.gov/crime/fbi/cde/summarized/agency/{ori}/{offense}"
FORMAT = "JSON API"
CADENCE = "monthly; months revised for about a year"
TABLES = {"us_fbi_cde_agency_monthly": ("ori", "offense", "month", "series")}
REQUESTS_PER_SECOND = 0.25  # about 1,000 requests/hour per api.data.gov key
DEFAULT_AGENCIES = ("ILCPD0000", "FL0130000", "FL0130600")
DEFAULT_OFFENSES = ("V", "HOM")  # violent crime, homicide
FIRST_DAY = date(2010, 1, 1)
REVISION_WINDOW = timedelta(days=400)
SERIES = {"Offenses": "offenses", "Clearances": "clearances"}
_PATH = re.compile(r"/summarized/agency/([A-Z0-9]+)/([A-Za-z0-9-]+)$")


def fetch(client: HttpClient, options: Options, state: State) -> PageIterator:
    """One request per agency, offense and calendar year of the window."""
    host = fbi_cde.choose_host(options)
    base, params = fbi_cde.base_url(options, host), fbi_cde.key_params(host)
    kind = fbi_cde.kind_for("monthly", host)
    for ori in options.extra.get("agencies", DEFAULT_AGENCIES):
        for offense in options.extra.get("offenses", DEFAULT_OFFENSES):
            for first, last in year_chunks(*window(options)):
                query = params | {"from": f"{first:%m-%Y}", "to": f"{last:%m-%Y}"}
                url = f"{base}/summarized/agency/{ori}/{offense}"
                fetched = client.get(SLUG, url, params=query)
                yield Page(kind, fetched, parse(fetched, kind))


def window(options: Options) -> tuple[date, date]:
    """First and last month to ask for: the backfill range, or the revision window."""
    end = options.end or date.today() + timedelta(days=1)
    backfill = options.mode == "backfill"
    start = (options.start or FIRST_DAY) if backfill else end - REVISION_WINDOW
    return start.replace(day=1), (end - timedelta(days=1)).replace(day=1)


def year_chunks(first: date, last: date) -> list[tuple[date, date]]:
    return [
        (max(first, date(year, 1, 1)), min(last, date(year, 12, 1)))
        for year in range(first.year, last.year + 1)
    ]


def parse(fetched: Fetched, kind: str) -> list[dict[str, Any]]:
    """One row per series and month, as the CDE names them; requested months when null."""
    data = fbi_cde.json_object(SLUG, fetched)
    offenses = data.get("offenses")
    if not isinstance(offenses, dict) or "actuals" not in offenses:
        raise LayoutError(SLUG, fetched.url, "an 'offenses' object with 'actuals'", str(data)[:80])
    ori, offense = _request_parts(fetched.url)
    base = {"ori": ori, "offense": offense, **_properties(data)}
    actuals = offenses["actuals"]
    if actuals is None:
        empty = {"series_name": None, "actual": None, "rate": None, "population": None}
        return [base | empty | {"month": m} for m in requested_months(fetched.url)]
    if not isinstance(actuals, dict):
        raise LayoutError(SLUG, fetched.url, "actuals as an object or null", repr(actuals)[:80])
    if not actuals:
        return []
    agency = _agency_name(data, actuals, fetched.url)
    rates = offenses.get("rates") or {}
    population = ((data.get("populations") or {}).get("population") or {}).get(agency) or {}
    rows = []
    for suffix in SERIES:
        name = f"{agency} {suffix}"
        for month, value in (actuals.get(name) or {}).items():
            rate = (rates.get(name) or {}).get(month)
            rows.append(
                base
                | {
                    "series_name": name,
                    "month": month,
                    "actual": value,
                    "rate": rate,
                    "population": population.get(month),
                }
            )
    return rows


def _request_parts(url: str) -> tuple[str, str]:
    match = _PATH.search(urlsplit(url).path)
    if not match:
        raise LayoutError(SLUG, url, "a /summarized/agency/{ORI}/{offense} URL", urlsplit(url).path)
    return match.group(1), match.group(2)


def requested_months(url: str) -> list[str]:
    """The MM-YYYY months between the URL's from and to parameters, inclusive."""
    query = parse_qs(urlsplit(url).query)
    first, last = (_month(query[name][0]) for name in ("from", "to"))
    months = []
    while first <= last:
        months.append(f"{first:%m-%Y}")
        first = _next_month(first)
    return months


def _properties(data: dict[str, Any]) -> dict[str, str | None]:
    props = data.get("cde_properties") or {}
    return {
        name: next(iter((props.get(name) or {}).values()), None)
        for name in ("max_data_date", "last_refresh_date")
    }


def _agency_name(data: dict[str, Any], actuals: dict[str, Any], url: str) -> str:
    """The one series prefix that is neither the nation nor the state (named in the tooltips)."""
    coverage = (data.get("tooltips") or {}).get("Percent of Population Coverage") or {}
    others = {"United States", *coverage}
    names = {name.rpartition(" ")[0] for name in actuals if name.rpartition(" ")[2] in SERIES}
    agencies = sorted(names - others)
    if len(agencies) != 1:
        raise LayoutError(SLUG, url, "series of exactly one agency", repr(sorted(actuals))[:120])
    return agencies[0]


def normalize(rows: list[dict[str, Any]], kind: str) -> dict[str, list[dict[str, Any]]]:
    host = fbi_cde.host_of(SLUG, kind)
    records = [record(row, host) for row in rows]
    return {"us_fbi_cde_agency_monthly": [r for r in records if is_complete(r)]}


def record(row: dict[str, Any], host: str) -> dict[str, Any]:
    key = f"{row.get('ori')}/{row.get('offense')}/{row.get('month')}"
    try:
        name = row["series_name"]
        agency, _, suffix = name.rpartition(" ") if name else (None, "", "Offenses")
        max_data = row.get("max_data_date")
        refresh = row.get("last_refresh_date")
        return {
            "ori": row["ori"],
            "offense": row["offense"],
            "month": _month(row["month"]),
            "series": SERIES[suffix],
            "actual": _count(row["actual"]),
            "rate": None if row["rate"] is None else float(row["rate"]),
            "agency_name": agency,
            "population": _count(row["population"]),
            "host": host,
            "max_data_date": _month(max_data.replace("/", "-")) if max_data else None,
            "last_refresh_date": datetime.strptime(refresh, "%m/%d/%Y").date() if refresh else None,
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise RecordError(SLUG, "summarized", key, repr(exc)) from None


def is_complete(rec: dict[str, Any]) -> bool:
    """False for a month not over before the refresh date, or after the newest data month."""
    month: date = rec["month"]
    month_end = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    refresh, max_data = rec["last_refresh_date"], rec["max_data_date"]
    return not ((refresh and month_end >= refresh) or (max_data and month > max_data))


def _next_month(month: date) -> date:
    return (month.replace(day=1) + timedelta(days=32)).replace(day=1)


def _month(text: str) -> date:
    return datetime.strptime(text, "%m-%Y").date()


def _count(value: Any) -> int | None:
    """Whole numbers as published (negative ones too); None stays None."""
    if value is None:
        return None
    if isinstance(value, bool) or float(value) != int(value):
        raise ValueError(f"not a whole number: {value!r}")
    return int(value)


def advance(
    state: State, page: Page, records: dict[str, list[dict[str, Any]]], options: Options
) -> State:
    """Watermark: the newest CDE refresh date seen. Complete through: the end of the newest
    complete month loaded (months are dropped until complete)."""
    rows = records.get("us_fbi_cde_agency_monthly", [])
    refreshes = [r["last_refresh_date"].isoformat() for r in rows if r["last_refresh_date"]]
    ends = [_next_month(r["month"]) for r in rows if r["actual"] is not None]
    through = datetime.combine(max(ends), datetime.min.time()) if ends else None
    if state.complete_through and (through is None or state.complete_through > through):
        through = state.complete_through
    watermark = max([*refreshes, *([state.watermark] if state.watermark else [])], default=None)
    return State(watermark=watermark, complete_through=through)
