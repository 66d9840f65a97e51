"""U.S. Department of Justice speeches, from the justice.gov HTML pages (listing, then details).

Publisher: U.S. Department of Justice, Office of Public Affairs.
URL: https://www.justice.gov/news/speeches (listing, `page` 0-based), then each speech page.
Cadence: a few a week.

Notes (dated):
- 2026 (reported): the news API's `speeches.json` answers 404, so speeches come from HTML.
- Two layouts. Drupal 7 (to about 2023): `h1#node-title`, `span.date-display-single[content]`
  (ISO with offset), `div.field--name-field-pr-body`, `.field--name-field-pr-topic
  .field__item`, `.field--name-field-pr-component a`, `.field--name-field-pr-number
  .field__item`. Current: `h1.page-title`, `.node-date time`, `.node-office`, `div.node-body`
  or `div.field_body`, "Press Release Number: NN-NNN" in the text; listings are `div.views-row`
  with `h2.news-title a` and `time`.
- `.node-updated-date` ("Updated December 15, 2017") is NOT the release date; kept apart.
- Speeches carry a location line and "Remarks as prepared for delivery": the prepared text can
  differ from what was said (Aug 16, 2017, Miami), so both are kept. The location element
  (`.node-location`, Drupal 7 `.field--name-field-speech-location`) is not named in our notes
  on the site: an assumption, tested on constructed pages only.
- The site is behind Akamai bot protection: the HTTP layer raises BotWallError; no evasion.
- The listing gives no count, and past its last page Drupal's full pager (Drupal 7's pager
  and Views alike) clamps the page number: the last page comes again, not an empty one. A
  listing page with the items of the one before therefore ends the walk, as an empty one
  does; until 2026-11 its speeches were fetched again, page after page, up to `max_pages`
  (found by the fault matrix).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urljoin

from sanctuarywatch.errors import RecordError
from sanctuarywatch.http import Fetched, HttpClient
from sanctuarywatch.sources import Options, Page, PageIterator, State
from sanctuarywatch.sources.platforms.justice_gov import html as doj_html
from sanctuarywatch.sources.platforms.justice_gov import tags as doj_tags

SLUG = "us_doj_speeches"
PUBLISHER = "U.S. Department of Justice"
URL = "https://www.justice.gov/news/speeches"
FORMAT = "HTML (Drupal 7 and current layouts)"
CADENCE = "a few a week"
TABLES = {
    "us_doj_speeches": ("url",),
    "us_doj_speech_tags": ("doc_id", "tag"),
    "us_doj_speech_jurisdictions": ("doc_id", "ordinal"),
    "us_doj_speech_numbers": ("doc_id", "ordinal"),
}
REQUESTS_PER_SECOND = 2.0
SANCTUARY_TAGS = frozenset({"sanctuary", "section_1373", "detainer"})


def fetch(client: HttpClient, options: Options, state: State) -> PageIterator:
    """Listing pages newest first; each speech in the window; stop past the window's start."""
    base = options.base_url or URL
    start, end = _window(options, state)
    previous: list[str] = []
    for number in range(int(options.extra.get("max_pages", 1000))):
        listing = client.get(SLUG, base, params={"page": str(number)})
        items = parse(listing, "listing")
        yield Page("listing", listing, items)
        if items and [item["url"] for item in items] == previous:
            return  # Drupal's pager answers past the last page with the last page again
        previous = [item["url"] for item in items]
        for item in items:
            if start <= item["date"] and (end is None or item["date"] < end):
                detail = client.get(SLUG, urljoin(base, item["url"]))
                yield Page("speech", detail, parse(detail, "speech"))
        if not items or min(item["date"] for item in items) < start:
            return


def _window(options: Options, state: State) -> tuple[date, date | None]:
    """Incremental: from the newest speech seen, less the re-pull days (pages get edited)."""
    if options.mode == "incremental" and state.watermark:
        since = date.fromisoformat(state.watermark) - timedelta(days=options.repull_days)
        return since, None
    return options.start or date.min, options.end


def parse(fetched: Fetched, kind: str) -> list[dict[str, Any]]:
    """kind 'listing': the items of a listing page; kind 'speech': one speech page."""
    at = doj_html.At(SLUG, fetched.url)
    soup = doj_html.whole(fetched.body, at)
    if kind == "listing":
        return doj_html.listing(soup, at)
    return [doj_html.detail(soup, at)]


def normalize(rows: list[dict[str, Any]], kind: str) -> dict[str, list[dict[str, Any]]]:
    if kind == "listing":
        return {}
    out: dict[str, list[dict[str, Any]]] = {table: [] for table in TABLES}
    for row in rows:
        try:
            _add_speech(out, row)
        except (TypeError, ValueError, KeyError) as exc:
            raise RecordError(SLUG, "speech page", str(row.get("url")), str(exc)) from None
    return out


def _add_speech(out: dict[str, list[dict[str, Any]]], row: dict[str, Any]) -> None:
    derived = doj_tags.tag_all(row["url"], row["title"], row["body_text"])
    related = any(t["tag"] in SANCTUARY_TAGS for t in derived["tags"])
    out["us_doj_speeches"].append(
        {
            "url": row["url"],
            "layout": row["layout"],
            "title": row["title"],
            "release_date": row["date"],
            "updated_date": row.get("updated_date"),
            "location": row.get("location"),
            "as_prepared": row["as_prepared"],
            "office": row.get("office"),
            "components": row.get("components"),
            "topics": row.get("topics"),
            "release_number": row.get("number"),
            "body_text": row["body_text"],
            "sanctuary_related": related,
        }
    )
    out["us_doj_speech_tags"] += derived["tags"]
    out["us_doj_speech_jurisdictions"] += derived["mentions"]
    out["us_doj_speech_numbers"] += derived["numbers"]


def advance(
    state: State, page: Page, records: dict[str, list[dict[str, Any]]], options: Options
) -> State:
    """Watermark: the newest release date of a speech collected (ISO date)."""
    dates = [r["release_date"] for r in records.get("us_doj_speeches", [])]
    if state.watermark:
        dates.append(date.fromisoformat(state.watermark))
    return State(
        watermark=max(dates).isoformat() if dates else None,
        complete_through=state.complete_through,
    )
