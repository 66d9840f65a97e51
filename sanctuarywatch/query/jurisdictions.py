"""Which jurisdiction a name means: places, counties, states and police agencies.

Why this exists: in the 2017 coverage "Miami-Dade" meant three different things — the county
(about 2.7 million people), the Miami-Dade Police Department (about 1.2 million served; the
Miami-Dade Sheriff's Office since 2025) and, loosely, the City of Miami. A comparison that
silently picks one is how the population-parity claim went wrong, so `resolve` returns every
candidate and `pick` refuses to guess: the caller names the kind, or gets the choices.

The model lives in the warehouse. One registry, one id per jurisdiction for these queries,
the helpers, the claims and the DOJ tagger (warehouse/views/05_jurisdictions.sql, which
`sanctuarywatch.registry` reads for the tagger):

    jurisdictions           id (kind:code), kind, name, state, Census geo_id, FBI ORI, and
                            the name DOJ documents use
    jurisdiction_aliases    names in use, with the dates they were in use (and which of them
                            the DOJ tagger matches)

and tables with a source per row (warehouse/023_jurisdictions.sql):

    jurisdiction_relations  agency serves area, place within county, population served
    policy_events           dated policy events with sources, for before/after windows
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from sanctuarywatch.errors import ConfigError

KINDS = ("state", "county", "place", "agency")


@dataclass(frozen=True)
class Jurisdiction:
    """One candidate a name resolves to, with why it matched."""

    jurisdiction_id: str
    kind: str
    name: str
    geo_id: str | None
    ori: str | None
    note: str | None  # the alias's note: which reading of the name this is


class AmbiguousName(ConfigError):
    """A name matches more than one jurisdiction (or none); the message lists the choices."""

    def __init__(self, name: str, choices: list[Jurisdiction]) -> None:
        self.name, self.choices = name, choices
        listed = "; ".join(f"{c.jurisdiction_id} ({c.name})" for c in choices) or "none"
        super().__init__(f"jurisdiction {name!r}", f"pick one with kind=...: {listed}")


def resolve(
    con: duckdb.DuckDBPyConnection, name: str, kind: str | None = None, on: date | None = None
) -> list[Jurisdiction]:
    """Every jurisdiction `name` can mean (optionally of one kind, or in use on a date)."""
    if kind is not None and kind not in KINDS:
        raise ConfigError("kind", f"expected one of {', '.join(KINDS)}, not {kind!r}")
    rows = con.execute(
        """
        WITH named AS (
            SELECT jurisdiction_id, note FROM jurisdiction_aliases
            WHERE lower(alias) = lower(trim($name))
              AND ($on IS NULL OR ((valid_from IS NULL OR valid_from <= $on)
                                   AND (valid_to IS NULL OR valid_to > $on)))
            UNION ALL  -- the full name, unless an alias of that spelling dates it
            SELECT jurisdiction_id, NULL FROM jurisdictions j
            WHERE lower(name) = lower(trim($name)) AND NOT EXISTS (
                SELECT 1 FROM jurisdiction_aliases a WHERE a.jurisdiction_id = j.jurisdiction_id
                AND lower(a.alias) = lower(trim($name)))
        )
        SELECT j.jurisdiction_id, j.kind, j.name, j.geo_id, j.ori, n.note
        FROM named n JOIN jurisdictions j USING (jurisdiction_id)
        WHERE $kind IS NULL OR j.kind = $kind
        ORDER BY j.kind, j.jurisdiction_id
        """,
        {"name": name, "kind": kind, "on": on},
    ).fetchall()
    return _distinct([Jurisdiction(*row) for row in rows])


def _distinct(found: list[Jurisdiction]) -> list[Jurisdiction]:
    """One candidate per jurisdiction (a name can match both an alias and the full name)."""
    seen: dict[str, Jurisdiction] = {}
    for candidate in found:
        if candidate.jurisdiction_id not in seen or candidate.note:
            seen[candidate.jurisdiction_id] = candidate
    return list(seen.values())


def pick(
    con: duckdb.DuckDBPyConnection, name: str, kind: str | None = None, on: date | None = None
) -> Jurisdiction:
    """The one jurisdiction `name` means, or AmbiguousName listing the choices."""
    found = resolve(con, name, kind, on)
    if len(found) != 1:
        raise AmbiguousName(name, found)
    return found[0]


def served_by(con: duckdb.DuckDBPyConnection, jurisdiction_id: str) -> list[tuple[str, str]]:
    """(agency id, relation) for the agencies that police an area."""
    rows = con.execute(
        "SELECT DISTINCT subject_id, relation FROM jurisdiction_relations "
        "WHERE object_id = ? AND relation IN ('serves', 'serves_part') ORDER BY 1",
        [jurisdiction_id],
    ).fetchall()
    return [(row[0], row[1]) for row in rows]


def population_served(
    con: duckdb.DuckDBPyConnection, agency_id: str, year: int
) -> tuple[int, str] | None:
    """(population, where from) an agency served in a year: the CDE's exact figure when
    loaded, else a seeded (possibly rounded) one; None when neither exists."""
    row = con.execute(
        """
        SELECT population, 'FBI CDE (' || host || ')', 1 AS rank
        FROM agency_population_by_year p JOIN jurisdictions j ON j.ori = p.ori
        WHERE j.jurisdiction_id = $id AND p.year = $year
        UNION ALL
        SELECT population_served, source || if(approximate, ' (approximate)', ''), 2
        FROM jurisdiction_relations
        WHERE subject_id = $id AND year = $year AND population_served IS NOT NULL
        ORDER BY rank LIMIT 1
        """,
        {"id": agency_id, "year": year},
    ).fetchone()
    return (int(row[0]), str(row[1])) if row else None
