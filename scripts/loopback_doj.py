"""The justice.gov news API and speech pages, imitated on the loopback server for recordings.

Served from the fixtures in tests/fixtures/us_doj_* (real API records of 2009-2014 plus the
CONSTRUCTED 2017 sanctuary releases and speech pages; provenance in their README):

    /api/v1/press_releases.json           the news API: pagesize (default 20, clamped to 50),
                                          page (0-based), sort=date|created|changed,
                                          direction=ASC|DESC, parameters[title]; unknown
                                          parameters are ignored, as the real API does; without
                                          sort, records come in the internal (file) order
    /revised/api/v1/press_releases.json   the same after one edit of the Oct 12, 2017 release
    /ignoring/api/v1/press_releases.json  an API that ignores sort, direction and
                                          parameters[title], as the real one ignores
                                          misspelled names (silent-filter tests)
    /api/v1/<anything else>               a Drupal HTML "Page not found" with status 200
    /news/speeches?page=N                 the current-layout speech listing, one item a page
    /opa/speech/<slug>                    the speech pages
    /akamai/...                           a bot-protection interstitial (CONSTRUCTED)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

Answer = tuple[int, str, bytes] | tuple[int, str, bytes, dict[str, str]]
FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
RELEASES = FIXTURES / "us_doj_press_releases"
SPEECHES = FIXTURES / "us_doj_speeches"
REAL_API = RELEASES / "api_press_releases_2020-03-15_first40.json"
CONSTRUCTED_API = RELEASES / "constructed_sanctuary_releases_2017.CONSTRUCTED.json"
SPEECH_PAGES = {  # newest first, as the listing shows them
    "attorney-general-sessions-delivers-remarks-fbi-graduation-ceremony": (
        "current_speech_fbi_graduation_2017-12-15.CONSTRUCTED.html"
    ),
    "constructed-2017-08-16-attorney-general-sessions-remarks-miami": (
        "current_speech_miami_2017-08-16.CONSTRUCTED.html"
    ),
}
LISTING_DATES = ("2017-12-15T12:00:00Z", "2017-08-16T12:00:00Z")
EDITED_AT = "1584403200"  # 2020-03-17 00:00 UTC: after every record served
EDITED_UUID = "c0ffee00-2017-4010-8012-000000000001"
HTML = "text/html; charset=utf-8"
JSON = "application/json"
DRUPAL_404 = (
    b"<!DOCTYPE html><html><head><title>Page not found | Department of Justice</title>"
    b'</head><body><h1 class="page-title">Page not found</h1></body></html>'
)
BOT_WALL = (
    b"<!DOCTYPE html><html><head><title>Access check</title></head><body>"
    b'<script src="/_sec/cp_challenge/ak-challenge.js?bm-verify=CONSTRUCTED"></script>'
    b"<p>Powered and protected by Akamai</p></body></html>"
)


def records(revised: bool = False) -> list[dict[str, Any]]:
    """Real records then constructed ones; `revised`: the Oct 12 release edited once."""
    rows = json.loads(REAL_API.read_text(encoding="utf-8"))["results"]
    rows += json.loads(CONSTRUCTED_API.read_text(encoding="utf-8"))["results"]
    if revised:
        rows = [dict(row) for row in rows]
        for row in rows:
            if row["uuid"] == EDITED_UUID:
                row["vuuid"] = row["vuuid"][:-4] + "b002"
                row["changed"] = EDITED_AT
                row["title"] = row["title"] + " (corrected)"
    return rows


def api_page(rows: list[dict[str, Any]], params: dict[str, str]) -> bytes:
    """One page of the news API, honouring only the parameters the real API honours."""
    wanted = params.get("parameters[title]", "").lower()
    rows = [row for row in rows if wanted in row["title"].lower()]
    if params.get("sort") in ("date", "created", "changed"):
        reverse = params.get("direction", "ASC").upper() == "DESC"
        rows = sorted(rows, key=lambda row: int(row[params["sort"]]), reverse=reverse)
    size = min(int(params.get("pagesize", 20)), 50)
    page = int(params.get("page", 0))
    meta = {
        "executionTime": 0.01,
        "responseInfo": {"developerMessage": "OK", "status": 200},
        "resultset": {"count": len(rows), "page": page, "pagesize": size},
    }
    return json.dumps({"metadata": meta, "results": rows[page * size : (page + 1) * size]}).encode()


def listing_page(page: int) -> bytes:
    """The current-layout listing: one speech a page, then an empty page."""
    items = list(zip(SPEECH_PAGES, LISTING_DATES, strict=True))[page : page + 1]
    rows = "".join(
        f'<div class="views-row"><h2 class="news-title"><a href="/opa/speech/{slug}">'
        f"{slug.replace('-', ' ').title()}</a></h2>"
        f'<time datetime="{stamp}">{stamp[:10]}</time></div>'
        for slug, stamp in items
    )
    return (
        f"<!DOCTYPE html><!-- CONSTRUCTED listing (current layout) --><html><head>"
        f'<title>Speeches</title></head><body><h1 class="page-title">Speeches</h1>'
        f'<div class="view-content">{rows}</div></body></html>'
    ).encode()


def doj_route() -> Any:
    """The route for scripts/loopback.py: (path, params) -> answer, or None when not ours."""
    current, revised = records(), records(revised=True)

    def route(path: str, params: dict[str, str]) -> Answer | None:
        if path.startswith("/akamai/"):
            return 200, HTML, BOT_WALL
        if path == "/api/v1/press_releases.json":
            return 200, JSON, api_page(current, params)
        if path == "/ignoring/api/v1/press_releases.json":
            return 200, JSON, api_page(current, {"page": params.get("page", "0")})
        if path == "/revised/api/v1/press_releases.json":
            return 200, JSON, api_page(revised, params)
        if path.startswith("/api/v1/"):
            return 200, HTML, DRUPAL_404
        if path == "/news/speeches":
            return 200, HTML, listing_page(int(params.get("page", 0)))
        slug = path.removeprefix("/opa/speech/")
        if slug in SPEECH_PAGES:
            return 200, HTML, (SPEECHES / SPEECH_PAGES[slug]).read_bytes()
        return None

    return route
