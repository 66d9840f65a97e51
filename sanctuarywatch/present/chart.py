"""The year-to-date chart: running totals from January 1, this year against last, drawn from
the ledger's own figures, as PNG (the report) or SVG (its text stays text).

"More than 433 murdered since January 1" is a point on a curve; the year before, read at the
same day, is what the claim is set against. Every point drawn is a figure the helpers compute
for the claims ledger (`helpers.count` from Jan 1 to each month's end, `helpers.ytd` at the
cut-off), caveats included, so the chart and the ledger cannot disagree. Months in a row are
joined by a line; a total covering several months (an agency filing one annual or half-year
total with the FBI: the Miami-Dade Police Department, Miami PD) is a box over those months,
whose insides are unknown, not zero; a window with no count is a gap, and the legend says "no
count"; a partial figure (`approximated`, `incomplete`) is a hollow mark, named in the legend,
its caveat written under the panel. One panel per jurisdiction with data (scales differ).

Built with matplotlib's object API on the Agg canvas, never pyplot: no GUI, safe in threads.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure

from sanctuarywatch.errors import ConfigError
from sanctuarywatch.query import helpers
from sanctuarywatch.query.claims import Claim
from sanctuarywatch.query.helpers import Figure

THIS_YEAR_COLOR = "#c0392b"
LAST_YEAR_COLOR = "#7f8c8d"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
PARTIAL = ("approximated", "incomplete")  # drawn hollow, named in the legend
NOTED = (*PARTIAL, "no_source")  # caveats of the cut-off figures written under a panel
WIDTH_IN, PANEL_IN, DPI = 9.0, 4.8, 100  # inches per panel; pixels = inches * DPI
SUFFIXES = (".png", ".svg")


@dataclass(frozen=True)
class Point:
    """A running total: Jan 1 up to `end` (exclusive), as the helpers report it."""

    start: date
    end: date
    figure: Figure

    @property
    def x(self) -> int:
        """Days since Jan 1: the x of the point (Feb 1 is 31)."""
        return (self.end - self.start).days

    @property
    def partial(self) -> bool:
        return any(c.kind in PARTIAL for c in self.figure.caveats)


@dataclass(frozen=True)
class Line:
    """One year: its running totals at each month's end through `through`, and at the cut-off
    (`at_cutoff`, the figure `helpers.ytd` gives the ledger)."""

    year: int
    cutoff: date  # the last day counted at the cut-off (inclusive)
    at_cutoff: Figure
    points: list[Point]


@dataclass(frozen=True)
class Panel:
    """One jurisdiction: this year to the cut-off, last year whole, and the change."""

    jurisdiction: str
    name: str
    offense: str
    this: Line
    last: Line
    change: Figure

    @property
    def has_value(self) -> bool:
        return any(p.figure.value is not None for ln in (self.this, self.last) for p in ln.points)


def default_cutoff(claims: Sequence[Claim], as_of: date | None = None) -> date:
    """The day the chart is read at: the as-of day, else the day of the first year-to-date
    claim (the comparison the articles make), else the newest claim's day."""
    if as_of:
        return as_of
    for claim in claims:
        if any(check.get("ytd") for check in claim.checks):
            return claim.said_on
    return max((claim.said_on for claim in claims), default=date.today())


def ytd_panels(
    con: duckdb.DuckDBPyConnection,
    cutoff: date,
    jurisdictions: Sequence[str] | None = None,
    offense: str = "murder",
    known_on: helpers.KnownOn = None,
) -> list[Panel]:
    """A panel per jurisdiction (default: every one with data for `offense` in either year,
    as known on `known_on`), each point computed by the helpers."""
    years = (helpers.same_day_last_year(cutoff).year, cutoff.year)
    ids = list(jurisdictions) if jurisdictions is not None else with_data(con, offense, years)
    names = _names(con, ids)
    panels = [_panel(con, j, names[j], cutoff, offense, known_on) for j in ids]
    return [p for p in panels if p.has_value or jurisdictions is not None]


def _panel(
    con: duckdb.DuckDBPyConnection,
    jurisdiction: str,
    name: str,
    cutoff: date,
    offense: str,
    known_on: helpers.KnownOn,
) -> Panel:
    ytd = helpers.ytd(con, jurisdiction, offense, cutoff, known_on)
    last_cutoff = helpers.same_day_last_year(cutoff)
    through = (cutoff, date(last_cutoff.year, 12, 31))
    this, last = (
        _line(con, jurisdiction, offense, ytd[key], day, end, known_on)
        for key, day, end in (
            ("this_year", cutoff, through[0]),
            ("last_year", last_cutoff, through[1]),
        )
    )
    return Panel(jurisdiction, name, offense, this, last, ytd["change"])


def _line(
    con: duckdb.DuckDBPyConnection,
    jurisdiction: str,
    offense: str,
    at_cutoff: Figure,
    cutoff: date,
    through: date,
    known_on: helpers.KnownOn,
) -> Line:
    """Month ends up to `through`, and the cut-off itself (the ledger's figure, not recounted)."""
    start, at = date(cutoff.year, 1, 1), cutoff + timedelta(days=1)
    ends = [date(cutoff.year, m, 1) for m in range(2, 13)] + [date(cutoff.year + 1, 1, 1)]
    points = [
        Point(start, end, helpers.count(con, jurisdiction, offense, start, end, known_on))
        for end in ends
        if end <= through + timedelta(days=1) and end != at
    ]
    points.append(Point(start, at, at_cutoff))
    return Line(cutoff.year, cutoff, at_cutoff, sorted(points, key=lambda p: p.end))


# --- which jurisdictions ------------------------------------------------------------------


def with_data(con: duckdb.DuckDBPyConnection, offense: str, years: Sequence[int]) -> list[str]:
    """Jurisdictions with `offense` in `years`: incident by incident first (Chicago), then the
    agencies known from FBI returns (monthly, half-year or annual totals)."""
    incidents = con.execute(
        "SELECT DISTINCT jurisdiction_id FROM incident_events(?) "
        "WHERE offense = ? AND year IN (SELECT unnest(?)) ORDER BY 1",
        [helpers.INFINITY, offense, list(years)],
    ).fetchall()
    returns = con.execute(
        "SELECT DISTINCT 'agency:' || ori FROM agency_reporting_periods "
        "WHERE offense = ? AND year(period_start) IN (SELECT unnest(?)) ORDER BY 1",
        [offense, list(years)],
    ).fetchall()
    found = [row[0] for row in incidents]
    return found + [row[0] for row in returns if row[0] not in found]


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


# --- drawing ------------------------------------------------------------------------------


def _partial(figure: Figure) -> str:
    """' (approximated)' when a caveat makes the figure partial; '' when it is exact."""
    kinds = sorted({c.kind for c in figure.caveats if c.kind in PARTIAL})
    return f" ({', '.join(kinds)})" if kinds else ""


def shown(figure: Figure | None) -> str:
    """A count as the legend says it: '447', '112 (approximated)', 'no count'."""
    if figure is None or figure.value is None:
        return "no count"
    return f"{figure.value:,.1f}".removesuffix(".0") + _partial(figure)


def legend(line: Line) -> str:
    """What a line's legend entry says: the count at the cut-off, and the whole year's."""
    text = f"{line.year}, Jan 1 - {line.cutoff:%b} {line.cutoff.day}: {shown(line.at_cutoff)}"
    last = line.points[-1]  # Jan 1 - Dec 31 when the line runs that far
    return text + (f"; whole year: {shown(last.figure)}" if last.end.year > line.year else "")


def _draw_line(axes: Axes, line: Line, color: str, dashed: bool, gid: str) -> None:
    """The running totals: joined month to month, a box over a total that covers several
    months, a gap where there is no count, a hollow mark where the figure is partial."""
    dash = "--" if dashed else "-"
    axes.plot([], [], marker="o", color=color, linestyle=dash, label=legend(line))
    x0, y0, joined = 0, 0.0, True  # Jan 1 starts at zero
    for point in line.points:
        value = point.figure.value
        if value is None:
            joined = False
            continue
        if joined:  # dotted into a partial figure: the segment is not exact either
            segment = ":" if point.partial else dash
            axes.plot([x0, point.x], [y0, value], color=color, linestyle=segment, linewidth=1.8)
        else:
            axes.fill_between([x0, point.x], y0, value, color=color, alpha=0.25, linewidth=0)
        face = "white" if point.partial else color
        (mark,) = axes.plot([point.x], [value], "o", color=color, markerfacecolor=face)
        exact = "partial" if point.partial else "exact"
        mark.set_gid(f"point|{gid}|{line.year}|{point.end}|{value}|{exact}")
        x0, y0, joined = point.x, float(value), True


def _change(figure: Figure) -> str:
    """The ledger's change between the two years: '-2.0%', '+8.6% (approximated)'."""
    if figure.value is None:
        return "none (no count in one of the years)"
    return f"{figure.value:+.1f}%{_partial(figure)}"


def _notes(panel: Panel) -> str:
    """The caveats that make a cut-off figure partial or absent, wrapped under the panel."""
    figures = (panel.this.at_cutoff, panel.last.at_cutoff, panel.change)
    details = dict.fromkeys(
        f"{c.kind}: {c.detail}" for f in figures for c in f.caveats if c.kind in NOTED
    )
    return "\n".join(textwrap.fill(d, 140) for d in details)


def _draw(axes: Axes, panel: Panel) -> None:
    this, last = panel.this, panel.last
    _draw_line(axes, last, LAST_YEAR_COLOR, True, panel.jurisdiction)
    _draw_line(axes, this, THIS_YEAR_COLOR, False, panel.jurisdiction)
    axes.axvline((this.cutoff - date(this.year, 1, 1)).days + 1, color="#34495e", linestyle=":")
    axes.text(
        0.98,
        0.04,
        f"cut-off: {this.cutoff:%b} {this.cutoff.day}\nchange: {_change(panel.change)}",
        transform=axes.transAxes,
        ha="right",
        va="bottom",
        fontsize=10,
        bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "#bdc3c7"},
    )
    starts = [(date(2001, m, 1) - date(2001, 1, 1)).days for m in range(1, 13)]
    axes.set_xticks(starts, MONTHS)
    axes.set_xlim(0, 368)
    values = [p.figure.value or 0 for line in (this, last) for p in line.points]
    axes.set_ylim(0, max([*values, 1]) * 1.15)
    axes.set_title(
        f"{panel.name}: {panel.offense}, Jan 1 - {this.cutoff:%b} {this.cutoff.day}, "
        f"{this.year} vs {last.year}",
        fontsize=12,
    )
    axes.set_ylabel(f"{panel.offense} since Jan 1")
    axes.grid(True, alpha=0.3)
    axes.legend(loc="upper left", fontsize=9, frameon=False)
    axes.set_xlabel(_notes(panel), fontsize=7, color="#5f6b76", loc="left")


def draw(
    panels: Sequence[Panel], offense: str = "murder", known_on: helpers.KnownOn = None
) -> MplFigure:
    """The chart as a matplotlib Figure: one panel per jurisdiction, or a note that there is
    nothing to draw (a report still renders without the data)."""
    fig = MplFigure(figsize=(WIDTH_IN, PANEL_IN * max(len(panels), 1)), dpi=DPI)
    fig.set_layout_engine("constrained")
    FigureCanvasAgg(fig)
    known = f" as known on {known_on}" if known_on else ""
    for number, panel in enumerate(panels, 1):
        _draw(fig.add_subplot(len(panels), 1, number), panel)
    if not panels:
        axes = fig.add_subplot(1, 1, 1)
        axes.axis("off")
        axes.text(0.5, 0.5, f"No {offense} counts in the warehouse{known}.", ha="center")
    return fig


def save(fig: MplFigure, path: str | Path) -> Path:
    """Write the chart as PNG or SVG, by the file's suffix. SVG keeps its text as text (a
    reader can select and search the numbers) and carries no date, so it is reproducible."""
    out = Path(path)
    if out.suffix.lower() not in SUFFIXES:
        raise ConfigError("chart", f"{out}: expected a file name ending in .png or .svg")
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".svg":
        with rc_context({"svg.fonttype": "none", "svg.hashsalt": "sanctuarywatch"}):
            fig.savefig(out, format="svg", metadata={"Date": None})
    else:
        fig.savefig(out, format="png")
    return out


def write(
    panels: Sequence[Panel],
    paths: Sequence[str | Path],
    offense: str = "murder",
    known_on: helpers.KnownOn = None,
) -> list[Path]:
    """The chart drawn once and saved to every path (.png or .svg)."""
    fig = draw(panels, offense, known_on)
    return [save(fig, path) for path in paths]


def ytd_chart(
    con: duckdb.DuckDBPyConnection,
    cutoff: date,
    path: str | Path,
    jurisdictions: Sequence[str] | None = None,
    offense: str = "murder",
    known_on: helpers.KnownOn = None,
) -> Path:
    """Write the year-to-date chart read at `cutoff` to `path` (.png or .svg); see
    `ytd_panels` for which jurisdictions it shows."""
    panels = ytd_panels(con, cutoff, jurisdictions, offense, known_on)
    return write(panels, [path], offense, known_on)[0]
