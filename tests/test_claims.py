"""Query helpers and the claims ledger on the bundled data: known values computed, not typed in
the code, and each claim's verdict and caveats."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import duckdb
import httpx
import pytest

from sanctuarywatch.errors import ConfigError
from sanctuarywatch.http import HttpClient
from sanctuarywatch.load import warehouse
from sanctuarywatch.load.archive import Archive
from sanctuarywatch.present import demo
from sanctuarywatch.query import claims, helpers
from sanctuarywatch.scheduling.runner import collect_and_reevaluate
from sanctuarywatch.sources import Options

CPD = "agency:ILCPD0000"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    con = warehouse.connect(":memory:")
    demo.run(con, Archive(tmp_path_factory.mktemp("raw")))
    yield con
    con.close()


@pytest.fixture(scope="module")
def ledger(loaded: duckdb.DuckDBPyConnection) -> dict[str, claims.Evaluation]:
    return {ev.claim.id: ev for ev in claims.evaluate_all(loaded)}


def test_year_to_date_at_the_same_cut_off(loaded: duckdb.DuckDBPyConnection) -> None:
    result = helpers.ytd(loaded, CPD, "murder", date(2017, 8, 16))
    assert (result["this_year"].value, result["last_year"].value) == (447, 456)
    assert result["change"].value == pytest.approx(-2.0)
    assert result["this_year"].inputs["end"] == datetime(2017, 8, 17)
    assert result["rolling_12_months"].inputs["start"] == datetime(2016, 8, 17)
    evidence = result["this_year"].evidence[0]
    assert (
        "incident_count" in evidence["sql"]
        and evidence["responses"][0]["source"] == "il_chicago_crimes"
    )


def test_july_4_weekend_window(loaded: duckdb.DuckDBPyConnection) -> None:
    figure = helpers.count(
        loaded, CPD, "murder", datetime(2017, 6, 30, 17), datetime(2017, 7, 5, 6)
    )
    assert figure.value == 14 and figure.inputs["granularity"] == "incident"


def test_the_same_answer_from_sql(loaded: duckdb.DuckDBPyConnection) -> None:
    row = loaded.execute(
        "SELECT n FROM incident_count('agency:ILCPD0000', 'murder', '2017-01-01', '2017-08-17', "
        "'infinity')"
    ).fetchone()
    assert row == (
        helpers.count(loaded, "place:1714000", "murder", date(2017, 1, 1), date(2017, 8, 17)).value,
    )


@pytest.mark.parametrize(
    ("offense", "table", "definition"),  # the victims' offenses: test_il_chicago_violence_victims
    [
        ("murder", "il_chicago_crimes", "offense_class = 'murder'"),
        ("homicide", "il_chicago_crimes", "offense_class IN ('murder', 'homicide_other')"),
    ],
)
def test_each_offense_counts_what_its_definition_says(
    loaded: duckdb.DuckDBPyConnection, offense: str, table: str, definition: str
) -> None:
    window = ("2016-01-01", "2017-08-17")
    direct = loaded.execute(
        f"SELECT count(*) FROM {table} WHERE {definition} "
        "AND occurred_local >= ? AND occurred_local < ?",
        list(window),
    ).fetchall()[0][0]
    counted = loaded.execute(
        "SELECT n FROM incident_count(?, ?, ?, ?, 'infinity')", [CPD, offense, *window]
    ).fetchall()[0][0]
    shortcut = loaded.execute(
        "SELECT chicago_homicide_victims(?, ?, ?)", [*window, offense]
    ).fetchall()[0][0]
    assert direct > 0 and counted == shortcut == direct


def test_population_parity_and_which_population(loaded: duckdb.DuckDBPyConnection) -> None:
    chicago = helpers.population(loaded, "place:1714000", 2017, vintage=2017)
    county = helpers.population(loaded, "county:12086", 2017, vintage=2019)
    assert (chicago.value, county.value) == (2716450, 2713295)
    assert county.inputs["kind"] == "census" and county.inputs["vintage"] == 2019
    served = helpers.population_for(loaded, "agency:FL0130000", 2017)  # its own (FBI UCR)
    assert served.inputs["kind"] == "agency_served" and served.value == _ucr_population(2017)
    assert "jurisdiction_mismatch" not in {c.kind for c in served.caveats}
    beyond = helpers.population_for(loaded, "agency:FL0130000", 2019)  # no UCR year: the county
    assert "jurisdiction_mismatch" in {c.kind for c in beyond.caveats}


def _ucr_population(year: int) -> int:
    """MDPD's population served in `year`, read from the saved UCR file."""
    path = Path(__file__).parent / "fixtures" / "us_ucr_agency_monthly"
    with (path / "FL01300_miami_dade_pd_2014_2018.csv").open(newline="") as handle:
        return next(
            int(r["population"]) for r in csv.DictReader(handle) if r["year"][:4] == str(year)
        )


def test_half_year_ratio_is_flagged(ledger: dict[str, claims.Evaluation]) -> None:
    ev = ledger["chicago-vs-miami-ratio"]
    chicago, county, ratio = ev.checks[0].figures[:3]
    assert (chicago.value, county.value) == (337, 92)
    assert ratio.value == pytest.approx(3.66, abs=0.01)
    kinds = {c.kind for c in ev.caveats}
    assert {"jurisdiction_mismatch", "publication"} <= kinds
    assert any("half-year" in c.detail for c in ev.caveats)
    assert ev.verdict == "supported"


UCR = Path(__file__).parent / "fixtures" / "us_ucr_agency_monthly"


def _ucr_murders(name: str, first: str, end: str) -> int:
    """Murders in a saved UCR file over months [first, end), each month once."""
    with (UCR / name).open(newline="") as handle:
        months = {r["year"]: int(r["actual_murder"]) for r in csv.DictReader(handle)}
    return sum(n for month, n in months.items() if first <= month < end)


def test_each_miami_dade_reading_of_the_ratio(ledger: dict[str, claims.Evaluation]) -> None:
    """County (FDLE), MDPD and City of Miami: each reading's own counts over the windows it
    supports; the half-years of annual reporters are refused with the reason."""
    ev = ledger["chicago-vs-miami-ratio"]
    _county, mdpd_h1, mdpd, miami_h1, miami = ev.checks
    mdpd_2017 = _ucr_murders("FL01300_miami_dade_pd_2014_2018.csv", "2017-01", "2018-01")
    miami_2017 = _ucr_murders("FL01306_miami_pd_2014_2018.csv", "2017-01", "2018-01")
    for check, b in ((mdpd, mdpd_2017), (miami, miami_2017)):
        chicago, side, ratio = check.figures[:3]
        assert side.value == b and ratio.value == round(chicago.value / b, 2)
        assert check.verdict == ("supported" if chicago.value / b > 3 else "contradicted")
    for check, name in ((mdpd_h1, "Miami-Dade Police Department"), (miami_h1, "Miami Police")):
        assert check.verdict == "unverifiable" and check.figures[1].value is None
        assert f"{name}" in check.reason and "2017 as one annual total" in check.reason
    for reading in (
        "reading 1, Miami-Dade County",
        "reading 2, the Miami-Dade Police",
        "reading 3",
    ):
        assert reading in ev.reason
    rates = miami.figures[3]
    assert rates.value is not None and rates.value < 3  # the City by rates: not three times


def test_baltimore_and_new_orleans_per_city_and_window(
    ledger: dict[str, claims.Evaluation],
) -> None:
    ev = ledger["baltimore-new-orleans-spike"]
    files = ["MDBPD00_baltimore_pd_2014_2018.csv"] * 2 + [
        "LANPD00_new_orleans_pd_2014_2018.csv"
    ] * 2
    windows = [
        ("2017-01", "2017-08", "2016-01", "2016-08"),
        ("2016-01", "2017-01", "2015-01", "2016-01"),
    ]
    for check, name, (a, b, c, d) in zip(ev.checks, files, windows * 2, strict=True):
        new, old = _ucr_murders(name, a, b), _ucr_murders(name, c, d)
        change = round(100 * (new - old) / old, 1)
        assert check.figures[0].value == change
        assert check.verdict == ("supported" if change > 10 else "contradicted")


def test_arrest_flag_share_states_its_definition(loaded: duckdb.DuckDBPyConnection) -> None:
    figure = helpers.arrest_share(loaded, CPD, 2016)
    assert (figure.inputs["victims"], figure.inputs["with_arrest"]) == (786, 282)
    assert helpers.arrest_share(loaded, CPD, 2017).inputs["with_arrest"] == 218
    assert figure.caveats[0].kind == "definition"


EXPECTED = {
    "population-parity": ("supported", {"jurisdiction_mismatch"}),
    "chicago-murders-ytd": ("supported", set()),
    # the county, MDPD and the City of Miami readings: no_source from the half-years that
    # the annual reporters cannot give, definition from the FBI's murder beside IUCR 0110
    "chicago-vs-miami-ratio": (
        "supported",
        {"definition", "jurisdiction_mismatch", "no_source", "publication"},
    ),
    "july4-weekend-chicago": ("supported", {"no_source", "publication"}),
    "july4-weekend-miami-zero": ("unverifiable", set()),
    "mcca-midyear-2017": ("unverifiable", {"publication"}),  # the claimant's own figures
    # MDPD's FBI returns are annual: no January-August count (the AP restates itself)
    "mdpd-ytd-change": ("unverifiable", {"approximated", "no_source", "publication"}),
    "miami-bucks-trend": ("contradicted", {"publication"}),
    "chicago-shootings-down": ("supported", {"no_source", "publication"}),
    "dnainfo-437": ("supported", set()),
    "chicago-20-year-high": ("supported", {"incomplete", "publication"}),
    "chicago-clearance": ("supported", {"definition", "publication"}),
    "miami-1980s": ("contradicted", {"publication"}),
    "miami-dade-certified": ("supported", set()),
    "awaiting-replies": ("mixed", set()),
    "byrne-jag-480k": ("supported", {"publication"}),
    "psp-letters": ("unverifiable", set()),
    "miami-policy-reversal": ("supported", set()),
    "baltimore-new-orleans-spike": ("mixed", {"definition"}),  # Baltimore YTD only
}


@pytest.mark.parametrize("claim_id", sorted(EXPECTED))
def test_each_claim_verdict_and_caveats(
    ledger: dict[str, claims.Evaluation], claim_id: str
) -> None:
    verdict, caveats = EXPECTED[claim_id]
    ev = ledger[claim_id]
    assert ev.verdict == verdict, ev.reason
    assert {c.kind for c in ev.caveats} == caveats
    assert ev.reason


def test_every_claim_in_claims_md_is_in_the_ledger(ledger: dict[str, claims.Evaluation]) -> None:
    assert set(ledger) == set(EXPECTED)


def test_specific_reasons(ledger: dict[str, claims.Evaluation]) -> None:
    assert "447" in ledger["chicago-murders-ytd"].reason
    assert "444" in ledger["dnainfo-437"].reason
    assert "California" in ledger["awaiting-replies"].reason
    assert "1,210,000" in ledger["population-parity"].reason
    assert ledger["miami-bucks-trend"].claim.conflicts_with == "mdpd-ytd-change"


def test_a_later_year_asks_the_same_question_and_says_the_data_stops(
    loaded: duckdb.DuckDBPyConnection,
) -> None:
    claim = next(c for c in claims.load_claims() if c.id == "chicago-murders-ytd")
    ev = claims.evaluate(loaded, claim, as_of=date(2026, 8, 16))
    figure = ev.checks[0].figures[0]
    assert figure.inputs["start"] == datetime(2026, 1, 1) and figure.inputs["end"] == datetime(
        2026, 8, 17
    )
    assert ev.verdict == "unverifiable"


def test_registered_user_claims_and_history_of_verdicts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user's claim registered through $SANCTUARYWATCH_CLAIMS is part of the ledger of record:
    an upstream revision changes its verdict on the next load, and the load records it with
    what moved."""
    mine = tmp_path / "mine.yaml"
    mine.write_text(
        "claims:\n  - id: at-least-447\n    quote: at least 447 murders by Aug 16\n    said_by: a "
        "user\n"
        "    said_on: 2017-08-16\n    article: none\n    stated: '>= 447'\n    comparison: "
        "murders YTD\n"
        "    checks:\n      - "
        "{kind: count, jurisdiction: agency:ILCPD0000, offense: murder, start: 2017-01-01,"
        " through: 2017-08-16, stated: 447, relation: at_least}\n"
    )
    monkeypatch.setenv(claims.CLAIMS_ENV, str(mine))
    con = warehouse.connect(":memory:")
    demo.run(con, Archive(tmp_path / "raw"))
    ledger = [c for c in claims.load_claims() if c.id == "at-least-447"]
    assert claims.evaluate_all(con, ledger)[0].verdict == "supported"
    revised = json.loads(
        con.execute(
            "SELECT to_json(list(t)) FROM (SELECT * EXCLUDE (occurred_at, record_hash, "
            "valid_from, valid_to, "
            "first_observed_at, last_observed_at, source, source_url, raw_sha256, run_id) "
            "FROM il_chicago_crimes WHERE id = 23330) t"
        ).fetchone()[0]
    )
    revised[0].update(
        iucr="0130",
        description="SECOND DEGREE MURDER",
        date=revised[0]["occurred_local"],
        **{":id": "row-23330"},  # asked for with $select, as the portal sends it
    )

    def portal(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=revised, headers={"content-type": "application/json"})

    with HttpClient(transport=httpx.MockTransport(portal)) as client:
        result = collect_and_reevaluate(
            con,
            Archive(tmp_path / "raw"),
            client,
            "il_chicago_crimes",
            Options(base_url="http://127.0.0.1:1/resource/ijzp-q8t2.json"),
        )
    assert result.counts.changed == 1
    assert claims.evaluate_all(con, ledger)[0].verdict == "contradicted"
    history = con.execute(
        "SELECT verdict, previous_verdict, moved FROM claim_verdict_changes "
        "WHERE claim_id = 'at-least-447' ORDER BY evaluated_at"
    ).fetchall()
    assert [h[:2] for h in history] == [("supported", None), ("contradicted", "supported")]
    moved = {m["figure"]: (m["from"], m["to"]) for m in json.loads(history[1][2])}
    assert moved["verdict"] == ("supported", "contradicted")
    assert [v for k, v in moved.items() if k.startswith("murder in")] == [(447, 446)]
    runs = con.execute(
        "SELECT DISTINCT run_id FROM claim_evaluations WHERE claim_id = 'chicago-murders-ytd'"
    ).fetchall()
    assert (result.run_id,) in runs  # the load itself re-evaluated the bundled claims it touched
    before = claims.evaluate(con, ledger[0], known_on=date.today().replace(year=2000))
    assert before.verdict == "unverifiable"


def test_a_user_claim_may_not_reuse_a_bundled_id(tmp_path: Path) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text(
        "claims:\n  - {id: dnainfo-437, quote: q, said_by: me, said_on: 2017-08-16, article: a,"
        " stated: s, comparison: c, checks: [{kind: unverifiable, would_need: x}]}\n"
    )
    with pytest.raises(ConfigError, match=r"mine.yaml: claim dnainfo-437.*already used"):
        claims.load_claims([mine])


def test_a_misspelled_key_in_a_claims_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "claims:\n  - {id: x, quote: q, said_by: s, said_on: 2017-01-01, article: a, stated: s,"
        " comparison: c, checks: [], stated_value: 3}\n"
    )
    with pytest.raises(ConfigError, match="stated_value"):
        claims.load_claims([bad])
