"""The ledger of record: evaluations that follow a load, written to `claim_evaluations`.

Only `reevaluate_after_load` writes (through `record`), each evaluation with the run that
triggered it and what moved since the claim's previous one. What-if questions (`as_of`,
`known_on`, a user's claims file, the report) compute and write nothing; `record` refuses
them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import duckdb

from sanctuarywatch.query.checks import evaluate_all
from sanctuarywatch.query.claimfile import Claim, load_claims
from sanctuarywatch.query.verdicts import Evaluation


def record(con: duckdb.DuckDBPyConnection, evaluations: list[Evaluation], run_id: str) -> None:
    """Append evaluations that follow the load `run_id` to the ledger of record, each with
    what moved since the claim's previous recorded evaluation (figure, from, to)."""
    now = datetime.now(UTC)
    for ev in evaluations:
        if ev.known_on is not None or ev.compared_on != ev.claim.said_on:
            raise ValueError(f"{ev.claim.id}: a what-if evaluation is never recorded")
        result = ev.to_dict()
        con.execute(
            "INSERT INTO claim_evaluations BY NAME SELECT ? AS claim_id, ? AS evaluated_at, "
            "? AS run_id, ? AS compared_on, NULL AS known_on, ? AS verdict, ? AS reason, "
            "? AS result, ? AS moved",
            [
                ev.claim.id,
                now,
                run_id,
                ev.compared_on,
                ev.verdict,
                ev.reason,
                json.dumps(result, default=str),
                json.dumps(_moved(con, ev.claim.id, ev.verdict, result), default=str),
            ],
        )


def _moved(
    con: duckdb.DuckDBPyConnection, claim_id: str, verdict: str, result: dict[str, Any]
) -> list[dict[str, Any]]:
    """What differs from the claim's previous recorded evaluation: its verdict and each
    figure whose value changed (by label), as {figure, from, to}."""
    row = con.execute(
        "SELECT verdict, result FROM claim_ledger WHERE claim_id = ?", [claim_id]
    ).fetchone()
    if row is None:
        return []
    old = json.loads(row[1])
    changes = [{"figure": "verdict", "from": row[0], "to": verdict}] if row[0] != verdict else []
    before, after = _figure_values(old), _figure_values(result)
    for label in sorted(before.keys() | after.keys()):
        if before.get(label) != after.get(label):
            changes.append({"figure": label, "from": before.get(label), "to": after.get(label)})
    return changes


def _figure_values(result: dict[str, Any]) -> dict[str, Any]:
    return {f["label"]: f["value"] for c in result["checks"] for f in c["figures"]}


def claim_sources(claim: Claim) -> set[str]:
    """The sources a claim's checks read, so a load re-evaluates only the claims it touches."""
    found: set[str] = set()
    for check in claim.checks:
        text = json.dumps(check, default=str)
        if check["kind"] in ("count", "year_is_max", "arrest_share", "ratio"):
            found |= {
                "il_chicago_crimes",
                "il_chicago_violence_victims",
                "us_fbi_cde_agency_monthly",
                "us_ucr_agency_monthly",
            }
        if "published" in text or check["kind"] == "arrest_share":
            found.add("published_figures")
        if "population" in text:
            found |= {"us_census_population", "us_fbi_cde_agency_monthly", "us_ucr_agency_monthly"}
        if check["kind"] == "doj_named":
            found |= {"us_doj_press_releases", "us_doj_speeches"}
    return found


def reevaluate_after_load(
    con: duckdb.DuckDBPyConnection, sources: set[str], run_id: str
) -> list[Evaluation]:
    """After a load: re-evaluate the registered claims that read what it changed, and record
    them as following the run `run_id`."""
    touched = [claim for claim in load_claims() if claim_sources(claim) & sources]
    evaluations = evaluate_all(con, touched) if touched else []
    record(con, evaluations, run_id)
    return evaluations
