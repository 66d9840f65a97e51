"""Socrata SODA 2.x: paging and response checks shared by portal sources (values: sqlnorm).

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
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from sanctuarywatch.errors import LayoutError
from sanctuarywatch.http import Fetched, HttpClient, secret_from_env
from sanctuarywatch.load import coverage, sqlnorm
from sanctuarywatch.sources import Options, Page, State

MAX_PAGE_SIZE = 50_000
TOKEN_ENV = ("SANCTUARYWATCH_SOCRATA_APP_TOKEN", "SOCRATA_APP_TOKEN")


def token_headers() -> dict[str, str]:
    """The app token header, when one is set in the environment."""
    token = secret_from_env(*TOKEN_ENV)
    return {"X-App-Token": token} if token else {}


def window(options: Options, state: State, first_day: date, scope: str = "") -> tuple[str, str]:
    """($where, $order) for a run: what changed since the watermark, less the re-pull window
    (revisions land late), and every event from the end of the covered dates on; or a
    backfill of [start, end) on the event date.

    The second half of the incremental filter is what keeps a bounded backfill from losing
    years: after a backfill of 2016-2017 the watermark is the newest edit of those rows, and
    a 2019 row last edited in 2020 is older than it. `complete_through` (the end of the event
    dates covered so far) asks for every such row once. Once coverage is current it is not
    needed (a row is updated no earlier than its event), and the query stays the same."""
    prefix = f"{scope} AND " if scope else ""
    since = _since(options, state)
    if since is not None:
        changed = f":updated_at >= '{since:%Y-%m-%dT%H:%M:%S}'"
        if state.complete_through and state.complete_through < since:
            changed = f"({changed} OR date >= '{state.complete_through:%Y-%m-%dT%H:%M:%S}')"
        return f"{prefix}{changed}", ":updated_at, :id"
    start = options.start or first_day
    end = options.end or date.today() + timedelta(days=1)
    return (
        f"{prefix}date >= '{start:%Y-%m-%dT00:00:00}' AND date < '{end:%Y-%m-%dT00:00:00}'",
        ":id",
    )


def _since(options: Options, state: State) -> datetime | None:
    """The update stamp an incremental run asks from (None: the run is a backfill)."""
    if options.mode != "incremental" or not state.watermark:
        return None
    return datetime.fromisoformat(state.watermark) - timedelta(days=options.repull_days)


def covered(
    options: Options,
    state: State,
    first_day: date,
    fetched_at: datetime,
    lag: timedelta,
    zone: tzinfo,
) -> list[coverage.Window]:
    """What a run of `window` covers once every page is in: event dates up to what the
    portal had published at `fetched_at` (its lag, in the portal's local time), and for an
    incremental run the update stamps (UTC) since it asked."""
    local = fetched_at.astimezone(zone).replace(tzinfo=None)
    utc = fetched_at.astimezone(UTC).replace(tzinfo=None)
    since = _since(options, state)
    windows = coverage.asked(
        options.mode,
        (options.start, options.end),
        since,
        state.complete_through,
        first_day,
        local - lag,
    )
    return [replace(w, end=utc) if w.dimension == coverage.UPDATED else w for w in windows]


@dataclass(frozen=True)
class Dataset:
    """A portal dataset as this module reads it: the source that collects it (its slug
    names every request and error), the resource URL, the fields asked for, the first
    event date a backfill starts from, and the rows a page holds unless options say."""

    slug: str
    url: str
    fields: tuple[str, ...]
    first_day: date
    page_size: int


def walk(
    client: HttpClient,
    dataset: Dataset,
    options: Options,
    state: State,
    scope: str = "",
) -> Iterator[Page]:
    """A portal source's run: its window (see `window`) walked page by page, with the
    system fields `:id` (paging checks) and `:updated_at` (watermarks) asked for."""
    where, order = window(options, state, dataset.first_day, scope)
    yield from pages(
        client,
        dataset.slug,
        options.base_url or dataset.url,
        where,
        order,
        options.page_size or dataset.page_size,
        dataset.fields,
        select="*, :id, :updated_at",
    )


def pages(
    client: HttpClient,
    source: str,
    url: str,
    where: str,
    order: str,
    page_size: int,
    fields: Sequence[str],
    select: str | None = None,
) -> Iterator[Page]:
    """Walk a SoQL query page by page until a short page; yield each with its rows (the
    named fields, as an Arrow table of text)."""
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
        rows = read_page(fetched, fields, counted=True)
        _check_not_repeated(fetched, firsts)
        yield Page("rows", fetched, rows)
        del fetched  # the consumer has it; hold no body while the next page downloads
        if rows.num_rows < page_size:
            return
        offset += page_size


_ROW_ID = re.compile(rb'":id"\s*:\s*("(?:[^"\\]|\\.)*"|null)?')
_EMPTY_ARRAY = re.compile(rb"\s*\[\s*\]\s*")


def _count_rows(fetched: Fetched) -> int:
    """Rows in a page, counted by their `:id` keys in the bytes, so paging can go on while
    the page waits to be parsed. In valid JSON `":id":` can only be a key (a quote inside a
    string is escaped); the load checks the count against DuckDB's. A page of rows that all
    lack `:id` is an error here: read as empty it would end the walk early. The regular
    expression is only for pages the plain count cannot read (it took ~3 s of CPU a million
    rows, the fetch thread's largest cost)."""
    body = fetched.body
    counted = body.count(b'":id":')  # compact JSON, as the portal sends it: a C-speed scan
    if counted != body.count(b'":id"'):  # spaced keys, or a value that reads ":id"
        counted = sum(1 for _ in _ROW_ID.finditer(body))
    if not counted and not _EMPTY_ARRAY.fullmatch(fetched.body):
        raise LayoutError(
            fetched.source, fetched.url, "rows with :id (or an empty array)", "no :id in the page"
        )
    return counted


def _check_not_repeated(fetched: Fetched, firsts: set[str]) -> None:
    """A page whose first row opened an earlier page is that page again (a proxy or portal
    ignoring $offset): loading on would silently drop the rows that page should have held.
    One :id per page is remembered, so the check costs nothing at millions of rows."""
    match = _ROW_ID.search(fetched.body)
    first = match.group(1) if match else None
    if first is None or first == b"null":
        return
    text = first.decode("utf-8", "replace")
    if text in firsts:
        raise LayoutError(
            fetched.source,
            fetched.url,
            "the next page of rows",
            f"a page already served (it starts again at :id {text})",
        )
    firsts.add(text)


def read_page(fetched: Fetched, fields: Sequence[str], counted: bool = False) -> sqlnorm.PageFile:
    """A SODA JSON page (a list of objects), on disk for DuckDB; `counted` counts its rows
    for paging. An HTML page or an error object is a LayoutError saying what came; anything
    else that is not a JSON array of objects is one when DuckDB reads it."""
    body = fetched.body.lstrip()
    if body[:1] == b"<" or "html" in fetched.content_type.lower():
        title = re.search(rb"<title>(.*?)</title>", body, re.I | re.S)
        found = f"an HTML page (title {title.group(1).strip()[:80]!r})" if title else "an HTML page"
        raise LayoutError(fetched.source, fetched.url, "a JSON array of rows", found)
    if body[:1] == b"{":
        raise LayoutError(fetched.source, fetched.url, "a JSON array of rows", _error_object(body))
    rows = _count_rows(fetched) if counted else None
    return sqlnorm.PageFile(fetched.source, fetched.url, fetched.body, fields, rows)


def _error_object(body: bytes) -> str:
    """What a SODA error object says (its message), for the LayoutError."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return f"invalid JSON ({exc})"
    message = data.get("message") or data.get("error") or sorted(data)[:5]
    return f"an object: {message}"


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
