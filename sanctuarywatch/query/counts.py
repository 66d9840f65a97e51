"""Counts of events: over a window, per year, year to date, and the arrest-flag share, each
with the caveats that say how far to trust it.

The arithmetic lives in SQL macros (`warehouse/views/`) so the duckdb CLI and Python give
the same answer; this module picks which macro can answer (incident-level data first, then
monthly data, else nothing), states what it assumed (approximated windows, periods folded
into annual totals, definitions), and names what is missing (`incomplete`: windows no run
covered, a source gone quiet).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import duckdb

from sanctuarywatch import sources
from sanctuarywatch.load import coverage
from sanctuarywatch.query.figures import (
    Caveat,
    Figure,
    KnownOn,
    as_of,
    evidence,
    moment,
    same_day_last_year,
)

EARLY_YEAR_DAYS = 60


def count(
    con: duckdb.DuckDBPyConnection,
    jurisdiction: str,
    offense: str,
    start: date | datetime,
    end: date | datetime,
    known_on: KnownOn = None,
) -> Figure:
    """Events in [start, end) local time: incident-level data where it exists, else monthly."""
    start, end = moment(start), moment(end)
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
    params = [jurisdiction, offense, start, end, as_of(known_on)]
    n, shas = con.execute(sql, params).fetchone() or (0, None)
    if n:
        figure = Figure(label, n, inputs | {"granularity": "incident"})
        figure.evidence.append(evidence(con, sql, params, shas))
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
    params = [jurisdiction, offense, first, last, as_of(known_on)]
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
    figure.evidence.append(evidence(con, sql, params, shas))
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
    cut = as_of(known_on)
    found = []
    if not coverage.has_any(con, source):
        found.append(
            Caveat("incomplete", f"{source} has no recorded coverage (loaded before it was kept)")
        )
    else:
        spans = coverage.covered(con, source, cut)
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
    row = con.execute(f"SELECT max(occurred_local) FROM {source}_as_of(?)", [cut]).fetchone()
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
    params = [as_of(known_on), jurisdiction, offense, first_year, last_year]
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
    last_cutoff = same_day_last_year(cutoff)
    this = count(con, jurisdiction, offense, date(cutoff.year, 1, 1), end, known_on)
    last = count(
        con,
        jurisdiction,
        offense,
        date(last_cutoff.year, 1, 1),
        last_cutoff + timedelta(days=1),
        known_on,
    )
    rolling = count(con, jurisdiction, offense, same_day_last_year(end), end, known_on)
    change = Figure(
        f"change in {offense}, Jan 1 - {cutoff:%b %d}, {cutoff.year} vs {last_cutoff.year}",
        percent_change(this.value, last.value),
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


def percent_change(new: float | None, old: float | None) -> float | None:
    """The change from old to new in percent, one decimal; None without a base."""
    if new is None or not old:
        return None
    return round(100.0 * (new - old) / old, 1)


def arrest_share(
    con: duckdb.DuckDBPyConnection, jurisdiction: str, year: int, known_on: KnownOn = None
) -> Figure:
    """Share of a year's homicide victims whose case shows an arrest in the data."""
    sql = "SELECT victims, with_arrest, percent FROM arrest_flag_share(?, ?, ?)"
    victims, arrested, percent = con.execute(
        sql, [jurisdiction, year, as_of(known_on)]
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
    figure.evidence.append({"sql": sql, "params": [jurisdiction, year, as_of(known_on)]})
    whole_year = datetime(year, 1, 1), datetime(year + 1, 1, 1)
    figure.caveats += _completeness(con, _incident_source("homicide"), *whole_year, known_on)
    return figure
