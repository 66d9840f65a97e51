"""Query helpers: counts, year-to-date, rates, ratios and clearance, each with its inputs,
caveats and evidence.

The arithmetic lives in SQL macros (`warehouse/views/`) so the duckdb CLI and
Python give the same answer; this module picks which macro can answer (incident-level data
first, then monthly data, else nothing), states what it assumed, and collects the evidence:
the SQL it ran and the raw responses (URL, fetch time) behind every number.

Every helper takes `known_on`: answer with the data as it was observed on that date.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from html import escape
from typing import Any

import duckdb

from sanctuarywatch import sources
from sanctuarywatch.load import coverage

INFINITY = "infinity"
EARLY_YEAR_DAYS = 60


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


def _as_of(known_on: KnownOn) -> str:
    """The observation cut: every observation so far; through the end of a day `known_on`
    (UTC); or up to and including an instant (naive instants are UTC)."""
    if known_on is None:
        return INFINITY
    if isinstance(known_on, datetime):
        instant = known_on if known_on.tzinfo else known_on.replace(tzinfo=UTC)
        return instant.astimezone(UTC).isoformat()
    return f"{known_on + timedelta(days=1)} 00:00:00+00"


def _evidence(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any], shas: list[str] | None
) -> dict[str, Any]:
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


def _has_rows(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    row = con.execute(f"SELECT count(*) > 0 FROM {table}").fetchone()
    return bool(row and row[0])


def _moment(value: date | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.combine(value, time())


def count(
    con: duckdb.DuckDBPyConnection,
    jurisdiction: str,
    offense: str,
    start: date | datetime,
    end: date | datetime,
    known_on: KnownOn = None,
) -> Figure:
    """Events in [start, end) local time: incident-level data where it exists, else monthly."""
    start, end = _moment(start), _moment(end)
    if not jurisdiction.startswith("agency:"):
        jurisdiction = _reporting_agency(con, jurisdiction)
    inputs = {
        "jurisdiction": jurisdiction,
        "offense": offense,
        "start": start,
        "end": end,
        "known_on": known_on,
    }
    label = f"{offense} in {jurisdiction}, {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}"
    sql = "SELECT n, raw_sha256s FROM incident_count(?, ?, ?, ?, ?)"
    params = [jurisdiction, offense, start, end, _as_of(known_on)]
    n, shas = con.execute(sql, params).fetchone() or (0, None)
    if n:
        figure = Figure(label, n, inputs | {"granularity": "incident"})
        figure.evidence.append(_evidence(con, sql, params, shas))
        figure.caveats += _completeness(con, _incident_source(offense), start, end, known_on)
        return figure
    return _monthly_count(con, label, inputs, jurisdiction, offense, start, end, known_on)


def _reporting_agency(con: duckdb.DuckDBPyConnection, area: str) -> str:
    """The police agency that serves the whole of a place (Chicago: CPD), else the area."""
    row = con.execute(
        "SELECT subject_id FROM jurisdiction_relations WHERE object_id = ? AND relation = 'serves' "
        "AND subject_id LIKE 'agency:%' LIMIT 1",
        [area],
    ).fetchone()
    return str(row[0]) if row else area


def _incident_source(offense: str) -> str:
    return "il_chicago_violence_victims" if offense.startswith("shooting") else "il_chicago_crimes"


def _monthly_count(
    con: duckdb.DuckDBPyConnection,
    label: str,
    inputs: dict[str, Any],
    jurisdiction: str,
    offense: str,
    start: datetime,
    end: datetime,
    known_on: KnownOn,
) -> Figure:
    """Whole months covering [start, end), summed only over the periods the agency reported
    (warehouse/044): a month folded into an annual or half-year total is never read as 0."""
    first = start.date().replace(day=1)
    last = end.date() if end.day == 1 and end.time() == time() else _next_month(end.date())
    sql = (
        "SELECT n, months, months_with_data, raw_sha256s, source, split_periods, split_months "
        "FROM monthly_count(?, ?, ?, ?, ?)"
    )
    params = [jurisdiction, offense, first, last, _as_of(known_on)]
    row = con.execute(sql, params).fetchone()
    if row is None:
        return Figure(
            label,
            None,
            inputs,
            [
                Caveat(
                    "no_source",
                    f"no incident-level or monthly data for {offense} in {jurisdiction} "
                    "in the warehouse (Chicago portal for Chicago; FBI CDE monthly counts or "
                    "the FBI UCR files for agencies)",
                )
            ],
        )
    n, months, with_data, shas, source, split, split_months = row
    figure = Figure(
        label,
        n,
        inputs | {"granularity": "month", "months": [str(first), str(last)], "source": source},
    )
    figure.evidence.append(_evidence(con, sql, params, shas))
    if (first, last) != (start.date(), end.date()):
        figure.caveats.append(
            Caveat(
                "approximated",
                f"monthly data: counted whole months {first} to {last} (exclusive) "
                f"for the window {start:%Y-%m-%d} to {end:%Y-%m-%d}",
            )
        )
    named = _name(con, jurisdiction)
    figure.caveats += [_split_caveat(p, first, last, source, named) for p in split or []]
    if with_data + split_months < months:
        missing = months - with_data - split_months
        figure.caveats.append(Caveat("incomplete", f"{missing} of {months} months have no data"))
    if offense in FBI_MURDER and source in FBI_MURDER[offense]:
        figure.caveats.append(Caveat("definition", FBI_MURDER[offense][source]))
    return figure


_FBI = "FBI definition: murder and non-negligent manslaughter, offenses known to police"
FBI_MURDER = {
    offense: {
        "us_ucr_agency_monthly": f"us_ucr_agency_monthly (Return A, Kaplan's files): {_FBI}",
        "us_fbi_cde_agency_monthly": f"us_fbi_cde_agency_monthly (CDE HOM): {_FBI}",
    }
    for offense in ("murder", "homicide")
}
PERIOD_WORDS = {"annual": "one annual total", "half_yearly": "a half-year total"}


def _name(con: duckdb.DuckDBPyConnection, jurisdiction: str) -> str | None:
    row = con.execute(
        "SELECT name FROM jurisdictions WHERE jurisdiction_id = ?", [jurisdiction]
    ).fetchone()
    return str(row[0]) if row else None


def _split_caveat(
    period: dict[str, Any], first: date, last: date, source: str, name: str | None
) -> Caveat:
    """Why no count exists for the window: the agency reported a period that crosses its edge
    (MDPD 2017: one annual total), so the months inside are not zero, just not known."""
    start, end = period["period_start"], period["period_end"]
    span = (
        str(start.year)
        if period["pattern"] == "annual"
        else f"{start:%b}-{end - timedelta(days=1):%b %Y}"
    )
    name = name or period["agency_name"] or period["ori"]
    return Caveat(
        "no_source",
        f"{name} ({period['ori']}) reported {span} as "
        f"{PERIOD_WORDS.get(period['pattern'], 'one total')} ({source}): no count for "
        f"{first} to {last} (exclusive) can be taken from it; its months are not zero, "
        "they are inside that total",
    )


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _completeness(
    con: duckdb.DuckDBPyConnection, source: str, start: datetime, end: datetime, known_on: KnownOn
) -> list[Caveat]:
    """`incomplete` caveats for a count over [start, end) from an incident-level source: the
    parts of the window no run has covered (coverage.py), and a window that runs past the
    data's own newest event by more than the source's usual quiet spell."""
    as_of = _as_of(known_on)
    found = []
    if not coverage.has_any(con, source):
        found.append(
            Caveat("incomplete", f"{source} has no recorded coverage (loaded before it was kept)")
        )
    else:
        spans = coverage.covered(con, source, as_of)
        missing = coverage.gaps(spans, start, end)
        if missing:
            found.append(
                Caveat(
                    "incomplete",
                    f"{source} was never collected for {coverage.spans(missing)} "
                    f"(collected: {coverage.spans(coverage.within(spans, start, end))}): "
                    "the count is partial",
                )
            )
    row = con.execute(f"SELECT max(occurred_local) FROM {source}_as_of(?)", [as_of]).fetchone()
    stalled = coverage.newest_event_gap(
        row[0] if row else None, end, sources.get(source).QUIET_SPELL
    )
    if stalled:
        found.append(Caveat("incomplete", f"{source}: {stalled}"))
    return found


def yearly_counts(
    con: duckdb.DuckDBPyConnection,
    jurisdiction: str,
    offense: str,
    first_year: int,
    last_year: int,
    known_on: KnownOn = None,
) -> Figure:
    """Events per calendar year, first_year to last_year, from incident-level data; the
    value is the last year's count, `inputs["by_year"]` every year's, and years the source
    never covered are named in an `incomplete` caveat (a year with no rows is not zero)."""
    sql = (
        "SELECT year, count(*) FROM incident_events(?) WHERE jurisdiction_id = ? AND offense = ? "
        "AND year BETWEEN ? AND ? GROUP BY year ORDER BY year"
    )
    params = [_as_of(known_on), jurisdiction, offense, first_year, last_year]
    counts = {int(y): int(n) for y, n in con.execute(sql, params).fetchall()}
    figure = Figure(
        f"{offense} in {jurisdiction} per year, {first_year}-{last_year}",
        counts.get(last_year),
        {"by_year": counts, "first_year": first_year, "last_year": last_year},
    )
    figure.evidence.append({"sql": sql, "params": [str(p) for p in params]})
    start, end = datetime(first_year, 1, 1), datetime(last_year + 1, 1, 1)
    figure.caveats += _completeness(con, _incident_source(offense), start, end, known_on)
    return figure


def ytd(
    con: duckdb.DuckDBPyConnection,
    jurisdiction: str,
    offense: str,
    cutoff: date,
    known_on: KnownOn = None,
) -> dict[str, Figure]:
    """Jan 1 through `cutoff` (inclusive) this year and last year at the same cut-off day,
    the change between them, and the 12 months ending at the cut-off beside them."""
    end = cutoff + timedelta(days=1)
    last_cutoff = _same_day_last_year(cutoff)
    this = count(con, jurisdiction, offense, date(cutoff.year, 1, 1), end, known_on)
    last = count(
        con,
        jurisdiction,
        offense,
        date(last_cutoff.year, 1, 1),
        last_cutoff + timedelta(days=1),
        known_on,
    )
    rolling = count(con, jurisdiction, offense, _same_day_last_year(end), end, known_on)
    change = Figure(
        f"change in {offense}, Jan 1 - {cutoff:%b %d}, {cutoff.year} vs {last_cutoff.year}",
        _percent_change(this.value, last.value),
        {"cutoff": cutoff, "unit": "percent"},
        this.caveats + last.caveats,
    )
    if (cutoff - date(cutoff.year, 1, 1)).days < EARLY_YEAR_DAYS:
        change.caveats.append(
            Caveat(
                "early_year",
                f"only {(cutoff - date(cutoff.year, 1, 1)).days + 1} "
                "days into the year: small counts swing widely",
            )
        )
    return {"this_year": this, "last_year": last, "change": change, "rolling_12_months": rolling}


def _same_day_last_year(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # Feb 29
        return day.replace(year=day.year - 1, day=28)


def _percent_change(new: float | None, old: float | None) -> float | None:
    if new is None or not old:
        return None
    return round(100.0 * (new - old) / old, 1)


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
    params = [jurisdiction, year, _as_of(known_on), vintage, vintage]
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
    figure.evidence.append(_evidence(con, sql, params, [sha]))
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


def arrest_share(
    con: duckdb.DuckDBPyConnection, jurisdiction: str, year: int, known_on: KnownOn = None
) -> Figure:
    """Share of a year's homicide victims whose case shows an arrest in the data."""
    sql = "SELECT victims, with_arrest, percent FROM arrest_flag_share(?, ?, ?)"
    victims, arrested, percent = con.execute(
        sql, [jurisdiction, year, _as_of(known_on)]
    ).fetchone() or (0, 0, None)
    figure = Figure(
        f"homicide victims of {year} with an arrest flag",
        percent,
        {"victims": victims, "with_arrest": arrested, "unit": "percent"},
    )
    figure.caveats.append(
        Caveat(
            "definition",
            "the portal's arrest flag is the arrest status when the data was fetched, "
            "not the share of cases cleared in the same year",
        )
    )
    figure.evidence.append({"sql": sql, "params": [jurisdiction, year, _as_of(known_on)]})
    whole_year = datetime(year, 1, 1), datetime(year + 1, 1, 1)
    figure.caveats += _completeness(con, _incident_source("homicide"), *whole_year, known_on)
    return figure


def published(con: duckdb.DuckDBPyConnection, figure_id: str, known_on: KnownOn = None) -> Figure:
    """A figure that exists only in a publication, with who published it and where."""
    sql = (
        "SELECT value, unit, reporting_body, jurisdiction, publication_url, published_on, note, "
        "raw_sha256 FROM published_figures_as_of(?) WHERE figure_id = ?"
    )
    row = con.execute(sql, [_as_of(known_on), figure_id]).fetchone()
    if row is None:
        return Figure(
            figure_id,
            None,
            {"figure_id": figure_id},
            [Caveat("no_source", f"published figure {figure_id} is not loaded")],
        )
    value, unit, body, jurisdiction, url, on, note, sha = row
    figure = Figure(
        f"{figure_id} ({body})",
        value,
        {
            "figure_id": figure_id,
            "reporting_body": body,
            "unit": unit,
            "jurisdiction": jurisdiction,
            "published_on": on,
            "publication_url": url,
        },
    )
    figure.caveats.append(
        Caveat(
            "publication",
            f"published by {body} on {on}, not computed from data" + (f"; {note}" if note else ""),
        )
    )
    evidence = _evidence(con, sql, [figure_id], [sha])
    evidence["publication"] = {"url": url, "published_on": str(on), "by": body}
    figure.evidence.append(evidence)
    return figure


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
    year = _moment(start).year
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
