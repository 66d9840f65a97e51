"""DOJ press releases (news API): real records, constructed 2017 releases, paging, guards; in
the shape of every source's tests: (a) parse field by field, (b) layout breaks, (c) recorded
HTTP, (d) idempotence."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, date, datetime
from urllib.parse import parse_qsl, urlsplit

import duckdb
import httpx
import pytest
from conftest import (
    FIXTURES,
    collect_demo_twice,
    fetched,
    layout_break,
    load_json,
)

from sanctuarywatch import registry
from sanctuarywatch.collect.run import collect
from sanctuarywatch.errors import BotWallError, LayoutError
from sanctuarywatch.http import HttpClient
from sanctuarywatch.load.archive import Archive
from sanctuarywatch.sources import Options, State
from sanctuarywatch.sources import us_doj_press_releases as source

HERE = FIXTURES / "us_doj_press_releases"
REAL = HERE / "api_press_releases_2020-03-15_first40.json"
CONSTRUCTED = HERE / "constructed_sanctuary_releases_2017.CONSTRUCTED.json"
API = "http://127.0.0.1:8765/api/v1/press_releases.json"
REVISED_API = "http://127.0.0.1:8765/revised/api/v1/press_releases.json"
IGNORING_API = "http://127.0.0.1:8765/ignoring/api/v1/press_releases.json"
SAVED_URL = "https://www.justice.gov/api/v1/press_releases.json?pagesize=100"
OCT12 = "c0ffee00-2017-4010-8012-000000000001"
# the registry's id of each jurisdiction, by the name DOJ documents give it
DOJ_ID = {j.doj_name: j.jurisdiction_id for j in registry.doj_jurisdictions()}


def real_tables() -> dict[str, list[dict]]:
    page = fetched(source.SLUG, REAL.read_bytes(), url=SAVED_URL)
    return source.normalize(source.parse(page, source.KIND), source.KIND)


def constructed_tables() -> dict[str, list[dict]]:
    page = fetched(source.SLUG, CONSTRUCTED.read_bytes(), url=SAVED_URL)
    return source.normalize(source.parse(page, source.KIND), source.KIND)


# --- (a) parse: a saved real response, field by field --------------------------------------


def test_parses_every_real_record() -> None:
    tables = real_tables()
    releases = tables["us_doj_press_releases"]
    assert len(releases) == 40
    assert all("\r" not in r["title"] and "  " not in r["title"] for r in releases)
    assert all(r["body_text"] for r in releases)
    assert [r["release_number"] for r in releases].count(None) == 19  # 18 null, one "2"
    assert len(tables["us_doj_release_components"]) == 39
    assert tables["us_doj_release_topics"] == []
    assert not any(r["sanctuary_related"] for r in releases)


def test_parse_one_real_record_field_by_field() -> None:
    """Every field of one real record, each expected value read from the saved response: the
    title and teaser with their cp1252 apostrophe repaired, epoch seconds as instants, the
    release day in New York, the body as text."""
    raw = load_json(REAL)["results"][24]
    release = real_tables()["us_doj_press_releases"][24]
    body = release.pop("body_text")
    assert release == {
        "uuid": raw["uuid"],
        "vuuid": raw["vuuid"],
        "release_number": raw["number"],  # NN-NNN, as it should be
        "number_raw": raw["number"],
        "title": raw["title"].replace("\x92", "\u2019"),
        "teaser_text": raw["teaser"].replace("&#146;", "\u2019"),
        "release_date": datetime.fromtimestamp(int(raw["date"]), source.TIME_ZONE).date(),
        "created_at": datetime.fromtimestamp(int(raw["created"]), UTC),
        "changed_at": datetime.fromtimestamp(int(raw["changed"]), UTC),
        "url": raw["url"],
        "components": "; ".join(c["name"] for c in raw["component"]),
        "topics": "; ".join(t["name"] for t in raw["topic"]),
        "attachment_count": len(raw["attachment"]),
        "image_count": len(raw["image"]),
        "sanctuary_related": False,  # about corporate fraud
    }
    assert raw["component"] and not raw["topic"] and "sanctuary" not in raw["body"].lower()
    text = html.unescape(re.sub(r"<[^>]+>", " ", raw["body"]))
    assert body.split() == text.split() and body.startswith("WASHINGTON")


def test_release_date_is_new_york_day_not_created() -> None:
    first = real_tables()["us_doj_press_releases"][0]
    assert first["release_date"] == date(2013, 5, 16)  # 1368676800 = 2013-05-16 04:00 UTC
    assert first["created_at"].date() == date(2014, 6, 26)  # a migration time, not the date


def test_odd_and_missing_release_numbers() -> None:
    releases = real_tables()["us_doj_press_releases"]
    assert (releases[8]["number_raw"], releases[8]["release_number"]) == ("2", None)
    assert (releases[0]["number_raw"], releases[0]["release_number"]) == (None, None)
    assert releases[20]["release_number"] == "08-002"


def test_duplicated_header_is_dropped_from_old_bodies() -> None:
    release = real_tables()["us_doj_press_releases"][2]
    assert release["body_text"].startswith("WASHINGTON - An exhaustive investigation")
    for stock in ("USDOJ:", "FOR IMMEDIATE RELEASE", "Wednesday, March 19, 2014"):
        assert stock not in release["body_text"]
    assert release["body_text"].count(release["title"]) == 0


def test_oct_12_2017_lists_and_tags() -> None:
    tables = constructed_tables()
    mentions = [m for m in tables["us_doj_release_jurisdictions"] if m["doc_id"] == OCT12]
    items = [
        (m["jurisdiction_id"], m["list_lead"][:30])
        for m in mentions
        if m["context_kind"] == "list_item"
    ]
    assert items == [
        (DOJ_ID["Chicago"], "The following jurisdictions ha"),
        (DOJ_ID["Cook County"], "The following jurisdictions ha"),
        (DOJ_ID["New Orleans"], "The following jurisdictions ha"),
        (DOJ_ID["New York City"], "The following jurisdictions ha"),
        (DOJ_ID["Philadelphia"], "The following jurisdictions ha"),
        (DOJ_ID["State of Connecticut"], "The department found no eviden"),
        (DOJ_ID["Milwaukee County"], "The department found no eviden"),
        (DOJ_ID["Clark County"], "The department also previously"),
        (DOJ_ID["Miami-Dade County"], "The department also previously"),
    ]
    tags = {t["tag"]: t for t in tables["us_doj_release_tags"] if t["doc_id"] == OCT12}
    assert sorted(tags) == ["sanctuary", "section_1373"]
    assert tags["section_1373"]["matches"] == 8
    assert "8 U.S.C. 1373" in tags["section_1373"]["reason"]
    numbers = {n["stated"]: n for n in tables["us_doj_release_numbers"] if n["doc_id"] == OCT12}
    assert numbers["Oct. 27, 2017"]["date_value"] == date(2017, 10, 27)
    assert (numbers["seven jurisdictions"]["value"], numbers["May 2016"]["unit"]) == (7, "month")


def test_release_17_436_numbers() -> None:
    tables = constructed_tables()
    release = tables["us_doj_press_releases"][2]
    assert (release["release_number"], release["release_date"]) == ("17-436", date(2017, 4, 21))
    stated = [
        (n["stated"], n["unit"])
        for n in tables["us_doj_release_numbers"]
        if n["doc_id"] == release["uuid"]
    ]
    assert ("more than 50 percent", "percent") in stated
    assert ("June 30, 2017", "date") in stated
    assert not any("1373" in s or "436" in s for s, _ in stated)


# --- (b) layout break: the project's clear error -------------------------------------------


def test_silent_filter_guard_on_the_real_unsorted_page() -> None:
    page = fetched(source.SLUG, REAL.read_bytes(), url=f"{API}?sort=date&direction=DESC&page=0")
    with pytest.raises(LayoutError, match="sorted by date DESC"):
        source.parse(page, source.KIND)


def test_title_filter_guard() -> None:
    url = f"{API}?parameters%5Btitle%5D=INTERPOL"
    page = fetched(source.SLUG, REAL.read_bytes(), url=url)
    with pytest.raises(LayoutError, match="only titles containing 'INTERPOL'"):
        source.parse(page, source.KIND)


def test_layout_break_html_instead_of_json() -> None:
    page = fetched(
        source.SLUG,
        b"<html><head><title>Page not found | DOJ</title></head></html>",
        content_type="text/html",
    )
    with layout_break(source.SLUG, "JSON from the news API") as caught:
        source.parse(page, source.KIND)
    assert "Page not found" in caught.value.found


def _real_with(change: object) -> bytes:
    body = load_json(REAL)
    change(body)  # type: ignore[operator]
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda body: body["results"][3].pop("date"), "fields uuid, vuuid, title, date"),
        (lambda body: body.pop("metadata"), "the news API envelope (metadata, results)"),
        (lambda body: body.update(results={}), "a results list"),
    ],
    ids=["a record without its date", "no metadata", "results not a list"],
)
def test_layout_break_a_missing_field_or_json_of_another_shape(
    change: object, expected: str
) -> None:
    with layout_break(source.SLUG, expected):
        source.parse(fetched(source.SLUG, _real_with(change), url=SAVED_URL), source.KIND)


# --- (c) recorded HTTP: paging, from the cassettes -----------------------------------------


def test_reads_back_the_page_size_the_server_used() -> None:
    rows = load_json(CONSTRUCTED)["results"] + load_json(REAL)["results"][19:21]
    rows.sort(key=lambda row: -int(row["date"]))
    asked: list[dict[str, str]] = []

    def clamping_api(request: httpx.Request) -> httpx.Response:
        params = dict(parse_qsl(urlsplit(str(request.url)).query))
        asked.append(params)
        page = int(params["page"])
        meta = {
            "responseInfo": {"status": 200},
            "resultset": {"count": 5, "page": page, "pagesize": 2},
        }
        body = {"metadata": meta, "results": rows[page * 2 : page * 2 + 2]}
        return httpx.Response(200, json=body)

    options = Options(mode="backfill", base_url=API)
    with HttpClient(transport=httpx.MockTransport(clamping_api)) as client:
        pages = list(source.fetch(client, options, State()))
    assert [(a["page"], a["pagesize"]) for a in asked] == [("0", "50"), ("1", "2"), ("2", "2")]
    assert sum(len(p.rows) for p in pages) == 5


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row else 0


@pytest.mark.vcr(cassette="test_backfill_stops_at_the_start_date")
def test_recorded_backfill_stops_at_the_start_date(
    con: duckdb.DuckDBPyConnection, archive: Archive
) -> None:
    options = Options(mode="backfill", start=date(2017, 1, 1), page_size=2, base_url=API)
    with HttpClient() as client:
        result = collect(con, archive, client, source.SLUG, options)
    assert result.requests == 2  # page 1 reaches 2014: older than the start
    assert _count(con, "SELECT count(*) FROM us_doj_press_releases") == 4
    assert _count(con, "SELECT count(*) FROM us_doj_press_releases WHERE sanctuary_related") == 3


@pytest.mark.vcr
def test_ignored_sort_fails_the_run(con: duckdb.DuckDBPyConnection, archive: Archive) -> None:
    with HttpClient() as client, pytest.raises(LayoutError, match="ignored a parameter"):
        collect(con, archive, client, source.SLUG, Options(mode="backfill", base_url=IGNORING_API))
    assert _count(con, "SELECT count(*) FROM us_doj_press_releases_versions") == 0


@pytest.mark.vcr
def test_wrong_path_answers_html(con: duckdb.DuckDBPyConnection, archive: Archive) -> None:
    wrong = API.replace("press_releases", "press_release")
    with HttpClient() as client, pytest.raises(LayoutError, match="HTML page"):
        collect(con, archive, client, source.SLUG, Options(mode="backfill", base_url=wrong))


@pytest.mark.vcr
def test_bot_wall_stops_with_a_clear_error(
    con: duckdb.DuckDBPyConnection, archive: Archive
) -> None:
    walled = API.replace("/api/", "/akamai/api/")
    with HttpClient() as client, pytest.raises(BotWallError, match="bot-protection"):
        collect(con, archive, client, source.SLUG, Options(mode="backfill", base_url=walled))
    runs = con.execute("SELECT status FROM runs WHERE source = ?", [source.SLUG]).fetchall()
    assert runs == [("failed",)]


# --- (d) idempotence: the same records twice write no new version -------------------------


def test_idempotent_a_second_run_writes_no_new_version(
    con: duckdb.DuckDBPyConnection, archive: Archive
) -> None:
    collect_demo_twice(con, archive, source.SLUG).assert_idempotent()


@pytest.mark.vcr
def test_incremental_picks_up_an_edit_as_a_new_version(
    con: duckdb.DuckDBPyConnection, archive: Archive
) -> None:
    with HttpClient() as client:
        first = collect(con, archive, client, source.SLUG, Options(page_size=20, base_url=API))
        second = collect(
            con, archive, client, source.SLUG, Options(page_size=20, base_url=REVISED_API)
        )
    assert (first.requests, first.counts.new) == (3, first.counts.seen)
    assert second.requests == 1  # the rest of page 0 is older than the watermark
    versions = con.execute(
        "SELECT vuuid, title, valid_to IS NULL FROM us_doj_press_releases_versions "
        "WHERE uuid = ? ORDER BY valid_from",
        [OCT12],
    ).fetchall()
    assert [(v[0][-4:], v[1].endswith("(corrected)"), v[2]) for v in versions] == [
        ("a001", False, False),
        ("b002", True, True),
    ]
    state = con.execute(
        "SELECT watermark FROM source_state WHERE source = ?", [source.SLUG]
    ).fetchone()
    assert state is not None and state[0] == "2020-03-17T00:00:00+00:00"


# --- the fixtures ---------------------------------------------------------------------------


def test_constructed_fixture_is_labelled() -> None:
    assert "CONSTRUCTED" in json.loads(CONSTRUCTED.read_text(encoding="utf-8"))["_provenance"]
