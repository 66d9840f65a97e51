"""Populations, rates and ratios: which population a count is set against, and saying so.

A rate is only as good as its denominator: an agency's own served population (FBI CDE), a
Census estimate for the area, or the area an agency serves only part of (a
jurisdiction-mismatch caveat). Every figure here names which one it used.
"""

from __future__ import annotations

from datetime import date, datetime

import duckdb

from sanctuarywatch.query.counts import count
from sanctuarywatch.query.figures import Caveat, Figure, KnownOn, as_of, evidence, moment


def population(
    con: duckdb.DuckDBPyConnection,
    jurisdiction: str,
    year: int,
    vintage: int | None = None,
    known_on: KnownOn = None,
) -> Figure:
    """Census estimate for a place or county (newest vintage unless named), or the population
    an agency serves (FBI CDE), saying which."""
    sql = (
        "SELECT kind, population, vintage, name, raw_sha256 FROM population_of(?, ?, ?) "
        "WHERE ? IS NULL OR vintage = ? ORDER BY vintage DESC NULLS LAST LIMIT 1"
    )
    params = [jurisdiction, year, as_of(known_on), vintage, vintage]
    row = con.execute(sql, params).fetchone()
    inputs = {"jurisdiction": jurisdiction, "year": year, "vintage": vintage}
    if row is None:
        return Figure(
            f"population of {jurisdiction}, {year}",
            None,
            inputs,
            [Caveat("no_source", "no Census estimate or CDE population for it loaded")],
        )
    kind, value, used_vintage, name, sha = row
    figure = Figure(
        f"population of {name}, {year}",
        value,
        inputs | {"kind": kind, "vintage": used_vintage, "name": name},
    )
    figure.evidence.append(evidence(con, sql, params, [sha]))
    return figure


def rate(events: Figure, people: Figure) -> Figure:
    """Events per 100,000 people, stating which population was used."""
    value = None
    if events.value is not None and people.value:
        value = round(100_000 * events.value / people.value, 2)
    return Figure(
        f"{events.label} per 100,000 ({people.label})",
        value,
        {
            "count": events.value,
            "population": people.value,
            "population_kind": people.inputs.get("kind"),
            "vintage": people.inputs.get("vintage"),
        },
        events.caveats + people.caveats,
        events.evidence + people.evidence,
    )


def ratio(a: Figure, b: Figure) -> Figure:
    """a / b, carrying both sides' caveats and evidence."""
    value = round(a.value / b.value, 2) if a.value is not None and b.value else None
    return Figure(
        f"{a.label} / {b.label}",
        value,
        {"a": a.value, "b": b.value},
        a.caveats + b.caveats,
        a.evidence + b.evidence,
    )


def population_for(
    con: duckdb.DuckDBPyConnection, jurisdiction: str, year: int, known_on: KnownOn = None
) -> Figure:
    """The population to set against a jurisdiction's counts, saying which one it is.

    An agency's own served population (FBI CDE) when loaded; else the area it serves, with a
    jurisdiction-mismatch caveat when it serves only part of that area (Miami-Dade Police
    Department: about 1.2 million of the county's 2.7 million).
    """
    own = population(con, jurisdiction, year, known_on=known_on)
    if own.value is not None or not jurisdiction.startswith("agency:"):
        return own
    row = con.execute(
        "SELECT object_id, relation FROM jurisdiction_relations WHERE subject_id = ? "
        "AND relation IN ('serves', 'serves_part') ORDER BY relation LIMIT 1",
        [jurisdiction],
    ).fetchone()
    if row is None:
        return own
    area = population(con, row[0], year, known_on=known_on)
    area.caveats.append(
        Caveat(
            "jurisdiction_mismatch" if row[1] == "serves_part" else "definition",
            f"{jurisdiction} {'serves only part of' if row[1] == 'serves_part' else 'serves'} "
            f"{row[0]}: "
            f"its counts are set against the population of {area.inputs.get('name', row[0])}",
        )
    )
    return area


def compare(
    con: duckdb.DuckDBPyConnection,
    offense: str,
    a: str,
    b: str,
    start: date | datetime,
    end: date | datetime,
    known_on: KnownOn = None,
) -> dict[str, Figure]:
    """Two jurisdictions over the same window: counts, populations, rates and both ratios."""
    year = moment(start).year
    count_a, count_b = (count(con, j, offense, start, end, known_on) for j in (a, b))
    pop_a, pop_b = (population_for(con, j, year, known_on) for j in (a, b))
    rate_a, rate_b = rate(count_a, pop_a), rate(count_b, pop_b)
    return {
        "count_a": count_a,
        "count_b": count_b,
        "population_a": pop_a,
        "population_b": pop_b,
        "rate_a": rate_a,
        "rate_b": rate_b,
        "ratio_counts": ratio(count_a, count_b),
        "ratio_rates": ratio(rate_a, rate_b),
    }
