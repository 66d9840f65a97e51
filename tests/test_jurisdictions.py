"""The jurisdiction model: "Miami-Dade" never resolves silently; dated names; policy events."""

from __future__ import annotations

from datetime import date

import duckdb
import httpx
import pytest
from conftest import FIXTURES

from sanctuarywatch.collect.run import collect
from sanctuarywatch.http import HttpClient
from sanctuarywatch.load.archive import Archive
from sanctuarywatch.query import jurisdictions
from sanctuarywatch.sources import Options

CDE_SAMPLE = FIXTURES / "us_fbi_cde_agency_monthly" / "summarized_agency_ILCPD0000_V_2024.json"


def test_miami_dade_returns_the_three_choices(con: duckdb.DuckDBPyConnection) -> None:
    found = jurisdictions.resolve(con, "Miami-Dade")
    assert [c.jurisdiction_id for c in found] == [
        "agency:FL0130000",
        "county:12086",
        "place:1245000",
    ]
    with pytest.raises(jurisdictions.AmbiguousName) as caught:
        jurisdictions.pick(con, "Miami-Dade")
    assert len(caught.value.choices) == 3 and "county:12086" in str(caught.value)


def test_picking_a_kind_is_explicit(con: duckdb.DuckDBPyConnection) -> None:
    county = jurisdictions.pick(con, "miami-dade", kind="county")
    agency = jurisdictions.pick(con, "Miami-Dade", kind="agency")
    assert (county.geo_id, agency.ori) == ("0500000US12086", "FL0130000")


def test_the_2025_rename_is_dated(con: duckdb.DuckDBPyConnection) -> None:
    sheriff = jurisdictions.pick(con, "Miami-Dade Sheriff's Office", on=date(2025, 6, 1))
    assert sheriff.ori == "FL0130000"
    assert jurisdictions.resolve(con, "Miami-Dade Sheriff's Office", on=date(2017, 8, 16)) == []
    assert jurisdictions.resolve(con, "MDPD", on=date(2025, 6, 1)) == []
    assert jurisdictions.pick(con, "MDPD", on=date(2017, 8, 16)).ori == "FL0130000"


def test_who_polices_miami_dade_county(con: duckdb.DuckDBPyConnection) -> None:
    assert jurisdictions.served_by(con, "county:12086") == [("agency:FL0130000", "serves_part")]
    assert jurisdictions.served_by(con, "place:1714000") == [("agency:ILCPD0000", "serves")]


def test_population_served_prefers_the_cde_figure(
    con: duckdb.DuckDBPyConnection, archive: Archive
) -> None:
    mdpd = jurisdictions.population_served(con, "agency:FL0130000", 2024)
    assert mdpd is not None and mdpd[0] == 1210000 and "approximate" in mdpd[1]
    assert jurisdictions.population_served(con, "agency:ILCPD0000", 2024) is None
    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=CDE_SAMPLE.read_bytes()))
    options = Options(
        mode="backfill",
        start=date(2024, 1, 1),
        end=date(2025, 1, 1),
        base_url="http://127.0.0.1:9/LATEST",
        extra={"host": "site", "agencies": ["ILCPD0000"], "offenses": ["V"]},
    )
    with HttpClient(transport=transport) as client:
        collect(con, archive, client, "us_fbi_cde_agency_monthly", options)
    assert jurisdictions.population_served(con, "agency:ILCPD0000", 2024) == (
        2638698,
        "FBI CDE (cde.ucr.cjis.gov)",
    )


def test_policy_events_for_before_after_windows(con: duckdb.DuckDBPyConnection) -> None:
    events = con.execute(
        "SELECT event_date, date_precision, kind FROM policy_events "
        "WHERE jurisdiction_id = 'county:12086' ORDER BY event_date"
    ).fetchall()
    assert events == [
        (date(2013, 1, 1), "year", "detainer_policy"),
        (date(2017, 2, 1), "month", "detainer_policy_reversal"),
        (date(2017, 8, 4), "day", "doj_1373_no_evidence"),
        (date(2017, 10, 12), "day", "doj_1373_previously_cleared"),
    ]
    unsourced = con.execute("SELECT count(*) FROM policy_events WHERE source_url IS NULL")
    assert unsourced.fetchone() == (0,)
