"""The claims ledger: each claim's checks re-computed from the warehouse, with a verdict.

Claims live in `data/claims.yaml` (and in any file a user adds). A claim has one or more
checks; each check gives figures (values with caveats and evidence) and a verdict:

    supported     the data agrees with what was said
    contradicted  the data disagrees
    mixed         checks disagree (true under one reading, false under another: the reason says)
    unverifiable  nothing in the warehouse can test it (the reason names what would)

How a claim's verdict is combined from its checks lives in one place, `combine`: data over
publications, and a publication that restates the claim (its publisher or carrier is the
claimant, or the report the claimant cites) is never support. A check whose figure is
partial (an `incomplete` caveat: a coverage gap, a stalled source, missing months) decides
nothing.

The ledger of record: only evaluations that follow a load are written to
`claim_evaluations` (`record`), each with the run that triggered it and what moved. What-if
questions (`as_of`, `known_on`, a user's claims file, the report) compute and write nothing.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import yaml

from sanctuarywatch.errors import ConfigError
from sanctuarywatch.query import helpers
from sanctuarywatch.query.helpers import Caveat, Figure

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
    known_on: helpers.KnownOn

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


def load_claims(extra: Iterable[str | os.PathLike[str]] = ()) -> list[Claim]:
    """The bundled claims, then any user files (named, or in $SANCTUARYWATCH_CLAIMS)."""
    files = [
        Path(str(resources.files("sanctuarywatch") / "data" / "claims.yaml")),
        *map(Path, extra),
    ]
    if os.environ.get(CLAIMS_ENV):
        files.append(Path(os.environ[CLAIMS_ENV]))
    claims: dict[str, Claim] = {}
    where: dict[str, Path] = {}
    for path in files:
        for claim in _read(path):
            if claim.id in claims:
                raise ConfigError(
                    f"{path}: claim {claim.id}",
                    f"the id is already used by {where[claim.id]}; "
                    "give your claim an id of its own",
                )
            claims[claim.id], where[claim.id] = claim, path
    return list(claims.values())


def _read(path: Path) -> list[Claim]:
    """A claims file, checked against `schemas.ClaimsFile` before any claim is used: a bad
    value is named (file, line, claim, key, what was expected), never met mid-evaluation."""
    from sanctuarywatch import schemas

    data = schemas.read_yaml(path, "claims")
    schemas.check_claims(path, data)
    return [
        Claim(
            **{key: str(item[key]) for key in REQUIRED if key not in ("said_on", "checks")},
            said_on=date.fromisoformat(str(item["said_on"])),
            checks=item["checks"],
            conflicts_with=item.get("conflicts_with"),
        )
        for item in data["claims"]
    ]


def evaluate(
    con: duckdb.DuckDBPyConnection,
    claim: Claim,
    as_of: date | None = None,
    known_on: helpers.KnownOn = None,
) -> Evaluation:
    """Run every check of a claim; `as_of` moves year-to-date checks to that day's year."""
    context = _Context(con, claim, as_of, known_on)
    results = [CHECKS[check["kind"]](context, check) for check in claim.checks]
    verdict, reason = combine(results)
    return Evaluation(claim, verdict, reason, results, as_of or claim.said_on, known_on)


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


@dataclass
class _Context:
    con: duckdb.DuckDBPyConnection
    claim: Claim
    as_of: date | None
    known_on: helpers.KnownOn

    def day(self, value: Any) -> datetime:
        return datetime.fromisoformat(str(value))

    def shift(self, moment: datetime, check: dict[str, Any]) -> datetime:
        """A year-to-date check's date moved to the as-of day: every cut-off by the same
        offset as the claim's day to the as-of day (the day before stays the day before),
        and Jan 1 to Jan 1 of the year the cut-offs land in."""
        if not (check.get("ytd") and self.as_of):
            return moment
        offset = self.as_of - self.claim.said_on
        if (moment.month, moment.day, moment.time()) == (1, 1, time()):
            return moment.replace(year=(self.claim.said_on + offset).year)
        return moment + offset


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
    shown = _shown(value)
    words = relation.replace("_", " ") + (
        f" (±{check.get('tolerance_pct', 2)}%)" if relation == "about" else ""
    )
    return (
        "supported" if holds else "contradicted"
    ), f"{shown} vs stated {words} {check['stated']:,}"


def _shown(value: float) -> str:
    """447, 3.66, -22.5: no trailing zeros."""
    return f"{value:,.2f}".rstrip("0").rstrip(".")


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
    basis = _basis(ctx, [figure])
    if figure.value is None:
        reasons = "; ".join(
            dict.fromkeys(c.detail for c in figure.caveats if c.kind == "no_source")
        )
        return CheckResult(
            "unverifiable", reasons or f"no value for {figure.label}", [figure], basis
        )
    note = f" ({check['note']})" if check.get("note") else ""
    partial = _partial(f"{figure.label}: {_shown(figure.value)}", [figure])
    if partial:
        return CheckResult("unverifiable", partial + note, [figure], basis)
    verdict, reason = compare(figure.value, check)
    return CheckResult(verdict, f"{figure.label}: {reason}{note}", [figure], basis)


def _partial(what: str, figures: list[Figure]) -> str | None:
    """Why a figure cannot decide a check: one of its inputs is incomplete."""
    gaps = list(
        dict.fromkeys(c.detail for f in figures for c in f.caveats if c.kind == "incomplete")
    )
    if not gaps:
        return None
    return f"{what} is partial, so it decides nothing ({'; '.join(gaps)})"


def _basis(ctx: _Context, figures: list[Figure]) -> str:
    """Data when any figure is computed from data; else a publication, unless one of them
    restates the claim (see `restates`)."""
    if any("figure_id" not in f.inputs for f in figures):
        return DATA
    bodies = (str(f.inputs.get("reporting_body", "")) for f in figures)
    return RESTATEMENT if any(restates(ctx.claim, body) for body in bodies) else PUBLICATION


def restates(claim: Claim, reporting_body: str) -> bool:
    """Whether a publication is the claimant's own word: its publisher or its carrier ("X via
    Y") is a claimant, or it is the report a claimant cites ("TIME citing DNAinfo")."""
    names = re.split(r"\s*(?:/|,|\(|\)|\bciting\b|\bvia\b)\s*", claim.said_by)
    body = reporting_body.lower()
    return any(re.search(rf"\b{re.escape(name.lower())}\b", body) for name in names if name.strip())


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
    basis = _basis(ctx, [a, b])
    note = f" ({check['note']})" if check.get("note") else ""  # the reading, named
    if by_count.value is None:
        why = "; ".join(
            dict.fromkeys(c.detail for f in (a, b) for c in f.caveats if c.kind == "no_source")
        )
        missing = f"missing a side of {by_count.label}" + (f": {why}" if why else "")
        return CheckResult("unverifiable", missing + note, figures, basis)
    partial = _partial(f"the ratio {by_count.value}", [a, b])
    if partial:
        return CheckResult("unverifiable", partial + note, figures, basis)
    verdict, reason = compare(by_count.value, check)
    rates = f"; by rates {figures[-1].value}" if "a_population" in check else ""
    return CheckResult(verdict, f"ratio {reason}{rates}{note}", figures, basis)


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
            "county's population: crime counts of that department cannot be set against the "
            "county total",
        )
    )
    return figure


def _year_is_max(ctx: _Context, check: dict[str, Any]) -> CheckResult:
    """ "The highest in N years": the claimed year against every year from `since` to the
    claimed year, never a later one (the claim could not speak of years still to come)."""
    year, since = int(check["year"]), int(check["since"])
    figure = helpers.yearly_counts(
        ctx.con, check["jurisdiction"], check["offense"], since, year, ctx.known_on
    )
    counts: dict[int, int] = figure.inputs["by_year"]
    if year not in counts:
        return CheckResult("unverifiable", f"no {check['offense']} data for {year}", [figure])
    n, compared = counts[year], f"years compared: {min(counts)}-{year}"
    higher = {y: c for y, c in counts.items() if y != year and c >= n}
    if higher:
        top = max(higher, key=lambda y: higher[y])
        return CheckResult(
            "contradicted", f"{n} in {year} but {higher[top]} in {top} ({compared})", [figure]
        )
    others = [c for y, c in counts.items() if y != year]
    most = (
        f"{n} in {year}, more than any other year in the data "
        f"(next: {max(others, default=0)}; {compared})"
    )
    gaps = [c.detail for c in figure.caveats if c.kind == "incomplete"]
    if gaps:
        return CheckResult(
            "unverifiable", f"{most}, but it decides nothing: {'; '.join(gaps)}", [figure]
        )
    return CheckResult("supported", most, [figure])


def _arrest_share(ctx: _Context, check: dict[str, Any]) -> CheckResult:
    share = helpers.arrest_share(ctx.con, check["jurisdiction"], check["year"], ctx.known_on)
    national = helpers.published(ctx.con, check["against"], ctx.known_on)
    if share.value is None or national.value is None:
        return CheckResult(
            "unverifiable", "arrest flags or the national rate not loaded", [share, national]
        )
    shares = f"{share.value}% of {check['year']} victims have an arrest flag"
    partial = _partial(shares, [share])
    if partial:
        return CheckResult("unverifiable", partial, [share, national])
    verdict = "supported" if share.value < national.value else "contradicted"
    return CheckResult(
        verdict, f"{shares} vs {national.value}% cleared nationally", [share, national]
    )


def _doj_named(ctx: _Context, check: dict[str, Any]) -> CheckResult:
    as_of = helpers._as_of(ctx.known_on)
    span = ctx.con.execute(
        "SELECT count(DISTINCT doc_id), min(release_date), max(release_date) "
        "FROM us_doj_sanctuary_mentions_as_of(?)",
        [as_of],
    ).fetchone() or (0, None, None)
    if not span[0]:
        known = f" as known on {ctx.known_on}" if ctx.known_on else ""
        return CheckResult(
            "unverifiable",
            f"no sanctuary-related DOJ press releases or speeches loaded{known} "
            "(us_doj_press_releases, us_doj_speeches)",
        )
    found, missing = {}, []
    for name in check["jurisdictions"]:
        row = ctx.con.execute(
            "SELECT m.title, m.release_date, m.list_lead, m.url "
            "FROM us_doj_sanctuary_mentions_as_of($as_of) m "
            "JOIN us_doj_jurisdictions j USING (jurisdiction_id) "
            "WHERE (j.name = $n OR list_contains(string_split(j.aliases, '; '), $n)) "
            "AND (len($leads) = 0 OR list_bool_or("
            "[contains(lower(coalesce(m.list_lead, m.context, '')), x) FOR x IN $leads])) "
            "ORDER BY m.release_date LIMIT 1",
            {"n": name, "leads": check.get("lead_contains", []), "as_of": as_of},
        ).fetchone()
        if row:
            found[name] = {"title": row[0], "date": str(row[1]), "list": row[2], "url": row[3]}
        else:
            missing.append(name)
    figure = Figure(
        "jurisdictions named in DOJ documents", len(found), {"found": found, "missing": missing}
    )
    if not found:
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
        "WHERE event_id IN (SELECT unnest(?)) AND (? IS NULL OR event_date <= ?) "
        "ORDER BY event_date",
        [check["event_ids"], *[_day(ctx.known_on)] * 2],
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
        known = f" by {ctx.known_on}" if ctx.known_on else ""
        return CheckResult("unverifiable", f"policy events not recorded{known}", [figure])
    return CheckResult("supported", "; ".join(f"{r[1]} ({r[2]}): {r[3]}" for r in rows), [figure])


def _day(known_on: helpers.KnownOn) -> date | None:
    """The last day `known_on` covers: policy events are dated, not observed, so an event is
    known on a day only once it has happened."""
    return known_on.date() if isinstance(known_on, datetime) else known_on


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
    known_on: helpers.KnownOn = None,
) -> list[Evaluation]:
    """Evaluate claims (default: the registered ones); writes nothing (see `record`)."""
    return [evaluate(con, claim, as_of, known_on) for claim in claims or load_claims()]


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
