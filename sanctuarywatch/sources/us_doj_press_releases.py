"""U.S. Department of Justice press releases, from the justice.gov news API.

Publisher: U.S. Department of Justice, Office of Public Affairs and the components.
URL: https://www.justice.gov/api/v1/press_releases.json (JSON, no key)
Cadence: several releases a day; records are edited after publication (`vuuid` changes).

Notes (dated):
- 2020-03 (saved response): without `sort`/`direction`, page 0 is in an internal order (2009-2014
  records first). We always send both, and check that the records came back in that order: the
  API ignores unknown or misspelled parameters silently, so a typo returns unfiltered, unsorted
  data instead of an error.
- 2026 (reported): `pagesize` is clamped to 50, default 20. We read back
  `metadata.resultset.pagesize` and page with what the server used.
- A wrong path answers a Drupal HTML page (status 200 or 404): the Content-Type is checked.
- `date`, `created`, `changed` are epoch seconds as strings; `date` is 00:00 America/New_York of
  the release day. `created` can be a bulk-migration time: never the release date.
- Over 4 requests/s "may be blocked entirely" (API documentation); no rate-limit headers.
- Bot protection (Akamai interstitial) is detected by the HTTP layer: BotWallError, no evasion.

Incremental runs walk `sort=changed&direction=DESC` until the records are older than the
watermark (newest `changed` seen); backfill walks `sort=date&direction=DESC` until the records
are older than `options.start`. `options.extra["title"]` adds `parameters[title]=...`.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from sanctuarywatch.errors import LayoutError, RecordError
from sanctuarywatch.http import Fetched, HttpClient
from sanctuarywatch.sources import Options, Page, PageIterator, State
from sanctuarywatch.sources.platforms.justice_gov import tags as doj_tags
from sanctuarywatch.sources.platforms.justice_gov.text import clean_title, html_to_text

SLUG = "us_doj_press_releases"
PUBLISHER = "U.S. Department of Justice"
URL = "https://www.justice.gov/api/v1/press_releases.json"
FORMAT = "JSON API (Drupal)"
CADENCE = "several a day; edited after publication"
TABLES = {
    "us_doj_press_releases": ("uuid",),
    "us_doj_release_components": ("uuid", "component_uuid"),
    "us_doj_release_topics": ("uuid", "topic_uuid"),
    "us_doj_release_tags": ("doc_id", "tag"),
    "us_doj_release_jurisdictions": ("doc_id", "ordinal"),
    "us_doj_release_numbers": ("doc_id", "ordinal"),
}
REQUESTS_PER_SECOND = 4.0
MAX_PAGE_SIZE = 50
KIND = "press_releases"
TIME_ZONE = ZoneInfo("America/New_York")
REQUIRED = ("uuid", "vuuid", "title", "date", "created", "changed", "url")
RELEASE_NUMBER = re.compile(r"\d{2}-\d{3,4}")
SANCTUARY_TAGS = frozenset({"sanctuary", "section_1373", "detainer"})


def fetch(client: HttpClient, options: Options, state: State) -> PageIterator:
    """Walk newest-first pages until the records are older than where this run may stop."""
    url = options.base_url or URL
    sort, stop = _plan(options, state)
    size = options.page_size or MAX_PAGE_SIZE  # the server may use less: read back below
    filters = {"parameters[title]": options.extra["title"]} if options.extra.get("title") else {}
    page, max_pages = 0, int(options.extra.get("max_pages", 10_000))
    while page < max_pages:
        params = {"sort": sort, "direction": "DESC", "pagesize": str(size), "page": str(page)}
        fetched = client.get(SLUG, url, params=params | filters)
        rows = parse(fetched, KIND)
        yield Page(KIND, fetched, rows)
        served = envelope(fetched)["metadata"]["resultset"]
        size = int(served["pagesize"])
        if (page + 1) * size >= int(served["count"]):
            return
        check_page_full(fetched.url, rows, size, int(served["count"]))
        if int(rows[-1][sort]) < stop:
            return
        page += 1


def check_page_full(url: str, rows: list[dict[str, Any]], size: int, count: int) -> None:
    """A short page before the end the API itself reports is not the end of the data.

    Found by the fault matrix (2026-11): an empty page in the middle of a walk ended it as a
    success, and since walks go newest first, the watermark (the newest `changed` seen) then
    moved past the records never fetched, so no later incremental run would ask for them.
    """
    if len(rows) < size:
        raise LayoutError(
            SLUG,
            url,
            f"{size} records a page until the {count} the API counts",
            f"{len(rows)} on a page before the last: the walk would stop short",
        )


def _plan(options: Options, state: State) -> tuple[str, int]:
    """(sort field, epoch seconds below which the walk stops)."""
    if options.mode == "incremental" and state.watermark:
        return "changed", int(datetime.fromisoformat(state.watermark).timestamp())
    if options.start:
        return "date", int(datetime.combine(options.start, time(), TIME_ZONE).timestamp())
    return ("changed" if options.mode == "incremental" else "date"), 0


def envelope(fetched: Fetched) -> dict[str, Any]:
    """The API's JSON envelope, or a LayoutError naming what came instead (an HTML page...)."""
    body = fetched.body.lstrip()
    if body[:1] == b"<" or "html" in fetched.content_type.lower():
        title = re.search(rb"<title>(.*?)</title>", body, re.I | re.S)
        shown = title.group(1).strip()[:80].decode("utf-8", "replace") if title else "?"
        raise LayoutError(
            SLUG,
            fetched.url,
            "JSON from the news API (wrong path?)",
            f"an HTML page titled {shown!r} ({fetched.content_type})",
        )
    try:
        data = json.loads(body)
        info = data["metadata"]["responseInfo"]
        data["metadata"]["resultset"]["pagesize"]
    except (ValueError, KeyError, TypeError, RecursionError) as exc:  # 10^6 nested [ too
        raise LayoutError(
            SLUG,
            fetched.url,
            "the news API envelope (metadata, results)",
            f"{type(exc).__name__}: {exc}",
        ) from None
    if int(info.get("status", 0)) != 200 or not isinstance(data.get("results"), list):
        raise LayoutError(
            SLUG,
            fetched.url,
            "responseInfo.status 200 and a results list",
            f"status {info.get('status')}: {info.get('developerMessage')}",
        )
    return dict(data)


def parse(fetched: Fetched, kind: str) -> list[dict[str, Any]]:
    """The records of one API page, after checking the API honoured what was asked."""
    data = envelope(fetched)
    rows: list[dict[str, Any]] = data["results"]
    for row in rows:
        missing = [name for name in REQUIRED if name not in row]
        if missing:
            raise LayoutError(
                SLUG,
                fetched.url,
                f"fields {', '.join(REQUIRED)}",
                f"record {row.get('uuid')!r} without {', '.join(missing)}",
            )
    check_request_honoured(fetched.url, data, rows)
    return rows


def check_request_honoured(url: str, data: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """Guard against silently ignored parameters: page, sort order and title filter."""
    asked = dict(parse_qsl(urlsplit(url).query))
    served_page = data["metadata"]["resultset"].get("page")
    if "page" in asked and served_page is not None and int(served_page) != int(asked["page"]):
        raise LayoutError(SLUG, url, f"page {asked['page']}", f"page {served_page}")
    sort, direction = asked.get("sort"), asked.get("direction", "ASC").upper()
    if sort:
        values = [int(row[sort]) for row in rows]
        ordered = sorted(values, reverse=direction == "DESC")
        if values != ordered:
            raise LayoutError(
                SLUG,
                url,
                f"records sorted by {sort} {direction} (as asked)",
                f"another order ({values[:4]}...): the API ignored a parameter (misspelled?)",
            )
    wanted = asked.get("parameters[title]")
    if wanted:
        stray = [row["title"] for row in rows if wanted.lower() not in row["title"].lower()]
        if stray:
            raise LayoutError(
                SLUG,
                url,
                f"only titles containing {wanted!r} (as asked)",
                f"{len(stray)} others, e.g. {stray[0][:60]!r}: filter ignored",
            )


def normalize(rows: list[dict[str, Any]], kind: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {table: [] for table in TABLES}
    for row in rows:
        try:
            _add_release(out, row)
        except (TypeError, ValueError, KeyError) as exc:
            raise RecordError(SLUG, "results", str(row.get("uuid")), str(exc)) from None
    return out


def _add_release(out: dict[str, list[dict[str, Any]]], row: dict[str, Any]) -> None:
    uuid = row["uuid"]
    title = clean_title(row["title"]) or ""
    body = html_to_text(row.get("body"))
    derived = doj_tags.tag_all(uuid, title, body)
    components = row.get("component") or []
    topics = row.get("topic") or []
    out["us_doj_press_releases"].append(
        record(row, title, body)
        | {
            "sanctuary_related": any(t["tag"] in SANCTUARY_TAGS for t in derived["tags"]),
        }
    )
    out["us_doj_release_components"] += [
        {"uuid": uuid, "component_uuid": c["uuid"], "name": c.get("name")} for c in components
    ]
    out["us_doj_release_topics"] += [
        {"uuid": uuid, "topic_uuid": t["uuid"], "name": t.get("name")} for t in topics
    ]
    out["us_doj_release_tags"] += derived["tags"]
    out["us_doj_release_jurisdictions"] += derived["mentions"]
    out["us_doj_release_numbers"] += derived["numbers"]


def record(row: dict[str, Any], title: str, body: str) -> dict[str, Any]:
    """One API record as a release row (without the derived flag)."""
    number = row.get("number")
    return {
        "uuid": row["uuid"],
        "vuuid": row["vuuid"],
        "release_number": release_number(number),
        "number_raw": number,
        "title": title,
        "teaser_text": html_to_text(row.get("teaser")) or None,
        "body_text": body,
        "release_date": release_date(row["date"]),
        "created_at": instant(row["created"]),
        "changed_at": instant(row["changed"]),
        "url": row["url"],
        "components": "; ".join(c.get("name") or "" for c in row.get("component") or []),
        "topics": "; ".join(t.get("name") or "" for t in row.get("topic") or []),
        "attachment_count": len(row.get("attachment") or []),
        "image_count": len(row.get("image") or []),
    }


def release_number(number: str | None) -> str | None:
    """'09-001' as is; None, '2' and other odd values give None (number_raw keeps them)."""
    text = (number or "").strip()
    return text if RELEASE_NUMBER.fullmatch(text) else None


def instant(epoch: str | int) -> datetime:
    return datetime.fromtimestamp(int(epoch), UTC)


def release_date(epoch: str | int) -> date:
    """`date` is local midnight in New York: 1231131600 is 2009-01-05, not the 5th in UTC."""
    return instant(epoch).astimezone(TIME_ZONE).date()


def advance(
    state: State, page: Page, records: dict[str, list[dict[str, Any]]], options: Options
) -> State:
    """Watermark: the newest `changed` seen (ISO, UTC)."""
    stamps = [r["changed_at"] for r in records.get("us_doj_press_releases", [])]
    if state.watermark:
        stamps.append(datetime.fromisoformat(state.watermark))
    fetched = page.fetched.fetched_at.astimezone(UTC).replace(tzinfo=None)
    through = fetched if options.mode == "incremental" else state.complete_through
    return State(watermark=max(stamps).isoformat() if stamps else None, complete_through=through)
