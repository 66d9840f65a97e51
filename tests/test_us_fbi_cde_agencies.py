"""FBI CDE agency list: the real (trimmed) Illinois response, in the shape of every source's
tests: (a) parse field by field, (b) layout breaks, (c) recorded HTTP, (d) idempotence."""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pytest
from conftest import (
    FIXTURES,
    collect_demo_twice,
    fetched,
    layout_break,
    load_json,
)

from sanctuarywatch.collect.run import collect
from sanctuarywatch.http import HttpClient
from sanctuarywatch.load.archive import Archive
from sanctuarywatch.sources import Options
from sanctuarywatch.sources import us_fbi_cde_agencies as src
from sanctuarywatch.sources.platforms import fbi_cde

SAMPLE = FIXTURES / src.SLUG / "agency_byStateAbbr_IL_trimmed.json"


def _records(body: bytes, kind: str = "agencies:site") -> list[dict[str, object]]:
    page = fetched(src.SLUG, body, url="http://127.0.0.1/LATEST/agency/byStateAbbr/IL")
    return src.normalize(src.parse(page, kind), kind)["us_fbi_cde_agencies"]


# --- (a) parse: a saved real response, field by field --------------------------------------


def test_parse_one_agency_field_by_field() -> None:
    """Every field of one real agency, each expected value read from the saved response (the
    county is the key the agency is listed under)."""
    county, agencies = next(iter(load_json(SAMPLE).items()))
    raw = agencies[0]
    (record,) = [r for r in _records(SAMPLE.read_bytes()) if r["ori"] == raw["ori"]]
    assert record == {
        "ori": raw["ori"],
        "agency_name": raw["agency_name"],
        "agency_type": raw["agency_type_name"],
        "county": county,
        "counties": raw["counties"],
        "state_abbr": raw["state_abbr"],
        "state_name": raw["state_name"],
        "is_nibrs": raw["is_nibrs"],
        "nibrs_start_date": date.fromisoformat(raw["nibrs_start_date"]),
        "latitude": raw["latitude"],
        "longitude": raw["longitude"],
        "host": fbi_cde.HOST_NAMES["site"],  # the page kind says which host served it
    }


def test_real_illinois_list_field_by_field() -> None:
    records = _records(SAMPLE.read_bytes())
    assert len(records) == 4
    amboy = next(r for r in records if r["ori"] == "IL0520200")
    assert amboy == {
        "ori": "IL0520200",
        "agency_name": "Amboy Police Department",
        "agency_type": "City",
        "county": "LEE",
        "counties": "LEE",
        "state_abbr": "IL",
        "state_name": "Illinois",
        "is_nibrs": True,
        "nibrs_start_date": date(2022, 12, 1),
        "latitude": 41.713726,
        "longitude": -89.33026,
        "host": "cde.ucr.cjis.gov",
    }
    franklin = next(r for r in records if r["ori"] == "IL0520400")
    assert franklin["nibrs_start_date"] is None and franklin["is_nibrs"] is False


# --- (b) layout break: the project's clear error -------------------------------------------


def test_layout_break_an_agency_without_its_ori() -> None:
    body = load_json(SAMPLE)
    del body["BOND"][0]["ori"]
    with layout_break(src.SLUG, "ori"):
        _records(json.dumps(body).encode())


def test_layout_break_a_county_that_is_not_a_list() -> None:
    with layout_break(src.SLUG, "county -> list"):
        _records(b'{"LEE": {"ori": "IL0520200"}}')


# --- (c) recorded HTTP: the site backend, from the cassette --------------------------------


@pytest.mark.vcr(cassette="test_collects_through_the_site_backend")
def test_recorded_collects_through_the_site_backend(
    con: duckdb.DuckDBPyConnection, archive: Archive
) -> None:
    options = Options(
        base_url="http://127.0.0.1:8770/LATEST", extra={"host": "site", "states": ["IL"]}
    )
    with HttpClient() as client:
        result = collect(con, archive, client, src.SLUG, options)
    rows = con.execute(
        "SELECT county, count(*) FROM us_fbi_cde_agencies GROUP BY county ORDER BY county"
    ).fetchall()
    assert result.requests == 1 and rows == [("BOND", 2), ("LEE", 2)]


# --- (d) idempotence: the same list twice writes no new version ----------------------------


def test_idempotent_a_second_run_writes_no_new_version(
    con: duckdb.DuckDBPyConnection, archive: Archive
) -> None:
    collect_demo_twice(con, archive, src.SLUG).assert_idempotent()
