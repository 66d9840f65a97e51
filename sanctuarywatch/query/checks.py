"""The kinds of check a claim can hold, each computed from the warehouse into a CheckResult.

A check names its kind (`CHECKS`): a count or published figure against the stated one, a
ratio of two figures (and of their rates), population parity, "the highest in N years", the
arrest-flag share, jurisdictions named in DOJ documents, dated policy events, or nothing in
the warehouse can test it. `evaluate` runs a claim's checks and combines them
(`verdicts.combine`); it computes and writes nothing (the ledger of record is
`query.ledger`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import duckdb

from sanctuarywatch.query import helpers
from sanctuarywatch.query.claimfile import Claim, load_claims
from sanctuarywatch.query.figures import Caveat, Figure, KnownOn
from sanctuarywatch.query.readcache import one_pass
from sanctuarywatch.query.verdicts import (
    DATA,
    PUBLICATION,
    RESTATEMENT,
    CheckResult,
    Evaluation,
    combine,
    compare,
    plain_number,
    restates,
    why_partial,
)


def evaluate(
    con: duckdb.DuckDBPyConnection,
    claim: Claim,
    as_of: date | None = None,
    known_on: KnownOn = None,
) -> Evaluation:
    """Run every check of a claim; `as_of` moves year-to-date checks to that day's year."""
    context = Context(con, claim, as_of, known_on)
    results = [CHECKS[check["kind"]](context, check) for check in claim.checks]
    verdict, reason = combine(results)
    return Evaluation(claim, verdict, reason, results, as_of or claim.said_on, known_on)


@dataclass
class Context:
    """What every check of one evaluation shares: the warehouse, the claim, the day
    year-to-date checks move to (`as_of`) and the observation cut (`known_on`)."""

    con: duckdb.DuckDBPyConnection
    claim: Claim
    as_of: date | None
    known_on: KnownOn

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


def _count_figure(ctx: Context, check: dict[str, Any]) -> Figure:
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


def _figure(ctx: Context, spec: dict[str, Any]) -> Figure:
    if spec["kind"] == "published":
        return helpers.published(ctx.con, spec["figure_id"], ctx.known_on)
    return _count_figure(ctx, spec)


def _numeric(ctx: Context, check: dict[str, Any]) -> CheckResult:
    figure = _figure(ctx, check)
    basis = basis_of(ctx, [figure])
    if figure.value is None:
        reasons = "; ".join(
            dict.fromkeys(c.detail for c in figure.caveats if c.kind == "no_source")
        )
        return CheckResult(
            "unverifiable", reasons or f"no value for {figure.label}", [figure], basis
        )
    note = f" ({check['note']})" if check.get("note") else ""
    partial = why_partial(f"{figure.label}: {plain_number(figure.value)}", [figure])
    if partial:
        return CheckResult("unverifiable", partial + note, [figure], basis)
    verdict, reason = compare(figure.value, check)
    return CheckResult(verdict, f"{figure.label}: {reason}{note}", [figure], basis)


def basis_of(ctx: Context, figures: list[Figure]) -> str:
    """Data when any figure is computed from data; else a publication, unless one of them
    restates the claim (see `restates`)."""
    if any("figure_id" not in f.inputs for f in figures):
        return DATA
    bodies = (str(f.inputs.get("reporting_body", "")) for f in figures)
    return RESTATEMENT if any(restates(ctx.claim, body) for body in bodies) else PUBLICATION


def _ratio(ctx: Context, check: dict[str, Any]) -> CheckResult:
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
    basis = basis_of(ctx, [a, b])
    note = f" ({check['note']})" if check.get("note") else ""  # the reading, named
    if by_count.value is None:
        why = "; ".join(
            dict.fromkeys(c.detail for f in (a, b) for c in f.caveats if c.kind == "no_source")
        )
        missing = f"missing a side of {by_count.label}" + (f": {why}" if why else "")
        return CheckResult("unverifiable", missing + note, figures, basis)
    partial = why_partial(f"the ratio {by_count.value}", [a, b])
    if partial:
        return CheckResult("unverifiable", partial + note, figures, basis)
    verdict, reason = compare(by_count.value, check)
    rates = f"; by rates {figures[-1].value}" if "a_population" in check else ""
    return CheckResult(verdict, f"ratio {reason}{rates}{note}", figures, basis)


def _population_parity(ctx: Context, check: dict[str, Any]) -> CheckResult:
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


def _served(ctx: Context, agency: str | None, year: int) -> Figure | None:
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


def _year_is_max(ctx: Context, check: dict[str, Any]) -> CheckResult:
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


def _arrest_share(ctx: Context, check: dict[str, Any]) -> CheckResult:
    share = helpers.arrest_share(ctx.con, check["jurisdiction"], check["year"], ctx.known_on)
    national = helpers.published(ctx.con, check["against"], ctx.known_on)
    if share.value is None or national.value is None:
        return CheckResult(
            "unverifiable", "arrest flags or the national rate not loaded", [share, national]
        )
    shares = f"{share.value}% of {check['year']} victims have an arrest flag"
    partial = why_partial(shares, [share])
    if partial:
        return CheckResult("unverifiable", partial, [share, national])
    verdict = "supported" if share.value < national.value else "contradicted"
    return CheckResult(
        verdict, f"{shares} vs {national.value}% cleared nationally", [share, national]
    )


def _doj_named(ctx: Context, check: dict[str, Any]) -> CheckResult:
    """Which of the named jurisdictions sanctuary-related DOJ documents name. A name is read
    as the DOJ tagger reads it (the registry's doj aliases), so both mean one jurisdiction."""
    cut = helpers.as_of(ctx.known_on)
    span = ctx.con.execute(
        "SELECT count(DISTINCT doc_id), min(release_date), max(release_date) "
        "FROM us_doj_sanctuary_mentions_as_of(?)",
        [cut],
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
            "WHERE m.jurisdiction_id IN "
            "(SELECT jurisdiction_id FROM jurisdiction_aliases WHERE doj AND alias = $n) "
            "AND (len($leads) = 0 OR list_bool_or("
            "[contains(lower(coalesce(m.list_lead, m.context, '')), x) FOR x IN $leads])) "
            "ORDER BY m.release_date LIMIT 1",
            {"n": name, "leads": check.get("lead_contains", []), "as_of": cut},
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


def _policy_event(ctx: Context, check: dict[str, Any]) -> CheckResult:
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


def _day(known_on: KnownOn) -> date | None:
    """The last day `known_on` covers: policy events are dated, not observed, so an event is
    known on a day only once it has happened."""
    return known_on.date() if isinstance(known_on, datetime) else known_on


def _unverifiable(ctx: Context, check: dict[str, Any]) -> CheckResult:
    return CheckResult(
        "unverifiable", f"no source in the warehouse can test it; would need {check['would_need']}"
    )


CHECKS: dict[str, Callable[[Context, dict[str, Any]], CheckResult]] = {
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
    known_on: KnownOn = None,
) -> list[Evaluation]:
    """Evaluate claims (default: the registered ones); writes nothing (see `record`), so one
    pass reads through a cache (`readcache`): a repeated question is asked of DuckDB once."""
    reads = one_pass(con)
    return [evaluate(reads, claim, as_of, known_on) for claim in claims or load_claims()]
