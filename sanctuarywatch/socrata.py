"""Socrata SODA 2.x: paging, response checks and value parsing shared by portal sources.

Dated notes (from Socrata's documentation and the sodapy / Socrata issue trackers):
- `$limit` defaults to 1,000 and is at most 50,000 on 2.x endpoints.
- Paging with `$offset` needs an `$order` on a unique key, or pages silently repeat and drop
  rows; we always order by the system `:id` (after `:updated_at` for incremental pulls).
- Timestamps are "floating": local wall-clock time with no zone (Chicago's portal: Chicago time).
- JSON values are strings except booleans and GeoJSON points; the portal's CSV writes
  `MM/DD/YYYY hh:mm:ss AM` and lowercase booleans; files re-saved by pandas have `True`/`17.0`.
- Without an app token, requests share a per-IP pool and get HTTP 429.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from .errors import LayoutError
from .http import Fetched, HttpClient, secret_from_env
from .sources import Options, Page, State

MAX_PAGE_SIZE = 50_000
TOKEN_ENV = ("SANCTUARYWATCH_SOCRATA_APP_TOKEN", "SOCRATA_APP_TOKEN")
_US_TIMESTAMP = "%m/%d/%Y %I:%M:%S %p"
_WHOLE = re.compile(r"\d+(\.0+)?")


def token_headers() -> dict[str, str]:
    """The app token header, when one is set in the environment."""
    token = secret_from_env(*TOKEN_ENV)
    return {"X-App-Token": token} if token else {}


def window(options: Options, state: State, first_day: date, scope: str = "") -> tuple[str, str]:
    """($where, $order) for a run: what changed since the watermark, less the re-pull window
    (revisions land late), or a backfill of [start, end) on the event date."""
    prefix = f"{scope} AND " if scope else ""
    if options.mode == "incremental" and state.watermark:
        since = datetime.fromisoformat(state.watermark) - timedelta(days=options.repull_days)
        return f"{prefix}:updated_at >= '{since:%Y-%m-%dT%H:%M:%S}'", ":updated_at, :id"
    start = options.start or first_day
    end = options.end or date.today() + timedelta(days=1)
    return (
        f"{prefix}date >= '{start:%Y-%m-%dT00:00:00}' AND date < '{end:%Y-%m-%dT00:00:00}'",
        ":id",
    )


def pages(
    client: HttpClient,
    source: str,
    url: str,
    where: str,
    order: str,
    page_size: int,
    select: str | None = None,
) -> Iterator[Page]:
    """Walk a SoQL query page by page until a short page; yield each with its rows."""
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page size must be 1..{MAX_PAGE_SIZE}, not {page_size}")
    offset = 0
    firsts: set[str] = set()
    while True:
        params = {
            "$where": where,
            "$order": order,
            "$limit": str(page_size),
            "$offset": str(offset),
        }
        if select:
            params["$select"] = select
        fetched = client.get(source, url, params=params, headers=token_headers())
        rows = parse_rows(fetched)
        _check_not_repeated(fetched, rows, firsts)
        yield Page("rows", fetched, rows)
        if len(rows) < page_size:
            return
        offset += page_size


def _check_not_repeated(fetched: Fetched, rows: list[dict[str, Any]], firsts: set[str]) -> None:
    """A page whose first row opened an earlier page is that page again (a proxy or portal
    ignoring $offset): loading on would silently drop the rows that page should have held.
    One :id per page is remembered, so the check costs nothing at millions of rows."""
    first = rows[0].get(":id") if rows else None
    if not isinstance(first, str):
        return
    if first in firsts:
        raise LayoutError(
            fetched.source,
            fetched.url,
            "the next page of rows",
            f"a page already served (it starts again at :id {first})",
        )
    firsts.add(first)


def parse_rows(fetched: Fetched) -> list[dict[str, Any]]:
    """A SODA JSON page: a list of objects. Anything else is a LayoutError saying what came."""
    body = fetched.body.lstrip()
    if body[:1] == b"<" or "html" in fetched.content_type.lower():
        title = re.search(rb"<title>(.*?)</title>", body, re.I | re.S)
        found = f"an HTML page (title {title.group(1).strip()[:80]!r})" if title else "an HTML page"
        raise LayoutError(fetched.source, fetched.url, "a JSON array of rows", found)
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LayoutError(
            fetched.source, fetched.url, "a JSON array of rows", f"invalid JSON ({exc})"
        ) from None
    if isinstance(data, dict):
        message = data.get("message") or data.get("error") or sorted(data)[:5]
        raise LayoutError(
            fetched.source, fetched.url, "a JSON array of rows", f"an object: {message}"
        )
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise LayoutError(
            fetched.source, fetched.url, "a JSON array of objects", type(data).__name__
        )
    return data


def parse_csv(source: str, where: str, body: bytes) -> list[dict[str, Any]]:
    """The portal's CSV export (or a pandas re-save of it) as rows keyed by SODA field names."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LayoutError(source, where, "a UTF-8 CSV file", f"undecodable bytes ({exc})") from None
    reader = csv.DictReader(io.StringIO(text))
    try:
        if not reader.fieldnames:
            raise LayoutError(source, where, "a CSV header line", "an empty file")
        names = {name: field_name(name) for name in reader.fieldnames}
        return [{names[k]: v for k, v in row.items() if k is not None} for row in reader]
    except csv.Error as exc:  # e.g. a bare CR inside a field (found by fuzzing)
        raise LayoutError(source, where, "a CSV file", f"unreadable CSV ({exc})") from None


def field_name(column: str) -> str:
    """CSV column title to SODA field name: 'Case Number' -> 'case_number'."""
    return re.sub(r"[^a-z0-9]+", "_", column.strip().lower()).strip("_")


def require(source: str, where: str, rows: Sequence[dict[str, Any]], fields: Sequence[str]) -> None:
    """Every row has the fields the normaliser relies on; else say which are missing."""
    for row in rows:
        missing = [name for name in fields if name not in row]
        if missing:
            raise LayoutError(
                source,
                where,
                f"fields {', '.join(fields)}",
                f"a row without {', '.join(missing)} (its fields: {', '.join(sorted(row)[:25])})",
            )


_BLANKS = frozenset(("", "nan", "NaN"))


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() in _BLANKS)


def floating_timestamp(value: Any) -> datetime | None:
    """SODA floating timestamp or the CSV's `MM/DD/YYYY hh:mm:ss AM`, as naive local time."""
    if blank(value):
        return None
    text = str(value).strip()
    if "/" in text:
        return datetime.strptime(text, _US_TIMESTAMP)
    return datetime.fromisoformat(text.rstrip("Z"))


def boolean(value: Any) -> bool | None:
    if isinstance(value, bool) or value is None:
        return value
    text = str(value).strip().lower()
    if text in ("true", "t", "y", "yes", "1"):
        return True
    if text in ("false", "f", "n", "no", "0"):
        return False
    if text in ("", "unknown", "nan"):
        return None
    raise ValueError(f"not a boolean: {value!r}")


def integer(value: Any) -> int | None:
    """'18', '18.0' (pandas) and 18 all give 18."""
    if blank(value):
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 16:
        return int(value)  # the common case, without the float round trip (same result)
    number = float(value)
    if not number.is_integer():
        raise ValueError(f"not a whole number: {value!r}")
    return int(number)


def number(value: Any) -> float | None:
    return None if blank(value) else float(value)


def padded(value: Any, width: int) -> str | None:
    """Beat and district codes: '221', '221.0' and '0221' all give '0221' for width 4."""
    if blank(value):
        return None
    text = str(value).strip()
    if text.isascii() and text.isdigit():
        return text.zfill(width)  # the common case, without the regex (same result)
    if _WHOLE.fullmatch(text):
        text = text.split(".")[0]
    return text.zfill(width)


def point(row: dict[str, Any]) -> tuple[float | None, float | None]:
    """(latitude, longitude) from the latitude/longitude fields, else the GeoJSON location."""
    lat, lon = number(row.get("latitude")), number(row.get("longitude"))
    location = row.get("location")
    if (lat is None or lon is None) and isinstance(location, dict):
        coordinates = location.get("coordinates") or [None, None]
        lon, lat = number(coordinates[0]), number(coordinates[1])
    return lat, lon
