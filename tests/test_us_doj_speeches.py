"""DOJ speeches (HTML): both layouts, the real Drupal 7 listing; in the shape of every source's
tests: (a) parse field by field, (b) layout breaks, (c) recorded HTTP, (d) idempotence."""

from __future__ import annotations

import re
from datetime import date

import duckdb
import pytest
from conftest import FIXTURES, collect_demo_twice, fetched, layout_break

from sanctuarywatch import registry
from sanctuarywatch.collect.run import collect
from sanctuarywatch.errors import BotWallError
from sanctuarywatch.http import HttpClient
from sanctuarywatch.load.archive import Archive
from sanctuarywatch.sources import Options
from sanctuarywatch.sources import us_doj_speeches as source

HERE = FIXTURES / "us_doj_speeches"
HOMEPAGE = HERE / "justice_gov_homepage_drupal7_2020-11.html"
MIAMI_CURRENT = HERE / "current_speech_miami_2017-08-16.CONSTRUCTED.html"
MIAMI_DRUPAL7 = HERE / "drupal7_speech_miami_2017-08-16.CONSTRUCTED.html"
OCT12_PAGE = HERE / "current_release_1373_last_chance_2017-10-12.CONSTRUCTED.html"
LISTING = "http://127.0.0.1:8765/news/speeches"
# the registry's id of each jurisdiction, by the name DOJ documents give it
DOJ_ID = {j.doj_name: j.jurisdiction_id for j in registry.doj_jurisdictions()}
MIAMI_URL = (
    "https://www.justice.gov/opa/speech/"
    "constructed-2017-08-16-attorney-general-sessions-remarks-miami"
)


def page(body: bytes | str, kind: str) -> list[dict]:
    return source.parse(fetched(source.SLUG, body, content_type="text/html"), kind)


# --- (a) parse: saved pages, field by field -------------------------------------------------


def _first_listing_item(page: str) -> dict[str, object]:
    """The first item of the saved listing, read with plain patterns (not the parser's
    selectors): its link, its title and the day of its date stamp."""
    row = page.split("views-row-first", 1)[1]
    link = re.search(r'<a href="([^"]+)">([^<]+)</a>', row)
    day = re.search(r'class="date-display-single"[^>]* content="(\d{4}-\d\d-\d\d)T', row)
    assert link and day
    return {"url": link[1], "title": link[2].strip(), "date": date.fromisoformat(day[1])}


def test_parse_real_listing_item_field_by_field() -> None:
    """Every field of the real listing's first item, as read from the saved page itself."""
    items = page(HOMEPAGE.read_bytes(), "listing")
    assert items[0] == _first_listing_item(HOMEPAGE.read_text(encoding="utf-8"))


def test_parse_current_layout_speech_field_by_field() -> None:
    speech = page(MIAMI_CURRENT.read_bytes(), "speech")[0]
    body = speech.pop("body_text")
    assert speech == {
        "title": "Attorney General Sessions Delivers Remarks on Sanctuary Jurisdictions in Miami",
        "date": date(2017, 8, 16),
        "updated_date": date(2017, 8, 17),
        "location": "Miami, FL, United States",
        "office": "Office of the Attorney General",
        "components": None,
        "topics": None,
        "number": None,
        "url": MIAMI_URL,
        "layout": "current",
        "as_prepared": True,
    }
    assert body.split("\n")[:2] == [
        "Remarks as prepared for delivery",
        "Thank you Tom, for that introduction.",
    ]


def test_drupal7_layout_gives_the_same_speech() -> None:
    old = page(MIAMI_DRUPAL7.read_bytes(), "speech")[0]
    new = page(MIAMI_CURRENT.read_bytes(), "speech")[0]
    assert (old["layout"], old["date"], old["updated_date"]) == ("drupal7", date(2017, 8, 16), None)
    assert (old["topics"], old["components"]) == ("Immigration", "Office of the Attorney General")
    assert (old["number"], old["location"]) == (None, "Miami, FL, United States")
    assert old["body_text"] == new["body_text"]
    assert old["title"] == new["title"]


def test_real_drupal7_listing() -> None:
    items = page(HOMEPAGE.read_bytes(), "listing")
    assert len(items) == 10  # nine Justice News items and one video
    assert items[0] == {
        "url": "https://www.justice.gov/opa/pr/statement-assistant-attorney-general-eric-"
        "dreiband-civil-rights-division-veterans-day",
        "title": "Statement by Assistant Attorney General Eric Dreiband for the Civil Rights "
        "Division on Veterans Day",
        "date": date(2020, 11, 11),
    }
    assert [item["date"] for item in items].count(date(2020, 11, 10)) == 4


def test_current_release_page_with_its_lists() -> None:
    release = page(OCT12_PAGE.read_bytes(), "speech")[0]
    assert (release["date"], release["as_prepared"]) == (date(2017, 10, 12), False)
    items = [line for line in release["body_text"].split("\n") if line.startswith("- ")]
    assert items == [
        "- Chicago",
        "- Cook County",
        "- New Orleans",
        "- New York",
        "- Philadelphia",
        "- State of Connecticut",
        "- Milwaukee County",
        "- Clark County",
        "- Miami-Dade County",
    ]


def test_speech_tags_mentions_and_numbers() -> None:
    tables = source.normalize(page(MIAMI_CURRENT.read_bytes(), "speech"), "speech")
    speech = tables["us_doj_speeches"][0]
    assert (speech["release_date"], speech["sanctuary_related"]) == (date(2017, 8, 16), True)
    named = {m["jurisdiction_id"] for m in tables["us_doj_speech_jurisdictions"]}
    assert named == {
        DOJ_ID[name] for name in ("Miami-Dade County", "Chicago", "Lansing", "Westchester County")
    }
    stated = {n["stated"]: n for n in tables["us_doj_speech_numbers"]}
    assert stated["more than 433 people"]["value"] == 433
    assert stated["More than three times"]["unit"] == "times"
    assert stated["nearly 11 percent"]["hedge"] == "nearly"
    assert stated["2.7 million person"]["value"] == 2_700_000
    assert stated["more than 433 people"]["context"].startswith("In Chicago")


# --- (b) layout break: the project's clear error -------------------------------------------


def test_layout_break_current() -> None:
    broken = MIAMI_CURRENT.read_text(encoding="utf-8").replace('class="node-date"', 'class="x"')
    with layout_break(source.SLUG, "one .node-date time (current layout)"):
        page(broken, "speech")


def test_layout_break_drupal7() -> None:
    broken = MIAMI_DRUPAL7.read_text(encoding="utf-8").replace("field--name-field-pr-body", "x")
    with layout_break(source.SLUG, "field--name-field-pr-body"):
        page(broken, "speech")


def test_unknown_layout() -> None:
    broken = MIAMI_DRUPAL7.read_text(encoding="utf-8").replace('id="node-title"', 'id="x"')
    with layout_break(source.SLUG, "h1#node-title (Drupal 7)") as caught:
        page(broken, "speech")
    assert "neither" in caught.value.found


def test_layout_break_real_listing() -> None:
    broken = HOMEPAGE.read_text(encoding="utf-8").replace("date-display-single", "x")
    with layout_break(source.SLUG, "a title link and a date"):
        page(broken, "listing")


# --- (c) recorded HTTP: listings and speech pages, from the cassettes ----------------------


@pytest.mark.vcr
def test_listing_then_pages_and_incremental(
    con: duckdb.DuckDBPyConnection, archive: Archive
) -> None:
    with HttpClient() as client:
        first = collect(
            con,
            archive,
            client,
            source.SLUG,
            Options(mode="backfill", start=date(2017, 1, 1), base_url=LISTING),
        )
        again = collect(con, archive, client, source.SLUG, Options(base_url=LISTING))
    assert first.requests == 5  # listings 0, 1, 2 (empty) and two speech pages
    assert again.requests == 3  # listing 0, its new-enough speech, listing 1 reaches August
    assert (again.counts.new, again.counts.changed) == (0, 0)
    rows = con.execute("SELECT release_date, location FROM us_doj_speeches ORDER BY 1").fetchall()
    assert rows == [
        (date(2017, 8, 16), "Miami, FL, United States"),
        (date(2017, 12, 15), "Quantico, VA, United States"),
    ]


@pytest.mark.vcr(cassette="test_backfill_window_fetches_only_its_speeches")
def test_recorded_backfill_window_fetches_only_its_speeches(
    con: duckdb.DuckDBPyConnection, archive: Archive
) -> None:
    options = Options(
        mode="backfill", start=date(2017, 8, 1), end=date(2017, 9, 1), base_url=LISTING
    )
    with HttpClient() as client:
        result = collect(con, archive, client, source.SLUG, options)
    assert result.requests == 4  # three listings (the last empty) and the Miami speech
    assert con.execute("SELECT url FROM us_doj_speeches").fetchall() == [(MIAMI_URL,)]


@pytest.mark.vcr
def test_bot_wall(con: duckdb.DuckDBPyConnection, archive: Archive) -> None:
    walled = LISTING.replace("/news/", "/akamai/news/")
    with HttpClient() as client, pytest.raises(BotWallError, match="does not try to get around"):
        collect(con, archive, client, source.SLUG, Options(mode="backfill", base_url=walled))


# --- (d) idempotence: the same pages twice write no new version ----------------------------


def test_idempotent_a_second_run_writes_no_new_version(
    con: duckdb.DuckDBPyConnection, archive: Archive
) -> None:
    collect_demo_twice(con, archive, source.SLUG).assert_idempotent()
