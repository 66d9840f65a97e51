"""Census population estimates: the real vintage-2017 city and vintage-2019 county extracts,
in the shape of every source's tests: (a) parse field by field, (b) layout break, (c) recorded
HTTP, (d) idempotence."""

from __future__ import annotations

import csv

import duckdb
import pytest
from conftest import FIXTURES, collect_demo_twice, fetched, layout_break

from sanctuarywatch.collect.run import collect
from sanctuarywatch.http import HttpClient
from sanctuarywatch.load.archive import Archive
from sanctuarywatch.sources import Options
from sanctuarywatch.sources import us_census_population as src

CITIES = FIXTURES / src.SLUG / "PEP_2017_PEPANNRSIP.US12A_extract.csv"
COUNTIES = FIXTURES / src.SLUG / "co-est2019-alldata_MiamiDade_extract.csv"
LOOPBACK = "http://127.0.0.1:8770"


def _records(body: bytes, vintage: int) -> list[dict[str, object]]:
    kind = f"vintage:{vintage}"
    page = fetched(src.SLUG, body, content_type="text/csv")
    return src.normalize(src.parse(page, kind), kind)["us_census_population"]


def _estimate(records: list[dict[str, object]], geo_id: str, year: int) -> object:
    found = [
        r
        for r in records
        if r["geo_id"] == geo_id and r["year"] == year and r["measure"] == "estimate"
    ]
    assert len(found) == 1
    return found[0]["population"]


# --- (a) parse: saved real files, field by field --------------------------------------------


def test_parse_one_county_figure_field_by_field() -> None:
    """Every field of Miami-Dade's 2017 estimate, each expected value read from the saved line
    (state and county codes zero-padded, as the Census publishes them)."""
    with COUNTIES.open(newline="", encoding="latin-1") as handle:
        (line,) = list(csv.DictReader(handle))
    state, county = line["STATE"].zfill(2), line["COUNTY"].zfill(3)
    figures = [
        r
        for r in _records(COUNTIES.read_bytes(), 2019)
        if (r["measure"], r["year"]) == ("estimate", 2017)
    ]
    assert figures == [
        {
            "geo_id": f"0500000US{state}{county}",
            "geo_type": "county",  # SUMLEV 050
            "name": f"{line['CTYNAME']}, {line['STNAME']}",
            "state_fips": state,
            "county_fips": county,
            "place_fips": None,
            "measure": "estimate",
            "year": 2017,
            "population": int(line["POPESTIMATE2017"]),
            "vintage": 2019,
        }
    ]
    assert line["SUMLEV"].zfill(3) == "050"


def test_chicago_2017_in_vintage_2017() -> None:
    records = _records(CITIES.read_bytes(), 2017)
    assert _estimate(records, "1600000US1714000", 2017) == 2716450
    assert _estimate(records, "1600000US1714000", 2016) == 2720275
    assert _estimate(records, "1600000US1245000", 2017) == 463347
    chicago = next(r for r in records if r["geo_id"] == "1600000US1714000")
    assert chicago["name"] == "Chicago city, Illinois" and chicago["vintage"] == 2017
    census = [
        r["population"]
        for r in records
        if r["measure"] == "census" and r["geo_id"] == "1600000US1714000"
    ]
    assert census == [2695598]


def test_miami_dade_2017_in_vintage_2019() -> None:
    records = _records(COUNTIES.read_bytes(), 2019)
    assert _estimate(records, "0500000US12086", 2017) == 2713295
    assert _estimate(records, "0500000US12086", 2016) == 2692213
    county = records[0]
    assert (county["name"], county["geo_type"], county["county_fips"]) == (
        "Miami-Dade County, Florida",
        "county",
        "086",
    )


def test_cook_county_has_no_real_row() -> None:
    geo_ids = {r["geo_id"] for r in _records(COUNTIES.read_bytes(), 2019)}
    assert "0500000US17031" not in geo_ids


def test_latin1_flat_file_and_state_rows() -> None:
    header = COUNTIES.read_text().splitlines()[0]
    body = (
        header + "\n40,3,5,35,0,New Mexico,New Mexico,1,2,3,4,5,6,7,8,9,10,11,12\n"
        "50,3,5,35,13,New Mexico,Do\xf1a Ana County,1,2,3,4,5,6,7,8,9,10,11,12\n"
    )
    records = _records(body.encode("latin-1"), 2019)
    names = {r["geo_id"]: r["name"] for r in records}
    assert names == {"0400000US35": "New Mexico", "0500000US35013": "Doña Ana County, New Mexico"}


# --- (b) layout break: the project's clear error -------------------------------------------


def test_layout_break_a_file_without_estimates() -> None:
    with layout_break(src.SLUG, "population estimate columns"):
        _records(b"SUMLEV,STATE,COUNTY,STNAME,CTYNAME\n50,12,86,Florida,Miami-Dade County\n", 2019)


# --- (c) recorded HTTP: both vintages' files, from the cassette ----------------------------


@pytest.mark.vcr(cassette="test_collect_keeps_each_vintage")
def test_recorded_collect_keeps_each_vintage(
    con: duckdb.DuckDBPyConnection, archive: Archive
) -> None:
    files = [
        {
            "url": "/programs-surveys/popest/datasets/2010-2019/counties/totals/"
            "co-est2019-alldata.csv",
            "vintage": 2019,
        },
        {"url": "/aff/PEP_2017_PEPANNRSIP.US12A.csv", "vintage": 2017},
    ]
    with HttpClient() as client:
        collect(con, archive, client, src.SLUG, Options(base_url=LOOPBACK, extra={"files": files}))
    values = con.execute(
        "SELECT census_population('1600000US1714000', 2017, 2017), "
        "census_population('0500000US12086', 2017, 2019), "
        "census_population('0500000US12086', 2017, 2017)"
    ).fetchone()
    assert values == (2716450, 2713295, None)


# --- (d) idempotence: the same files twice write no new version ----------------------------


def test_idempotent_a_second_run_writes_no_new_version(
    con: duckdb.DuckDBPyConnection, archive: Archive
) -> None:
    collect_demo_twice(con, archive, src.SLUG).assert_idempotent()
