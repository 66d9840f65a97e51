"""A PNG chart of cumulative year-to-date counts, this year against last, cut-off marked.

"More than 433 murdered since January 1" is a point on a curve; the curve of the year before,
read at the same day, is what the claim is implicitly set against. Drawing both, with the
cut-off day marked, shows whether the gap is steady or an artefact of the day chosen.

Jurisdictions with incident-level data are drawn day by day (today Chicago). Agencies known
only from FBI returns (the Miami-Dade Police Department, Miami PD, ...) are drawn as the periods
they reported (warehouse/044): a box per month, half-year or year, spanning the period from the
running total before it to the total after it, with a mark at the period's end. An annual
reporter is one box over the whole year, never eleven months of zero, and its value at a
mid-year cut-off is "not reported", not 0.

The figure is built with matplotlib's object API on the Agg canvas, never through pyplot:
no global state, no GUI backend, safe in threads and in the daemon.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure

from sanctuarywatch.query.helpers import _as_of, _same_day_last_year

THIS_YEAR_COLOR = "#c0392b"
LAST_YEAR_COLOR = "#7f8c8d"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Curve:
    """Cumulative count by day of year (index 0 is Jan 1) for one jurisdiction and year."""

    jurisdiction: str
    year: int
    cutoff: date  # the day the curve is read at (inclusive)
    cumulative: list[int]  # one value per day from Jan 1 through the last day drawn

    @property
    def at_cutoff(self) -> int:
        """The year-to-date count at the cut-off: what helpers.ytd reports for that year."""
        index = (self.cutoff - date(self.year, 1, 1)).days
        return self.cumulative[min(index, len(self.cumulative) - 1)] if self.cumulative else 0


@dataclass(frozen=True)
class Period:
    """One total an agency reported: [start, end) and its count."""

    start: date
    end: date  # exclusive
    count: int
    pattern: str  # monthly | partial | half_yearly | annual (warehouse/044)


def periods(
    con: duckdb.DuckDBPyConnection,
    jurisdiction: str,
    offense: str,
    year: int,
    known_on: date | None = None,
) -> list[Period]:
    """The periods of `year` an agency reported, from the source that reported the most."""
    rows = con.execute(
        "SELECT source, period_start, period_end, n, pattern "
        "FROM agency_reporting_periods_as_of(?) "
        "WHERE 'agency:' || ori = ? AND offense = ? AND year(period_start) = ? "
        "ORDER BY source, period_start",
        [_as_of(known_on), jurisdiction, offense, year],
    ).fetchall()
    by_source: dict[str, list[Period]] = {}
    for source, start, end, n, pattern in rows:
        by_source.setdefault(source, []).append(Period(start, end, int(n), pattern))
    return max(by_source.values(), key=lambda found: (found[-1].end, len(found)), default=[])


def periodic_jurisdictions(
    con: duckdb.DuckDBPyConnection,
    years: Sequence[int],
    offense: str = "murder",
    known_on: date | None = None,
) -> list[str]:
    """Agencies with FBI monthly, half-year or annual totals for `offense` in `years` and no
    incident-level data (those are drawn day by day)."""
    rows = con.execute(
        "SELECT DISTINCT 'agency:' || ori FROM agency_reporting_periods_as_of(?) "
        "WHERE offense = ? AND year(period_start) IN (SELECT unnest(?)) ORDER BY 1",
        [_as_of(known_on), offense, list(years)],
    ).fetchall()
    daily = set(incident_jurisdictions(con, offense, known_on))
    return [row[0] for row in rows if row[0] not in daily]


def incident_jurisdictions(
    con: duckdb.DuckDBPyConnection, offense: str = "murder", known_on: date | None = None
) -> list[str]:
    """Jurisdictions with `offense` known incident by incident: the ones a daily curve can show."""
    rows = con.execute(
        "SELECT DISTINCT jurisdiction_id FROM incident_events(?) WHERE offense = ? ORDER BY 1",
        [_as_of(known_on), offense],
    ).fetchall()
    return [row[0] for row in rows]


def daily_counts(
    con: duckdb.DuckDBPyConnection,
    jurisdiction: str,
    offense: str,
    year: int,
    known_on: date | None = None,
) -> dict[date, int]:
    """Events per local calendar day in `year` (the same local-time rule as helpers.count)."""
    rows = con.execute(
        "SELECT CAST(occurred_local AS DATE) AS day, count(*) FROM incident_events(?) "
        "WHERE jurisdiction_id = ? AND offense = ? AND occurred_local >= ? AND occurred_local < ? "
        "GROUP BY day",
        [_as_of(known_on), jurisdiction, offense, date(year, 1, 1), date(year + 1, 1, 1)],
    ).fetchall()
    return {day: n for day, n in rows}


def curve(
    con: duckdb.DuckDBPyConnection,
    jurisdiction: str,
    offense: str,
    year: int,
    cutoff: date,
    through: date,
    known_on: date | None = None,
) -> Curve:
    """Running total from Jan 1 of `year` through `through`, to be read at `cutoff`."""
    per_day = daily_counts(con, jurisdiction, offense, year, known_on)
    total, cumulative = 0, []
    day = date(year, 1, 1)
    while day <= through:
        total += per_day.get(day, 0)
        cumulative.append(total)
        day += timedelta(days=1)
    return Curve(jurisdiction, year, cutoff, cumulative)


def curves(
    con: duckdb.DuckDBPyConnection,
    jurisdiction: str,
    cutoff: date,
    offense: str = "murder",
    known_on: date | None = None,
) -> tuple[Curve, Curve]:
    """This year through the cut-off, and last year through Dec 31 (read at the same day):
    last year's whole curve shows where the comparison year ended up."""
    last_cutoff = _same_day_last_year(cutoff)
    this = curve(con, jurisdiction, offense, cutoff.year, cutoff, cutoff, known_on)
    last = curve(
        con,
        jurisdiction,
        offense,
        last_cutoff.year,
        last_cutoff,
        date(last_cutoff.year, 12, 31),
        known_on,
    )
    return this, last


def _names(con: duckdb.DuckDBPyConnection, ids: Sequence[str]) -> dict[str, str]:
    """Readable names for jurisdiction ids (the id itself when the model does not know it)."""
    rows = con.execute(
        "SELECT jurisdiction_id, name FROM jurisdictions WHERE jurisdiction_id IN "
        "(SELECT unnest(?))",
        [list(ids)],
    ).fetchall()
    agencies = con.execute(
        "SELECT 'agency:' || ori, any_value(agency_name) FROM agency_reporting_patterns "
        "WHERE 'agency:' || ori IN (SELECT unnest(?)) GROUP BY ori",
        [list(ids)],
    ).fetchall()
    return {**{i: i for i in ids}, **dict(agencies), **dict(rows)}


def _draw(axes: Axes, this: Curve, last: Curve, title: str, offense: str) -> None:
    """One panel: two curves, the cut-off line and both values at it (or a note: zeros drawn
    for a jurisdiction without incident data would read as 'no murders')."""
    if not any(this.cumulative) and not any(last.cumulative):
        axes.set_title(title, fontsize=12)
        axes.axis("off")
        axes.text(
            0.5,
            0.5,
            f"no incident-level {offense} data for this jurisdiction",
            transform=axes.transAxes,
            ha="center",
            color="#7f8c8d",
            fontsize=11,
        )
        return
    day_index = (this.cutoff - date(this.year, 1, 1)).days + 1
    axes.plot(
        range(1, len(last.cumulative) + 1),
        last.cumulative,
        color=LAST_YEAR_COLOR,
        linestyle="--",
        linewidth=1.6,
        label=f"{last.year} (whole year)",
    )
    axes.plot(
        range(1, len(this.cumulative) + 1),
        this.cumulative,
        color=THIS_YEAR_COLOR,
        linewidth=2.2,
        label=f"{this.year} (through {this.cutoff:%b %d})",
    )
    axes.axvline(day_index, color="#34495e", linewidth=1, linestyle=":")
    top = max([*last.cumulative, *this.cumulative, 1])
    axes.text(
        day_index + 3, top * 1.02, f"cut-off {this.cutoff:%b %d}", color="#34495e", fontsize=9
    )
    for item, color in ((this, THIS_YEAR_COLOR), (last, LAST_YEAR_COLOR)):
        axes.plot([day_index], [item.at_cutoff], marker="o", color=color)
    change = (
        f"\nchange: {100 * (this.at_cutoff - last.at_cutoff) / last.at_cutoff:+.1f}%"
        if last.at_cutoff
        else ""
    )
    _cutoff_note(
        axes,
        f"Jan 1 - {this.cutoff:%b %d}\n{this.year}: {this.at_cutoff:,}\n"
        f"{last.year}: {last.at_cutoff:,}{change}",
    )
    _axes_frame(axes, top, title, offense)


def _cutoff_note(axes: Axes, text: str) -> None:
    """The counts at the cut-off, boxed in the panel's lower right corner."""
    axes.text(
        0.98,
        0.05,
        text,
        transform=axes.transAxes,
        ha="right",
        va="bottom",
        fontsize=10,
        bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "#bdc3c7"},
    )


def _day(year: int, day: date) -> int:
    """Day-of-year index of `day` (1 = Jan 1), the x of the daily curves."""
    return (day - date(year, 1, 1)).days + 1


def _draw_periods(
    axes: Axes, this: list[Period], last: list[Period], cutoff: date, title: str, offense: str
) -> None:
    """One panel of reported periods: this year's through the cut-off, last year's whole."""
    last_cutoff = _same_day_last_year(cutoff)
    top = 1
    for found, year, color, known in (
        (last, last_cutoff.year, LAST_YEAR_COLOR, date(last_cutoff.year + 1, 1, 1)),
        (this, cutoff.year, THIS_YEAR_COLOR, cutoff + timedelta(days=1)),
    ):
        total, label = 0, f"{year} ({'whole year' if year != cutoff.year else 'to the cut-off'})"
        for period in (p for p in found if p.end <= known):
            x0, x1 = _day(year, period.start), _day(year, period.end)
            axes.fill_between(
                [x0, x1], total, total + period.count, color=color, alpha=0.3, lw=0, label=label
            )
            label = ""
            total += period.count
            axes.plot([x1], [total], marker="o", color=color, markersize=4)
        top = max(top, total)
    axes.axvline(_day(cutoff.year, cutoff), color="#34495e", linewidth=1, linestyle=":")
    _cutoff_note(
        axes,
        f"Jan 1 - {cutoff:%b %d}\n{_at_cutoff(this, cutoff, False)}\n"
        f"{_at_cutoff(last, last_cutoff, True)}",
    )
    _axes_frame(axes, top, title, offense)
    axes.set_xlabel(
        "FBI returns: each box is one reported total, spread over the period it covers "
        "(when in the period is not known)",
        fontsize=8,
        color="#7f8c8d",
    )


def _at_cutoff(found: list[Period], cutoff: date, whole_year: bool) -> str:
    """What the returns say for Jan 1 through the cut-off: whole reported periods only; a
    period across the cut-off (an annual or half-year total) is named, never split."""
    inside = [p for p in found if p.end <= cutoff + timedelta(days=1)]
    done = (
        f"{sum(p.count for p in inside):,} to {inside[-1].end - timedelta(days=1):%b %d}"
        if inside
        else ""
    )
    across = [p for p in found if p.start <= cutoff < p.end - timedelta(days=1)]
    if across and across[0].pattern in ("annual", "half_yearly"):
        period = across[0]
        span = "one annual total" if period.pattern == "annual" else "a half-year total"
        later = f" of {period.count:,}" if whole_year else ""
        ahead = f"{period.start:%b}-{period.end - timedelta(days=1):%b} is {span}{later}"
        return f"{cutoff.year}: {done + '; ' if done else ''}{ahead}, not reported by month"
    if not inside:
        return f"{cutoff.year}: no reported total yet"
    return f"{cutoff.year}: {done} (whole reported periods)"


def _axes_frame(axes: Axes, top: int, title: str, offense: str) -> None:
    starts = [(date(2001, m, 1) - date(2001, 1, 1)).days + 1 for m in range(1, 13)]
    axes.set_xticks(starts, MONTHS)
    axes.set_xlim(1, 366)
    axes.set_ylim(0, top * 1.1)
    axes.set_title(title, fontsize=12)
    axes.set_ylabel(f"cumulative {offense} count")
    axes.grid(True, alpha=0.3)
    axes.legend(loc="upper left", fontsize=9, frameon=False)


def _empty(fig: MplFigure, offense: str) -> None:
    """Say so on the image rather than fail: a report should still render without the data."""
    axes = fig.add_subplot(1, 1, 1)
    axes.axis("off")
    axes.text(
        0.5,
        0.5,
        f"No incident-level {offense} data in the warehouse:\n"
        "a day-by-day curve needs incident records.",
        ha="center",
        va="center",
        fontsize=12,
    )


def _note(known_on: date | None) -> str:
    known = f", as known on {known_on}" if known_on else ""
    return f"local calendar day; incident-level data{known} (sanctuarywatch)"


def ytd_chart(
    con: duckdb.DuckDBPyConnection,
    cutoff: date,
    path: str | Path,
    jurisdictions: Sequence[str] | None = None,
    offense: str = "murder",
    known_on: date | None = None,
) -> Path:
    """Write a PNG of cumulative year-to-date curves (this year vs last) with the cut-off marked.

    `jurisdictions` defaults to every jurisdiction with incident-level data for `offense`, then
    every agency with FBI returns for it in either year (drawn as reported periods); one panel
    each, since their scales differ. Returns the path written.
    """
    years = (_same_day_last_year(cutoff).year, cutoff.year)
    ids = (
        list(jurisdictions)
        if jurisdictions is not None
        else incident_jurisdictions(con, offense, known_on)
        + periodic_jurisdictions(con, years, offense, known_on)
    )
    daily = set(incident_jurisdictions(con, offense, known_on))
    names = _names(con, ids)
    fig = MplFigure(figsize=(9, 4.8 * max(len(ids), 1)), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    if not ids:
        _empty(fig, offense)
    for number, jurisdiction in enumerate(ids, 1):
        title = (
            f"{names[jurisdiction]}: {offense}, Jan 1 - {cutoff:%b %d}, {years[1]} vs {years[0]}"
        )
        axes = fig.add_subplot(len(ids), 1, number)
        found = [periods(con, jurisdiction, offense, y, known_on) for y in reversed(years)]
        if jurisdiction not in daily and any(found):
            _draw_periods(axes, found[0], found[1], cutoff, title, offense)
            continue
        this, last = curves(con, jurisdiction, cutoff, offense, known_on)
        _draw(axes, this, last, title, offense)
        axes.set_xlabel(_note(known_on), fontsize=8, color="#7f8c8d")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png")
    return out
