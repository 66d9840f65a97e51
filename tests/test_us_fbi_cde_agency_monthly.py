"""FBI CDE monthly counts: the real Chicago PD 2024 response, and the odd cases on cassettes;
in the shape of every source's tests: (a) parse field by field, (b) layout breaks, (c) recorded
HTTP, (d) idempotence; then the reporting patterns the helpers read."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from conftest import (
    FIXTURES,
    TESTS,
    collect_demo_twice,
    fetched,
    layout_break,
    load_json,
)

from sanctuarywatch.collect.run import collect
from sanctuarywatch.errors import ConfigError, FetchError
from sanctuarywatch.http import HttpClient
from sanctuarywatch.load.archive import Archive
from sanctuarywatch.query import helpers
from sanctuarywatch.sources import Options
from sanctuarywatch.sources import us_fbi_cde_agency_monthly as src
from sanctuarywatch.sources.platforms import fbi_cde

SAMPLE = FIXTURES / src.SLUG / "summarized_agency_ILCPD0000_V_2024.json"
LOOPBACK = "http://127.0.0.1:8770"
URL = "http://127.0.0.1/LATEST/summarized/agency/ILCPD0000/V?from=01-2024&to=12-2024"
SECRET = "sw-test-key-9f3a1c77"
CASSETTES = TESTS / "cassettes" / "test_us_fbi_cde_agency_monthly"


def _records(body: Any, url: str = URL, kind: str = "monthly:site") -> list[dict[str, Any]]:
    page = fetched(src.SLUG, json.dumps(body), url=url)
    return src.normalize(src.parse(page, kind), kind)["us_fbi_cde_agency_monthly"]


def _options(base: str, **extra: Any) -> Options:
    extra = {"agencies": ["ILCPD0000"], "offenses": ["V"], "host": "site"} | extra
    return Options(
        mode="backfill", start=date(2024, 1, 1), end=date(2025, 1, 1), base_url=base, extra=extra
    )


def _collect(con: duckdb.DuckDBPyConnection, archive: Archive, options: Options) -> None:
    with HttpClient() as client:
        collect(con, archive, client, src.SLUG, options)


# --- (a) parse: a saved real response, field by field --------------------------------------


def test_parse_one_month_field_by_field() -> None:
    """Every field of January's offenses, each expected value read from the saved response
    (the agency and offense from the URL it answered)."""
    body = load_json(SAMPLE)
    actuals = body["offenses"]["actuals"]
    (series,) = [name for name in actuals if name.endswith(" Offenses")]
    agency, month = series.removesuffix(" Offenses"), "01-2024"
    ori, offense = URL.split("/agency/")[1].split("?")[0].split("/")
    properties = body["cde_properties"]
    january = [
        r for r in _records(body) if (r["series"], r["month"]) == ("offenses", date(2024, 1, 1))
    ]
    assert january == [
        {
            "ori": ori,
            "offense": offense,
            "month": datetime.strptime(month, "%m-%Y").date(),
            "series": "offenses",
            "actual": actuals[series][month],
            "rate": body["offenses"]["rates"][series][month],
            "agency_name": agency,
            "population": body["populations"]["population"][agency][month],
            "host": fbi_cde.HOST_NAMES["site"],  # the page kind says which host served it
            "max_data_date": datetime.strptime(properties["max_data_date"]["UCR"], "%m/%Y").date(),
            "last_refresh_date": datetime.strptime(
                properties["last_refresh_date"]["UCR"], "%m/%d/%Y"
            ).date(),
        }
    ]


def test_real_sample_is_twelve_months_with_name_and_population() -> None:
    records = _records(load_json(SAMPLE))
    offenses = [r for r in records if r["series"] == "offenses"]
    assert len(offenses) == 12 and len(records) == 24
    january = next(r for r in offenses if r["month"] == date(2024, 1, 1))
    assert january == {
        "ori": "ILCPD0000",
        "offense": "V",
        "month": date(2024, 1, 1),
        "series": "offenses",
        "actual": 1068,
        "rate": 40.47,
        "agency_name": "Chicago Police Department",
        "population": 2638698,
        "host": "cde.ucr.cjis.gov",
        "max_data_date": date(2026, 2, 1),
        "last_refresh_date": date(2026, 2, 15),
    }
    december = next(r for r in records if r["series"] == "clearances" and r["month"].month == 12)
    assert december["actual"] == 107


def test_keyed_host_is_recorded_from_the_page_kind() -> None:
    records = _records(load_json(SAMPLE), kind="monthly:api")
    assert {r["host"] for r in records} == {"api.usa.gov"}


def test_negative_counts_stay_and_null_months_are_not_zero() -> None:
    body = load_json(SAMPLE)
    series = body["offenses"]["actuals"]["Chicago Police Department Offenses"]
    series["03-2024"], series["04-2024"] = -2, None
    by_month = {r["month"]: r["actual"] for r in _records(body) if r["series"] == "offenses"}
    assert by_month[date(2024, 3, 1)] == -2
    assert by_month[date(2024, 4, 1)] is None


def test_months_after_the_refresh_date_are_dropped() -> None:
    body = load_json(SAMPLE)
    body["cde_properties"]["last_refresh_date"]["UCR"] = "12/10/2024"
    months = {r["month"] for r in _records(body)}
    assert max(months) == date(2024, 11, 1) and len(months) == 11


# --- (b) layout break: the project's clear error -------------------------------------------


def test_layout_break_a_missing_actuals_key() -> None:
    body = load_json(SAMPLE)
    del body["offenses"]["actuals"]
    with layout_break(src.SLUG, "'offenses' object with 'actuals'"):
        _records(body)


def test_layout_break_series_of_two_agencies() -> None:
    body = load_json(SAMPLE)
    actuals = body["offenses"]["actuals"]
    actuals["Other Police Department Offenses"] = copy.deepcopy(
        actuals["Chicago Police Department Offenses"]
    )
    with layout_break(src.SLUG, "exactly one agency"):
        _records(body)


# --- (c) recorded HTTP: the odd cases, from the cassettes ----------------------------------


@pytest.mark.vcr(cassette="test_unordered_months_load_as_twelve")
def test_recorded_unordered_months_load_as_twelve(
    con: duckdb.DuckDBPyConnection, archive: Archive
) -> None:
    _collect(con, archive, _options(f"{LOOPBACK}/shuffled/LATEST"))
    rows = con.execute(
        "SELECT month, actual, agency_name, population FROM us_fbi_cde_agency_monthly "
        "WHERE series = 'offenses' ORDER BY month"
    ).fetchall()
    real = load_json(SAMPLE)["offenses"]["actuals"]["Chicago Police Department Offenses"]
    assert len(rows) == 12
    assert [r[1] for r in rows] == [real[f"{m:02d}-2024"] for m in range(1, 13)]
    assert {(r[2], r[3]) for r in rows} == {("Chicago Police Department", 2638698)}
    total = con.execute(
        "SELECT * FROM cde_monthly_total('ILCPD0000', 'V', 'offenses', '2024-01-01', '2025-01-01')"
    ).fetchone()
    assert total == (12, 12, sum(real.values()))


def test_keyed_host_without_a_key_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in fbi_cde.KEY_ENV:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="SANCTUARYWATCH_FBI_API_KEY"):
        fbi_cde.key_params("api")
    assert fbi_cde.choose_host(Options()) == "site"


@pytest.mark.vcr
def test_null_actuals_load_as_no_data(con: duckdb.DuckDBPyConnection, archive: Archive) -> None:
    _collect(con, archive, _options(f"{LOOPBACK}/LATEST", agencies=["XX0000000"]))
    rows = con.execute("SELECT count(*), count(actual) FROM us_fbi_cde_agency_monthly").fetchone()
    total = con.execute(
        "SELECT total FROM cde_monthly_total('XX0000000', 'V', 'offenses', '2024-01-01', "
        "'2025-01-01')"
    ).fetchone()
    assert rows == (12, 0) and total == (None,)


@pytest.mark.vcr
def test_partial_latest_month_is_dropped(con: duckdb.DuckDBPyConnection, archive: Archive) -> None:
    _collect(con, archive, _options(f"{LOOPBACK}/partial/LATEST"))
    newest = con.execute("SELECT max(month), count(*) FROM us_fbi_cde_agency_monthly").fetchone()
    state = con.execute(
        "SELECT complete_through FROM source_state WHERE source = ?", [src.SLUG]
    ).fetchone()
    assert newest == (date(2024, 11, 1), 22)
    assert state is not None and state[0].date() == date(2024, 12, 1)


@pytest.mark.vcr
def test_429_with_retry_after_is_retried(con: duckdb.DuckDBPyConnection, archive: Archive) -> None:
    _collect(con, archive, _options(f"{LOOPBACK}/throttled/LATEST"))
    assert con.execute("SELECT count(*) FROM us_fbi_cde_agency_monthly").fetchone() == (24,)
    recorded = (CASSETTES / "test_429_with_retry_after_is_retried.yaml").read_text()
    assert "code: 429" in recorded and "retry-after" in recorded.lower()


@pytest.mark.vcr
def test_keyed_host_keeps_the_key_out_of_everything(
    con: duckdb.DuckDBPyConnection, archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SANCTUARYWATCH_FBI_API_KEY", SECRET)
    _collect(con, archive, _options(f"{LOOPBACK}/crime/fbi/cde", host="api"))
    hosts = con.execute("SELECT DISTINCT host FROM us_fbi_cde_agency_monthly").fetchall()
    assert hosts == [("api.usa.gov",)]
    stored = con.execute(
        "SELECT string_agg(source_url, ' ') FROM us_fbi_cde_agency_monthly_versions"
    ).fetchone()[0] + " ".join(str(r) for r in con.execute("FROM raw_responses").fetchall())
    assert "API_KEY=REDACTED" in stored and SECRET not in stored
    assert SECRET not in archive.manifest.read_text()
    assert SECRET not in _cassette_text()


@pytest.mark.vcr
def test_a_rejected_key_fails_without_showing_it(
    con: duckdb.DuckDBPyConnection, archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SANCTUARYWATCH_FBI_API_KEY", "invalid-" + SECRET)
    with pytest.raises(FetchError) as caught:
        _collect(con, archive, _options(f"{LOOPBACK}/crime/fbi/cde", host="api"))
    assert caught.value.status == 403 and "API_KEY_INVALID" in str(caught.value)
    assert SECRET not in str(caught.value) and SECRET not in _cassette_text()
    assert con.execute("SELECT count(*) FROM us_fbi_cde_agency_monthly").fetchone() == (0,)


def _cassette_text() -> str:
    return "".join(path.read_text() for path in Path(CASSETTES).glob("*.yaml"))


# --- (d) idempotence: the same months twice write no new version --------------------------


def test_idempotent_a_second_run_writes_no_new_version(
    con: duckdb.DuckDBPyConnection, archive: Archive
) -> None:
    collect_demo_twice(con, archive, src.SLUG).assert_idempotent()


def test_a_revised_month_becomes_a_new_version(
    con: duckdb.DuckDBPyConnection, archive: Archive
) -> None:
    bodies = [load_json(SAMPLE), load_json(SAMPLE)]
    bodies[1]["offenses"]["actuals"]["Chicago Police Department Offenses"]["01-2024"] = 1070
    answers = iter(bodies)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=next(answers))

    with HttpClient(transport=httpx.MockTransport(handler)) as client:
        for _ in bodies:
            collect(con, archive, client, src.SLUG, _options(f"{LOOPBACK}/LATEST"))
    versions = con.execute(
        "SELECT actual FROM us_fbi_cde_agency_monthly_versions WHERE month = '2024-01-01' "
        "AND series = 'offenses' ORDER BY valid_from"
    ).fetchall()
    current = con.execute("SELECT count(*) FROM us_fbi_cde_agency_monthly").fetchone()
    assert versions == [(1068,), (1070,)] and current == (24,)


# --- reporting patterns: what the helpers may sum ------------------------------------------


def _load_series(
    con: duckdb.DuckDBPyConnection, archive: Archive, months: dict[str, int | None]
) -> None:
    """The real 2024 answer with its offense months replaced (a different reporting pattern)."""
    body = load_json(SAMPLE)
    body["offenses"]["actuals"]["Chicago Police Department Offenses"].update(months)
    with HttpClient(transport=httpx.MockTransport(lambda r: httpx.Response(200, json=body))) as c:
        collect(con, archive, c, src.SLUG, _options(f"{LOOPBACK}/LATEST"))


def _pattern(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute(
        "SELECT pattern FROM agency_reporting_patterns WHERE source = ? AND year = 2024", [src.SLUG]
    ).fetchone()
    return str(row[0]) if row else "none"


def test_an_annual_total_in_december_is_detected_and_never_split(
    con: duckdb.DuckDBPyConnection, archive: Archive
) -> None:
    real = load_json(SAMPLE)["offenses"]["actuals"]["Chicago Police Department Offenses"]
    total = sum(real.values())
    _load_series(con, archive, {f"{m:02d}-2024": 0 for m in range(1, 12)} | {"12-2024": total})
    assert _pattern(con) == "annual"
    year = helpers.count(
        con, "agency:ILCPD0000", "violent_crime", date(2024, 1, 1), date(2025, 1, 1)
    )
    part = helpers.count(
        con, "agency:ILCPD0000", "violent_crime", date(2024, 1, 1), date(2024, 9, 1)
    )
    assert year.value == total and part.value is None
    assert any("reported 2024 as one annual total" in c.detail for c in part.caveats)


def test_half_years_with_null_months_between_are_detected(
    con: duckdb.DuckDBPyConnection, archive: Archive
) -> None:
    real = load_json(SAMPLE)["offenses"]["actuals"]["Chicago Police Department Offenses"]
    first = sum(real[f"{m:02d}-2024"] for m in range(1, 7))
    months: dict[str, int | None] = {f"{m:02d}-2024": None for m in range(1, 13)}
    _load_series(con, archive, months | {"06-2024": first, "12-2024": 1})
    assert _pattern(con) == "half_yearly"
    h1 = helpers.count(con, "agency:ILCPD0000", "violent_crime", date(2024, 1, 1), date(2024, 7, 1))
    assert h1.value == first and h1.caveats == []
