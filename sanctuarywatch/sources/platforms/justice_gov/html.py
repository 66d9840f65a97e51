"""justice.gov HTML pages in both layouts: listings and detail pages, as site-shaped dicts.

Why a module of its own: speeches (and any page the news API does not serve) come from HTML in
two layouts, the Drupal 7 one (to about 2023, also in every archived copy) and the current one.
Each selector states how many matches it expects and fails with a LayoutError naming the layout,
the selector and what was found, so a redesign stops the job instead of loading blanks.
Selectors are those in SOURCES.md; the location selectors are an assumption (see the speeches
source docstring).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from bs4 import BeautifulSoup, Tag

from sanctuarywatch.errors import LayoutError
from sanctuarywatch.sources.platforms.justice_gov.text import collapse, html_to_text

TIME_ZONE = ZoneInfo("America/New_York")
PREPARED = re.compile(r"as prepared for delivery", re.I)
SHOWN_DATE = re.compile(r"[A-Z][a-z]+ \d{1,2}, \d{4}")
NUMBER_TEXT = re.compile(r"Press Release Number:\s*([0-9A-Za-z-]+)")
CURRENT = {
    "title": "h1.page-title",
    "date": ".node-date time",
    "updated": ".node-updated-date",
    "office": ".node-office",
    "body": "div.node-body, div.field_body",
    "location": ".node-location",
}
OLD = {
    "title": "h1#node-title",
    "date": "span.date-display-single[content]",
    "body": "div.field--name-field-pr-body",
    "topics": ".field--name-field-pr-topic .field__item",
    "components": ".field--name-field-pr-component a",
    "number": ".field--name-field-pr-number .field__item",
    "location": ".field--name-field-speech-location",
}


class At(NamedTuple):
    """The page being read: the source reading it and its URL, both named by every
    LayoutError (the calling source passes them; this module serves more than one)."""

    source: str
    url: str


def soup(body: bytes) -> BeautifulSoup:
    return BeautifulSoup(body, "lxml")


def whole(body: bytes, at: At) -> BeautifulSoup:
    """The page parsed, once it is known to be all there.

    An HTML parser closes whatever a cut-off page leaves open, so an answer cut short parsed
    into a speech with half its text, or a listing without its last items (found by the fault
    matrix, 2026-11). justice.gov pages end with </html>, followed at most by comments (the
    Wayback Machine appends some to its copies).
    """
    if not _ends_whole(body):
        raise LayoutError(
            at.source, at.url, "a whole page, ending with </html>", f"one ending {body[-40:]!r}"
        )
    return soup(body)


def _ends_whole(body: bytes) -> bool:
    """</html> at the end, once trailing comments and white space are taken off (by index:
    slicing off one comment at a time would copy the page once per comment)."""
    end = _before_space(body, len(body))
    while body.endswith(b"-->", 0, end) and (start := body.rfind(b"<!--", 0, end)) >= 0:
        end = _before_space(body, start)
    return body[max(0, end - 7) : end].lower() == b"</html>"


def _before_space(body: bytes, end: int) -> int:
    while end and body[end - 1 : end].isspace():
        end -= 1
    return end


def one(page: Tag, selector: str, at: At, layout: str) -> Tag:
    """Exactly one match (for a list of selectors, the first that matches), else LayoutError."""
    found = page.select(selector)
    if len(found) != 1:
        raise LayoutError(
            at.source, at.url, f"one {selector} ({layout} layout)", f"{len(found)} matches"
        )
    return found[0]


def optional(page: Tag, selector: str) -> str | None:
    found = page.select_one(selector)
    return (collapse(found.get_text(" ")) or None) if found else None


def layout_of(page: BeautifulSoup, at: At) -> str:
    if page.select("h1.page-title"):
        return "current"
    if page.select("h1#node-title"):
        return "drupal7"
    shown = collapse(page.title.get_text()) if page.title else None
    raise LayoutError(
        at.source,
        at.url,
        "h1.page-title (current) or h1#node-title (Drupal 7)",
        f"neither (page title {shown!r})",
    )


def listing(page: BeautifulSoup, at: At) -> list[dict[str, Any]]:
    """Items of a listing page: {url, title, date}. A page with no views-row has no items,
    but it must be a listing: Drupal wraps every view in div.view (div.view-content holds its
    rows). An error page served with status 200 was taken for the end of the list (found by
    the fault matrix, 2026-11)."""
    if not page.select("div.view, div.view-content"):
        shown = collapse(page.title.get_text()) if page.title else None
        raise LayoutError(
            at.source, at.url, "a listing (div.view or div.view-content)", f"page title {shown!r}"
        )
    rows = page.select("div.views-row")
    items = [_listing_item(row, at) for row in rows]
    return [item for item in items if item is not None]


def _listing_item(row: Tag, at: At) -> dict[str, Any] | None:
    link = row.select_one("h2.news-title a") or row.select_one(".views-field-title a")
    stamp = row.select_one("time") or row.select_one("span.date-display-single[content]")
    if link is None and stamp is None:
        return None  # a row of another view (images, quick links)
    if link is None or stamp is None or not link.get("href"):
        raise LayoutError(
            at.source,
            at.url,
            "views-row with a title link and a date",
            f"a row with link={link is not None} date={stamp is not None}",
        )
    return {
        "url": str(link["href"]),
        "title": collapse(link.get_text(" ")),
        "date": _stamp_date(stamp, at),
    }


def _stamp_date(stamp: Tag, at: At) -> date:
    """`time[datetime]` or `span[content]` (ISO) in New York time; else the visible text."""
    value = stamp.get("datetime") or stamp.get("content")
    try:
        if value:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            return moment.astimezone(TIME_ZONE).date() if moment.tzinfo else moment.date()
        shown = SHOWN_DATE.search(stamp.get_text(" "))
        return datetime.strptime(shown.group(0) if shown else "", "%B %d, %Y").date()
    except ValueError:
        raise LayoutError(
            at.source, at.url, "an ISO date or 'Month D, YYYY'", repr(value or stamp.get_text())
        ) from None


def detail(page: BeautifulSoup, at: At) -> dict[str, Any]:
    """One speech (or release) page in either layout."""
    layout = layout_of(page, at)
    fields = _current(page, at) if layout == "current" else _drupal7(page, at)
    body_text = fields.pop("body_text")
    canonical = page.select_one('link[rel="canonical"]')
    return fields | {
        "url": str(canonical["href"]) if canonical and canonical.get("href") else at.url,
        "layout": layout,
        "body_text": body_text,
        "as_prepared": bool(PREPARED.search(body_text) or PREPARED.search(page.get_text(" "))),
    }


def _current(page: BeautifulSoup, at: At) -> dict[str, Any]:
    body = _body(page, CURRENT["body"], at, "current")
    number = NUMBER_TEXT.search(page.get_text(" "))
    updated = page.select_one(CURRENT["updated"])
    return {
        "title": collapse(one(page, CURRENT["title"], at, "current").get_text(" ")),
        "date": _stamp_date(one(page, CURRENT["date"], at, "current"), at),
        "updated_date": _stamp_date(updated, at) if updated else None,
        "location": _location(page, CURRENT["location"]),
        "office": optional(page, f"{CURRENT['office']} .field__item")
        or optional(page, CURRENT["office"]),
        "components": None,
        "topics": None,
        "number": number.group(1) if number else None,
        "body_text": body,
    }


def _drupal7(page: BeautifulSoup, at: At) -> dict[str, Any]:
    stamps = page.select(OLD["date"])
    if not stamps:
        raise LayoutError(at.source, at.url, f"{OLD['date']} (Drupal 7 layout)", "no match")
    return {
        "title": collapse(one(page, OLD["title"], at, "drupal7").get_text(" ")),
        "date": _stamp_date(stamps[0], at),
        "updated_date": None,
        "location": _location(page, OLD["location"]),
        "office": None,
        "components": "; ".join(collapse(a.get_text()) for a in page.select(OLD["components"])),
        "topics": "; ".join(collapse(t.get_text()) for t in page.select(OLD["topics"])),
        "number": optional(page, OLD["number"]),
        "body_text": _body(page, OLD["body"], at, "drupal7"),
    }


def _body(page: BeautifulSoup, selector: str, at: At, layout: str) -> str:
    found = page.select(selector)
    if not found:
        raise LayoutError(at.source, at.url, f"{selector} ({layout} layout)", "no match")
    return html_to_text(str(found[0]))


def _location(page: BeautifulSoup, selector: str) -> str | None:
    """ "Quantico, VA" and "United States" on two lines: one line, comma-separated."""
    found = page.select_one(selector)
    if found is None:
        return None
    lines = [line for line in html_to_text(str(found)).split("\n") if line]
    return ", ".join(lines) or None
