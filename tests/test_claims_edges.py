"""The claims' checks beside their verdicts (issue 17: mutants of the check kinds that the
claims tests let live): the population parity's served-by figure and its missing population,
a DOJ check's lead filter, a policy event's reason, and the JSON fields docs/ledger-json.md
promises. Expected values are read from the demo warehouse, not typed in."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from sanctuarywatch.load import warehouse
from sanctuarywatch.query import claims, helpers
from sanctuarywatch.query.claimfile import Claim

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "ledger-json.md"
CLAIMS = ROOT / "sanctuarywatch" / "data" / "claims.yaml"


@pytest.fixture(scope="module")
def demo(demo_db: Path) -> Any:
    con = warehouse.connect(demo_db, read_only=True)
    yield con
    con.close()


def _claim(claim_id: str) -> Claim:
    return next(c for c in claims.load_claims() if c.id == claim_id)


def _one_check(claim_id: str, kind: str, **changes: Any) -> Claim:
    claim = _claim(claim_id)
    check = next(c for c in claim.checks if c["kind"] == kind)
    return replace(claim, checks=[{**check, **changes}])


def test_a_population_parity_names_the_population_the_police_serve(
    demo: duckdb.DuckDBPyConnection,
) -> None:
    claim = _one_check("population-parity", "population_parity")
    agency = claim.checks[0]["served_by"]
    served, year = demo.execute(
        "SELECT population_served, year FROM jurisdiction_relations WHERE subject_id = ? "
        "AND population_served IS NOT NULL ORDER BY abs(year - ?) LIMIT 1",
        [agency, claim.checks[0]["b"]["year"]],
    ).fetchone() or (None, None)
    (check,) = claims.evaluate(demo, claim).checks
    assert check.reason.endswith(f"; the police department compared serves {served:,.0f}")
    labels = [f.label for f in check.figures]
    assert labels[-1] == f"population served by {agency}, {year}" and len(labels) == 3
    assert check.figures[-1].value == served

    without = _one_check("population-parity", "population_parity", served_by=None)
    (plain,) = claims.evaluate(demo, without).checks
    assert len(plain.figures) == 2 and "serves" not in plain.reason


def test_a_population_parity_without_a_population_decides_nothing(
    demo: duckdb.DuckDBPyConnection,
) -> None:
    claim = _one_check(
        "population-parity", "population_parity", a={"jurisdiction": "place:0000000", "year": 2017}
    )
    (check,) = claims.evaluate(demo, claim).checks
    assert (check.verdict, check.reason) == ("unverifiable", "population not loaded")
    assert len(check.figures) == 2


def test_a_doj_check_reads_only_documents_whose_lead_matches(
    demo: duckdb.DuckDBPyConnection,
) -> None:
    claim = _one_check("miami-dade-certified", "doj_named")
    (matching,) = claims.evaluate(demo, claim).checks
    nowhere = _one_check(
        "miami-dade-certified", "doj_named", lead_contains=["zzz no lead says this"]
    )
    (none,) = claims.evaluate(demo, nowhere).checks
    assert matching.verdict != none.verdict
    assert none.verdict in ("contradicted", "unverifiable")


def test_a_policy_event_check_says_each_event_with_its_date_and_precision(
    demo: duckdb.DuckDBPyConnection,
) -> None:
    claim = _one_check("miami-policy-reversal", "policy_event")
    rows = demo.execute(
        "SELECT event_date, date_precision, summary FROM policy_events "
        "WHERE event_id IN (SELECT unnest(?)) ORDER BY event_date",
        [claim.checks[0]["event_ids"]],
    ).fetchall()
    (check,) = claims.evaluate(demo, claim).checks
    assert check.verdict == "supported"
    assert check.reason == "; ".join(f"{d} ({p}): {s}" for d, p, s in rows)


def test_an_evaluation_as_json_has_the_documented_fields(
    demo: duckdb.DuckDBPyConnection,
) -> None:
    section = DOCS.read_text(encoding="utf-8").split("## A claim's evaluation", 1)[1]
    documented = re.findall(r"^\| `([a-z_]+)` \|", section.split("\n## ", 1)[0], re.M)
    as_json = claims.evaluate(demo, _claim("population-parity")).to_dict()
    assert list(as_json) == documented


def test_a_year_that_is_not_the_highest_names_the_highest_one(
    demo: duckdb.DuckDBPyConnection,
) -> None:
    claim = _one_check("chicago-20-year-high", "year_is_max")
    check = claim.checks[0]
    by_year = helpers.yearly_counts(
        demo, check["jurisdiction"], check["offense"], check["since"], 2016
    ).inputs["by_year"]
    lower = min((y for y in by_year if y < 2016), key=lambda y: by_year[y])
    higher = {y: c for y, c in by_year.items() if y < lower and c >= by_year[lower]}
    assert len(higher) >= 2  # the data has several years above it: which one is named matters
    top = max(higher, key=lambda y: higher[y])
    result = claims.evaluate(demo, replace(claim, checks=[{**check, "year": lower}])).checks[0]
    assert result.verdict == "contradicted" and len(result.figures) == 1
    assert result.reason.startswith(f"{by_year[lower]} in {lower} but {higher[top]} in {top} (")


def test_a_ratio_claim_is_re_checked_when_any_incident_source_loads() -> None:
    incident = {
        "il_chicago_crimes",
        "il_chicago_violence_victims",
        "us_fbi_cde_agency_monthly",
        "us_ucr_agency_monthly",
    }
    ratio_only = [c for c in claims.load_claims() if {k["kind"] for k in c.checks} == {"ratio"}]
    assert ratio_only
    for claim in ratio_only:
        assert incident <= claims.claim_sources(claim), claim.id


def test_each_ratio_reading_names_itself_in_its_reason(demo: duckdb.DuckDBPyConnection) -> None:
    claim = _claim("chicago-vs-miami-ratio")
    for check, result in zip(claim.checks, claims.evaluate(demo, claim).checks, strict=True):
        assert check.get("note"), "every reading of this claim is named"
        assert result.reason.endswith(f" ({check['note']})")


def test_a_claim_keeps_the_claim_it_conflicts_with() -> None:
    bundled = yaml.safe_load(CLAIMS.read_text(encoding="utf-8"))["claims"]
    declared = {c["id"]: c["conflicts_with"] for c in bundled if c.get("conflicts_with")}
    assert declared
    loaded = {c.id: c.conflicts_with for c in claims.load_claims() if c.id in declared}
    assert loaded == declared
