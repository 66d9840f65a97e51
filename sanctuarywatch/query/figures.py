"""What every query answers with: a Figure (one number with its inputs, caveats and
evidence), its Caveats, and the observation cut a `known_on` date or instant stands for.

Why one module: counts, rates, publications, the claims and the chart all speak in these
types and cut the versioned tables the same way (`as_of`), so none of them keeps a copy.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from html import escape
from typing import Any

import duckdb

INFINITY = "infinity"


@dataclass(frozen=True)
class Caveat:
    """A structured reason to read a figure with care."""

    # jurisdiction_mismatch | definition | approximated | incomplete | publication | no_source
    # | early_year
    kind: str
    detail: str


@dataclass
class Figure:
    """One number with everything needed to check it."""

    label: str
    value: float | None
    inputs: dict[str, Any] = field(default_factory=dict)
    caveats: list[Caveat] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        plain: dict[str, Any] = json.loads(json.dumps(asdict(self), default=str))
        return plain

    def _repr_html_(self) -> str:
        """A notebook shows the value with its label and caveats, not a dataclass dump."""
        return f"<table>{self.html_row()}</table>"

    def html_row(self) -> str:
        """One table row: label, value, caveats (kinds in bold)."""
        value = "no value" if self.value is None else f"{self.value:,}"
        caveats = "<br>".join(f"<b>{escape(c.kind)}</b> {escape(c.detail)}" for c in self.caveats)
        return (
            f"<tr><td>{escape(self.label)}</td><td style='text-align:right'>{value}</td>"
            f"<td>{caveats}</td></tr>"
        )


KnownOn = date | datetime | None


def as_of(known_on: KnownOn) -> str:
    """The observation cut: every observation so far; through the end of a day `known_on`
    (UTC); or up to and including an instant (naive instants are UTC)."""
    if known_on is None:
        return INFINITY
    if isinstance(known_on, datetime):
        instant = known_on if known_on.tzinfo else known_on.replace(tzinfo=UTC)
        return instant.astimezone(UTC).isoformat()
    return f"{known_on + timedelta(days=1)} 00:00:00+00"


def evidence(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any], shas: list[str] | None
) -> dict[str, Any]:
    """The SQL behind a figure and the raw responses (URL, fetch time) its rows came from."""
    rows = con.execute(
        "SELECT DISTINCT source, url, fetched_at FROM raw_responses "
        "WHERE sha256 IN (SELECT unnest(?)) ORDER BY fetched_at LIMIT 50",
        [shas or []],
    ).fetchall()
    return {
        "sql": sql,
        "params": [str(p) for p in params],
        "responses": [{"source": s, "url": u, "fetched_at": str(t)} for s, u, t in rows],
    }


def moment(value: date | datetime) -> datetime:
    """A date as its midnight: windows are [start, end) in local time."""
    return value if isinstance(value, datetime) else datetime.combine(value, time())


def same_day_last_year(day: date) -> date:
    """The same calendar day a year before (Feb 29 -> Feb 28): year-to-date cut-offs."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # Feb 29
        return day.replace(year=day.year - 1, day=28)
