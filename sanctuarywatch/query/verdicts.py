"""Verdicts: one value against what was stated (`compare`), and a claim's verdict from its
checks (`combine`).

    supported     the data agrees with what was said
    contradicted  the data disagrees
    mixed         checks disagree (true under one reading, false under another: the reason says)
    unverifiable  nothing in the warehouse can test it (the reason names what would)

How a claim's verdict is combined from its checks lives in one place, `combine`: data over
publications, and a publication that restates the claim (its publisher or carrier is the
claimant, or the report the claimant cites) is never support (`restates`). A check whose
figure is partial (an `incomplete` caveat) decides nothing (`partial`).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date
from html import escape
from typing import Any

from sanctuarywatch.errors import ConfigError
from sanctuarywatch.query.claimfile import Claim
from sanctuarywatch.query.figures import Caveat, Figure, KnownOn

VERDICTS = ("supported", "contradicted", "mixed", "unverifiable")

DATA, PUBLICATION, RESTATEMENT = "data", "publication", "restatement"


@dataclass
class CheckResult:
    verdict: str
    reason: str
    figures: list[Figure] = field(default_factory=list)
    basis: str = DATA  # data | publication | restatement (the claimant's own words again)


@dataclass
class Evaluation:
    claim: Claim
    verdict: str
    reason: str
    checks: list[CheckResult]
    compared_on: date
    known_on: KnownOn

    @property
    def caveats(self) -> list[Caveat]:
        seen: dict[tuple[str, str], Caveat] = {}
        for check in self.checks:
            for figure in check.figures:
                for caveat in figure.caveats:
                    seen.setdefault((caveat.kind, caveat.detail), caveat)
        return list(seen.values())

    def _repr_html_(self) -> str:
        """A notebook shows the verdict, the quote, why, and every figure with its caveats."""
        rows = "".join(f.html_row() for check in self.checks for f in check.figures)
        return (
            f"<p><b>{escape(self.verdict)}</b>: {escape(self.claim.quote)} "
            f"({escape(self.claim.said_by)}, {self.claim.said_on})</p>"
            f"<p>{escape(self.reason)}</p><table>{rows}</table>"
        )

    def to_dict(self) -> dict[str, Any]:
        """The whole evaluation as JSON types (docs/ledger-json.md documents every field):
        null stays null, dates are ISO text, and each check keeps its basis, so the JSON
        alone says why the verdict is what it is."""
        return {
            "claim": _plain(asdict(self.claim)),
            "verdict": self.verdict,
            "reason": self.reason,
            "compared_on": str(self.compared_on),
            "known_on": str(self.known_on) if self.known_on else None,
            "caveats": [asdict(c) for c in self.caveats],
            "checks": [
                {
                    "verdict": c.verdict,
                    "reason": c.reason,
                    "basis": c.basis,
                    "figures": [f.to_dict() for f in c.figures],
                }
                for c in self.checks
            ],
        }


def _plain(value: Any) -> Any:
    """JSON types only: dates (a claim's said_on, YAML dates in its checks) become ISO text."""
    return json.loads(json.dumps(value, default=str))


def combine(results: list[CheckResult]) -> tuple[str, str]:
    """A claim's verdict from its checks, and the reason, led by the checks that decided it.

    1. Checks that could not decide (unverifiable, or partial data) and restatements of the
       claim by the claimant's own source are set aside: they never decide.
    2. Data checks decide when any did: all agree -> that verdict; else `mixed`.
    3. Otherwise publication checks decide the same way.
    4. Nothing decided -> `unverifiable`.
    A publication that disagrees with the deciding data is named after the reason.
    """
    data = [r for r in results if r.basis == DATA and r.verdict != "unverifiable"]
    published = [r for r in results if r.basis == PUBLICATION and r.verdict != "unverifiable"]
    deciding = data or published
    if not deciding:
        return "unverifiable", _reasons(results)
    verdicts = {r.verdict for r in deciding}
    verdict = verdicts.pop() if len(verdicts) == 1 else "mixed"
    rest = [r for r in results if r not in deciding]
    lead = _reasons(deciding, tagged=len({r.verdict for r in deciding}) > 1)
    return verdict, lead + (f"; other checks: {_reasons(rest, tagged=True)}" if rest else "")


def _reasons(results: list[CheckResult], tagged: bool = False) -> str:
    """Each check's reason once, in order, restatements last under one phrase; `tagged`
    names each other check's own verdict (and when it is a publication)."""
    said: list[str] = []
    for r in results:
        if r.basis == RESTATEMENT:
            continue
        tag = f"{r.verdict}{' (publication)' if r.basis == PUBLICATION else ''}: " if tagged else ""
        said.append(tag + r.reason)
    restated = [r.reason for r in results if r.basis == RESTATEMENT]
    if restated:
        said.append(
            "restated by the claimant's own source, which is not support: " + "; ".join(restated)
        )
    return "; ".join(dict.fromkeys(said))


def compare(value: float | None, check: dict[str, Any]) -> tuple[str, str]:
    """Verdict of one value against what was stated."""
    stated, relation = float(check["stated"]), check.get("relation", "about")
    tolerance_pct = float(check.get("tolerance_pct", 2))
    if not 0 <= tolerance_pct < float("inf"):
        raise ConfigError("check", f"tolerance_pct: expected a number >= 0, found {tolerance_pct}")
    if value is None:
        return "unverifiable", "no value"
    tolerance = tolerance_pct / 100 * abs(stated)
    outcomes = {
        "more_than": value > stated,
        "at_least": value >= stated,
        "less_than": value < stated,
        "at_most": value <= stated,
        "about": abs(value - stated) <= tolerance,
    }
    if relation not in outcomes:
        raise ConfigError(
            "check", f"relation: expected one of {', '.join(outcomes)}, found {relation!r}"
        )
    holds = outcomes[relation]
    shown = plain_number(value)
    words = relation.replace("_", " ") + (
        f" (±{check.get('tolerance_pct', 2)}%)" if relation == "about" else ""
    )
    return (
        "supported" if holds else "contradicted"
    ), f"{shown} vs stated {words} {check['stated']:,}"


def plain_number(value: float) -> str:
    """447, 3.66, -22.5: no trailing zeros."""
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def why_partial(what: str, figures: list[Figure]) -> str | None:
    """Why a figure cannot decide a check: one of its inputs is incomplete."""
    gaps = list(
        dict.fromkeys(c.detail for f in figures for c in f.caveats if c.kind == "incomplete")
    )
    if not gaps:
        return None
    return f"{what} is partial, so it decides nothing ({'; '.join(gaps)})"


def restates(claim: Claim, reporting_body: str) -> bool:
    """Whether a publication is the claimant's own word: its publisher or its carrier ("X via
    Y") is a claimant, or it is the report a claimant cites ("TIME citing DNAinfo")."""
    names = re.split(r"\s*(?:/|,|\(|\)|\bciting\b|\bvia\b)\s*", claim.said_by)
    body = reporting_body.lower()
    return any(re.search(rf"\b{re.escape(name.lower())}\b", body) for name in names if name.strip())
