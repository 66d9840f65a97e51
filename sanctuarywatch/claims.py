"""The claims ledger: each claim's checks re-computed from the warehouse, with a verdict.

Claims live in `data/claims.yaml` (and in any file a user adds). A claim has one or more
checks; each check gives figures (values with caveats and evidence) and a verdict:

    supported     the data agrees with what was said
    contradicted  the data disagrees
    mixed         checks disagree (true under one reading, false under another: the reason says)
    unverifiable  nothing in the warehouse can test it (the reason names what would)

A claim's verdict combines its decided checks; undecided ones are named in the reason.
Every load re-evaluates the claims whose inputs it touched and appends to `claim_evaluations`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import yaml

from . import helpers
from .errors import ConfigError
from .helpers import Caveat, Figure

CLAIMS_ENV = "SANCTUARYWATCH_CLAIMS"
VERDICTS = ("supported", "contradicted", "mixed", "unverifiable")
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader is 10x faster
REQUIRED = ("id", "quote", "said_by", "said_on", "article", "stated", "comparison", "checks")


@dataclass
class Claim:
    id: str
    quote: str
    said_by: str
    said_on: date
    article: str
    stated: str
    comparison: str
    checks: list[dict[str, Any]]
    conflicts_with: str | None = None


@dataclass
class CheckResult:
    verdict: str
    reason: str
    figures: list[Figure] = field(default_factory=list)


@dataclass
class Evaluation:
    claim: Claim
    verdict: str
    reason: str
    checks: list[CheckResult]
    compared_on: date
    known_on: date | None

    @property
    def caveats(self) -> list[Caveat]:
        seen: dict[tuple[str, str], Caveat] = {}
        for check in self.checks:
            for figure in check.figures:
                for caveat in figure.caveats:
                    seen.setdefault((caveat.kind, caveat.detail), caveat)
        return list(seen.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "claim": {k: str(v) for k, v in vars(self.claim).items() if k != "checks"},
            "verdict": self.verdict,
            "reason": self.reason,
            "compared_on": str(self.compared_on),
            "known_on": str(self.known_on) if self.known_on else None,
            "caveats": [vars(c) for c in self.caveats],
            "checks": [
                {
                    "verdict": c.verdict,
                    "reason": c.reason,
                    "figures": [f.to_dict() for f in c.figures],
                }
                for c in self.checks
            ],
        }


def load_claims(extra: Iterable[str | os.PathLike[str]] = ()) -> list[Claim]:
    """The bundled claims, then any user files (named, or in $SANCTUARYWATCH_CLAIMS)."""
    files = [
        Path(str(resources.files("sanctuarywatch") / "data" / "claims.yaml")),
        *map(Path, extra),
    ]
    if os.environ.get(CLAIMS_ENV):
        files.append(Path(os.environ[CLAIMS_ENV]))
    claims: dict[str, Claim] = {}
    for path in files:
        for claim in _read(path):
            claims[claim.id] = claim
    return list(claims.values())


def _read(path: Path) -> list[Claim]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(str(path), f"cannot read claims: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("claims"), list):
        raise ConfigError(str(path), "expected a mapping with a 'claims' list")
    claims = []
    for number, item in enumerate(data["claims"], 1):
        missing = [key for key in REQUIRED if key not in item]
        unknown = sorted(set(item) - set(REQUIRED) - {"conflicts_with"})
        if missing or unknown:
            raise ConfigError(
                f"{path}: claim {item.get('id', number)}",
                f"missing keys {missing}" if missing else f"unknown keys {unknown}",
            )
        for check in item["checks"]:
            if check.get("kind") not in CHECKS:
                raise ConfigError(
                    f"{path}: claim {item['id']}",
                    f"unknown check kind {check.get('kind')!r}; known: {', '.join(CHECKS)}",
                )
        claims.append(Claim(**{**item, "said_on": date.fromisoformat(str(item["said_on"]))}))
    return claims


def evaluate(
    con: duckdb.DuckDBPyConnection,
    claim: Claim,
    as_of: date | None = None,
    known_on: date | None = None,
) -> Evaluation:
    """Run every check of a claim; `as_of` moves year-to-date checks to that day's year."""
    context = _Context(con, claim, as_of, known_on)
    results = [CHECKS[check["kind"]](context, check) for check in claim.checks]
    verdict, reason = combine(results)
    return Evaluation(claim, verdict, reason, results, as_of or claim.said_on, known_on)


def combine(results: list[CheckResult]) -> tuple[str, str]:
    decided = [r for r in results if r.verdict != "unverifiable"]
    if not decided:
        return "unverifiable", "; ".join(r.reason for r in results)
    verdicts = {r.verdict for r in decided}
    verdict = verdicts.pop() if len(verdicts) == 1 else "mixed"
    if verdict == "mixed" or len(results) > 1:
        return verdict, "; ".join(f"{r.verdict}: {r.reason}" for r in results)
    return verdict, results[0].reason


@dataclass
class _Context:
    con: duckdb.DuckDBPyConnection
    claim: Claim
    as_of: date | None
    known_on: date | None

    def day(self, value: Any) -> datetime:
        return datetime.fromisoformat(str(value))

    def shift(self, moment: datetime, check: dict[str, Any]) -> datetime:
        """A year-to-date check's date moved to the as-of day: its start to Jan 1 of that
        year, its cut-off (the claim's own day or the day before) to the as-of day."""
        if not (check.get("ytd") and self.as_of):
            return moment
        if moment.date() >= self.claim.said_on - timedelta(days=1):
            return datetime.combine(self.as_of, moment.time())
        return moment.replace(year=self.as_of.year)


def compare(value: float | None, check: dict[str, Any]) -> tuple[str, str]:
    """Verdict of one value against what was stated."""
    stated, relation = float(check["stated"]), check.get("relation", "about")
    if value is None:
        return "unverifiable", "no value"
    tolerance = float(check.get("tolerance_pct", 2)) / 100 * abs(stated)
    holds = {
        "more_than": value > stated,
        "at_least": value >= stated,
        "less_than": value < stated,
        "at_most": value <= stated,
        "about": abs(value - stated) <= tolerance,
    }[relation]
    shown = f"{value:,.2f}".rstrip("0").rstrip(".")
    words = relation.replace("_", " ") + (
        f" (±{check.get('tolerance_pct', 2)}%)" if relation == "about" else ""
    )
    return (
        "supported" if holds else "contradicted"
    ), f"{shown} vs stated {words} {check['stated']:,}"


def _count_figure(ctx: _Context, check: dict[str, Any]) -> Figure:
    start = ctx.shift(ctx.day(check["start"]), check)
    end = (
        ctx.shift(ctx.day(check["through"]), check) + timedelta(days=1)
        if "through" in check
        else ctx.shift(ctx.day(check["end"]), check)
    )
    if check.get("change"):
        result = helpers.ytd(
            ctx.con,
            check["jurisdiction"],
            check["offense"],
            (end - timedelta(days=1)).date(),
            ctx.known_on,
        )
        return result["change"]
    return helpers.count(ctx.con, check["jurisdiction"], check["offense"], start, end, ctx.known_on)


def _figure(ctx: _Context, spec: dict[str, Any]) -> Figure:
    if spec["kind"] == "published":
        return helpers.published(ctx.con, spec["figure_id"], ctx.known_on)
    return _count_figure(ctx, spec)


def _numeric(ctx: _Context, check: dict[str, Any]) -> CheckResult:
    figure = _figure(ctx, check)
    if figure.value is None:
        reasons = "; ".join(c.detail for c in figure.caveats if c.kind == "no_source")
        return CheckResult("unverifiable", reasons or f"no value for {figure.label}", [figure])
    verdict, reason = compare(figure.value, check)
    note = f" ({check['note']})" if check.get("note") else ""
    return CheckResult(verdict, f"{figure.label}: {reason}{note}", [figure])


def _ratio(ctx: _Context, check: dict[str, Any]) -> CheckResult:
    a, b = _figure(ctx, check["a"]), _figure(ctx, check["b"])
    by_count = helpers.ratio(a, b)
    figures = [a, b, by_count]
    if check.get("mismatch"):
        by_count.caveats.append(
            Caveat("jurisdiction_mismatch", " ".join(check["mismatch"].split()))
        )
    if "a_population" in check:
        pa, pb = (
            helpers.population(ctx.con, **check[k], known_on=ctx.known_on)
            for k in ("a_population", "b_population")
        )
        figures.append(helpers.ratio(helpers.rate(a, pa), helpers.rate(b, pb)))
    if by_count.value is None:
        return CheckResult("unverifiable", f"missing a side of {by_count.label}", figures)
    verdict, reason = compare(by_count.value, check)
    rates = f"; by rates {figures[-1].value}" if "a_population" in check else ""
    return CheckResult(verdict, f"ratio {reason}{rates}", figures)


def _population_parity(ctx: _Context, check: dict[str, Any]) -> CheckResult:
    a = helpers.population(ctx.con, **check["a"], known_on=ctx.known_on)
    b = helpers.population(ctx.con, **check["b"], known_on=ctx.known_on)
    if a.value is None or b.value is None:
        return CheckResult("unverifiable", "population not loaded", [a, b])
    gap = 100 * abs(a.value - b.value) / b.value
    verdict = "supported" if gap <= float(check.get("tolerance_pct", 2)) else "contradicted"
    served = _served(ctx, check.get("served_by"), check["b"]["year"])
    figures = [a, b, *([served] if served else [])]
    note = (
        f"; the police department compared serves {served.value:,.0f}"
        if served and served.value
        else ""
    )
    return CheckResult(
        verdict, f"{a.value:,.0f} vs {b.value:,.0f} ({gap:.1f}% apart){note}", figures
    )


def _served(ctx: _Context, agency: str | None, year: int) -> Figure | None:
    if not agency:
        return None
    row = ctx.con.execute(
        "SELECT population_served, year, source FROM jurisdiction_relations WHERE subject_id = ? "
        "AND population_served IS NOT NULL ORDER BY abs(year - ?) LIMIT 1",
        [agency, year],
    ).fetchone()
    if row is None:
        return None
    figure = Figure(
        f"population served by {agency}, {row[1]}", row[0], {"jurisdiction": agency, "year": row[1]}
    )
    figure.caveats.append(
        Caveat(
            "jurisdiction_mismatch",
            f"{agency} serves about {row[0]:,} people ({row[1]}, {row[2]}), not the "
            "county's population: crime counts of that department cannot be set against the county total",
        )
    )
    return figure


def _year_is_max(ctx: _Context, check: dict[str, Any]) -> CheckResult:
    rows = ctx.con.execute(
        "SELECT year, count(*) FROM incident_events(?) WHERE jurisdiction_id = ? AND offense = ? "
        "GROUP BY year ORDER BY year",
        [helpers._as_of(ctx.known_on), check["jurisdiction"], check["offense"]],
    ).fetchall()
    counts = dict(rows)
    if check["year"] not in counts:
        return CheckResult("unverifiable", f"no {check['offense']} data for {check['year']}")
    figure = Figure(
        f"{check['offense']} in {check['year']}",
        counts[check["year"]],
        {"by_year": {str(k): v for k, v in counts.items()}},
    )
    first = min(counts)
    if first > check["since"]:
        figure.caveats.append(
            Caveat(
                "incomplete",
                f"the data starts in {first}; {check['since']}-{first - 1} are not in it",
            )
        )
    others = {y: n for y, n in counts.items() if y != check["year"] and y >= check["since"]}
    top = max(others.values(), default=0)
    verdict = "supported" if counts[check["year"]] > top else "contradicted"
    return CheckResult(
        verdict,
        f"{counts[check['year']]} in {check['year']}, most of {first}-{max(counts)} otherwise {top}"
        if verdict == "supported"
        else f"{counts[check['year']]} in {check['year']} but {top} in another year",
        [figure],
    )


def _arrest_share(ctx: _Context, check: dict[str, Any]) -> CheckResult:
    share = helpers.arrest_share(ctx.con, check["jurisdiction"], check["year"], ctx.known_on)
    national = helpers.published(ctx.con, check["against"], ctx.known_on)
    if share.value is None or national.value is None:
        return CheckResult(
            "unverifiable", "arrest flags or the national rate not loaded", [share, national]
        )
    verdict = "supported" if share.value < national.value else "contradicted"
    return CheckResult(
        verdict,
        f"{share.value}% of {check['year']} victims have an arrest flag vs "
        f"{national.value}% cleared nationally",
        [share, national],
    )


def _doj_named(ctx: _Context, check: dict[str, Any]) -> CheckResult:
    if not helpers._has_rows(ctx.con, "us_doj_press_releases") and not helpers._has_rows(
        ctx.con, "us_doj_speeches"
    ):
        return CheckResult(
            "unverifiable", "no DOJ press releases or speeches loaded (us_doj_press_releases)"
        )
    found, missing = {}, []
    for name in check["jurisdictions"]:
        row = ctx.con.execute(
            "SELECT m.title, m.release_date, m.list_lead, m.url FROM us_doj_sanctuary_mentions m "
            "JOIN us_doj_jurisdictions j USING (jurisdiction_id) WHERE (j.name = $n OR list_contains(string_split(j.aliases, '; '), $n)) "
            "AND (len($leads) = 0 OR list_bool_or([contains(lower(coalesce(m.list_lead, m.context, '')), x) FOR x IN $leads])) "
            "ORDER BY m.release_date LIMIT 1",
            {"n": name, "leads": check.get("lead_contains", [])},
        ).fetchone()
        if row:
            found[name] = {"title": row[0], "date": str(row[1]), "list": row[2], "url": row[3]}
        else:
            missing.append(name)
    figure = Figure(
        "jurisdictions named in DOJ documents", len(found), {"found": found, "missing": missing}
    )
    if not found:
        span = ctx.con.execute(
            "SELECT count(DISTINCT doc_id), min(release_date), max(release_date) "
            "FROM us_doj_sanctuary_mentions"
        ).fetchone() or (0, None, None)
        return CheckResult(
            "unverifiable",
            f"none of {', '.join(check['jurisdictions'])} is named in the "
            f"{span[0]} sanctuary-related DOJ documents loaded ({span[1]} to {span[2]}); "
            "absence there is not evidence against the claim",
            [figure],
        )
    verdict = "supported" if not missing else "mixed"
    return CheckResult(
        verdict,
        f"{len(found)} of {len(check['jurisdictions'])} named"
        + (f"; not named: {', '.join(missing)}" if missing else ""),
        [figure],
    )


def _policy_event(ctx: _Context, check: dict[str, Any]) -> CheckResult:
    rows = ctx.con.execute(
        "SELECT event_id, event_date, date_precision, summary, source_name FROM policy_events "
        "WHERE event_id IN (SELECT unnest(?)) ORDER BY event_date",
        [check["event_ids"]],
    ).fetchall()
    figure = Figure(
        "policy events",
        len(rows),
        {
            "events": [
                dict(
                    zip(("id", "date", "precision", "summary", "source"), map(str, r), strict=True)
                )
                for r in rows
            ]
        },
    )
    if len(rows) < len(check["event_ids"]):
        return CheckResult("unverifiable", "policy events not recorded", [figure])
    return CheckResult("supported", "; ".join(f"{r[1]} ({r[2]}): {r[3]}" for r in rows), [figure])


def _unverifiable(ctx: _Context, check: dict[str, Any]) -> CheckResult:
    return CheckResult(
        "unverifiable", f"no source in the warehouse can test it; would need {check['would_need']}"
    )


CHECKS: dict[str, Callable[[_Context, dict[str, Any]], CheckResult]] = {
    "count": _numeric,
    "published": _numeric,
    "ratio": _ratio,
    "population_parity": _population_parity,
    "year_is_max": _year_is_max,
    "arrest_share": _arrest_share,
    "doj_named": _doj_named,
    "policy_event": _policy_event,
    "unverifiable": _unverifiable,
}


def evaluate_all(
    con: duckdb.DuckDBPyConnection,
    claims: list[Claim] | None = None,
    as_of: date | None = None,
    known_on: date | None = None,
    run_id: str | None = None,
    record: bool = True,
) -> list[Evaluation]:
    """Evaluate claims (default: all); append each result to claim_evaluations."""
    results = [evaluate(con, claim, as_of, known_on) for claim in claims or load_claims()]
    if record:
        now = datetime.now(UTC)
        for ev in results:
            con.execute(
                "INSERT INTO claim_evaluations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    ev.claim.id,
                    now,
                    run_id,
                    ev.compared_on,
                    known_on,
                    ev.verdict,
                    ev.reason,
                    json.dumps(ev.to_dict(), default=str),
                ],
            )
    return results


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
            }
        if "published" in text or check["kind"] == "arrest_share":
            found.add("published_figures")
        if "population" in text:
            found |= {"us_census_population", "us_fbi_cde_agency_monthly"}
        if check["kind"] == "doj_named":
            found |= {"us_doj_press_releases", "us_doj_speeches"}
    return found


def reevaluate_after_load(
    con: duckdb.DuckDBPyConnection, sources: set[str], run_id: str
) -> list[Evaluation]:
    """Called inside a load's transaction: re-evaluate the claims that read what it changed."""
    touched = [claim for claim in load_claims() if claim_sources(claim) & sources]
    return evaluate_all(con, touched, run_id=run_id) if touched else []
