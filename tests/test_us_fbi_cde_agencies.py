"""FBI CDE agency list: the real (trimmed) Illinois response."""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pytest
from conftest import FIXTURES, fetched, load_json

from sanctuarywatch.collect.run import collect
from sanctuarywatch.errors import LayoutError
from sanctuarywatch.http import HttpClient
from sanctuarywatch.load.archive import Archive
from sanctuarywatch.sources import Options
from sanctuarywatch.sources import us_fbi_cde_agencies as src

SAMPLE = FIXTURES / src.SLUG / "agency_byStateAbbr_IL_trimmed.json"


def _records(body: bytes, kind: str = "agencies:site") -> list[dict[str, object]]:
    page = fetched(src.SLUG, body, url="http://127.0.0.1/LATEST/agency/byStateAbbr/IL")
    return src.normalize(src.parse(page, kind), kind)["us_fbi_cde_agencies"]


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


def test_an_agency_without_its_ori_is_a_layout_error() -> None:
    body = load_json(SAMPLE)
    del body["BOND"][0]["ori"]
    with pytest.raises(LayoutError, match="ori"):
        _records(json.dumps(body).encode())


def test_a_county_that_is_not_a_list_is_a_layout_error() -> None:
    with pytest.raises(LayoutError, match="county -> list"):
        _records(b'{"LEE": {"ori": "IL0520200"}}')


@pytest.mark.vcr
def test_collects_through_the_site_backend(
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
