"""What the read commands show: each result as a View, printed in any output format.

A View holds a result three ways, because its readers differ (output.py says who reads which
format): `rows` for tsv and csv (ids, ISO dates, half-open windows, one value a cell), `data`
for json (complete, nested), and `shown` for table and markdown (names, inclusive dates,
several lines in a cell, so that five columns of the claims ledger fit in 80).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sanctuarywatch import output

if TYPE_CHECKING:
    import duckdb

    from sanctuarywatch.load.coverage import Window
    from sanctuarywatch.query.claims import Evaluation
    from sanctuarywatch.query.helpers import Figure

Rows = tuple[Sequence[str], Sequence[Sequence[Any]]]


@dataclass
class View:
    """One result: plain rows, its JSON, what people see, and notes printed after it."""

    rows: Rows
    data: Any
    shown: list[Rows]
    notes: list[str] = field(default_factory=list)
    max_widths: dict[str, int] = field(default_factory=dict)  # table columns kept narrow

    def print(self, fmt: str) -> None:
        if fmt == "json":
            output.write_json(self.data)
        elif fmt in ("tsv", "csv"):
            output.write_rows(*self.rows, fmt)
        else:
            for columns, rows in self.shown:
                if fmt == "markdown":
                    sys.stdout.write(output.markdown(columns, rows) + "\n")
                else:
                    output.print_table(columns, rows, self.max_widths)
            for note in self.notes:
                if fmt == "table":
                    output.print_note(note)
                else:
                    print(note)


def names(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Jurisdiction names by id: the model's, and for agencies known only from FBI returns
    the name those returns give."""
    found = con.execute(
        "SELECT 'agency:' || ori, any_value(agency_name) FROM agency_reporting_patterns "
        "WHERE agency_name IS NOT NULL GROUP BY ori"
    ).fetchall()
    found += con.execute("SELECT jurisdiction_id, name FROM jurisdictions").fetchall()
    return dict(found)


def number(value: Any) -> str:
    """A value as people read it: thousands separated, no '.0' on a whole number."""
    if value is None:
        return "no value"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int | float) else str(value)


def moment(value: datetime | None) -> str:
    """'Nov 21, 2026 18:57 UTC'."""
    if value is None:
        return ""
    at = value.astimezone(UTC)
    return f"{output.day(at)} {at:%H:%M} UTC"


# --- claims ------------------------------------------------------------------------------


def ledger_order(results: Sequence[Evaluation]) -> list[Evaluation]:
    """The claims in order, each conflicting claim next to the one it conflicts with."""
    order: dict[str, float] = {ev.claim.id: i for i, ev in enumerate(results)}
    for ev in results:
        if ev.claim.conflicts_with in order:
            order[ev.claim.id] = order[ev.claim.conflicts_with] + 0.5
    return sorted(results, key=lambda e: order[e.claim.id])


LEDGER_COLUMNS = (
    "claim_id",
    "said_by",
    "said_on",
    "verdict",
    "reason",
    "caveats",
    "conflicts_with",
    "compared_on",
    "known_on",
)
FIGURE_COLUMNS = (
    "claim_id",
    "check",
    "check_verdict",
    "basis",
    "figure",
    "value",
    "caveats",
    "evidence",
)


def ledger(results: Sequence[Evaluation], known: Mapping[str, str], details: bool = False) -> View:
    """The claims ledger; `details` adds every figure with its caveats (json always has
    them, with the evidence)."""
    ordered = ledger_order(results)
    rows = [_ledger_row(ev) for ev in ordered]
    shown: list[Rows] = [(("claim", "why"), [_ledger_shown(ev, known) for ev in ordered])]
    if details:
        rows = [row for ev in ordered for row in _figure_rows(ev)]
        figures = [row for ev in ordered for row in _figures_shown(ev, known)]
        shown.append((("claim", "figure"), figures))
    notes = ["evidence (the SQL and raw responses behind each figure): --format json"]
    return View(
        (FIGURE_COLUMNS if details else LEDGER_COLUMNS, rows),
        [ev.to_dict() for ev in ordered],
        shown,
        notes if details else [],
        {"claim": 24},
    )


def _kinds(ev: Evaluation) -> str:
    return ", ".join(sorted({c.kind for c in ev.caveats}))


def _ledger_row(ev: Evaluation) -> tuple[Any, ...]:
    claim = ev.claim
    return (
        claim.id,
        claim.said_by,
        claim.said_on,
        ev.verdict,
        ev.reason,
        _kinds(ev),
        claim.conflicts_with,
        ev.compared_on,
        ev.known_on,
    )


def _ledger_shown(ev: Evaluation, known: Mapping[str, str]) -> tuple[str, str]:
    """Two columns, so that the reason has room at 80 columns: the claim (its verdict, who
    said it and when) and why, with the caveats' kinds."""
    claim = ev.claim
    said = f"{claim.id}\n{ev.verdict.upper()}\n{claim.said_by}, {output.day(claim.said_on)}"
    if claim.conflicts_with:
        said += f"\n(conflicts with {claim.conflicts_with})"
    why = output.humanise(ev.reason, known)  # never cut: the reason is the verdict's evidence
    if ev.caveats:
        why += f"\ncaveats: {_kinds(ev)}"
    return said, why


def _figure_rows(ev: Evaluation) -> list[tuple[Any, ...]]:
    return [
        (
            ev.claim.id,
            n,
            check.verdict,
            check.basis,
            figure.label,
            figure.value,
            "; ".join(f"{c.kind}: {c.detail}" for c in figure.caveats),
            " ".join(_evidence_urls(figure)),
        )
        for n, check in enumerate(ev.checks, 1)
        for figure in check.figures
    ]


def _evidence_urls(figure: Figure) -> list[str]:
    urls = [r["url"] for e in figure.evidence for r in e.get("responses", [])]
    urls += [e["publication"].get("url") for e in figure.evidence if e.get("publication")]
    return list(dict.fromkeys(url for url in urls if url))


def _figures_shown(ev: Evaluation, known: Mapping[str, str]) -> list[tuple[str, str]]:
    return [
        (f"{ev.claim.id}\ncheck {n}: {check.verdict}", _figure_text(f, known))
        for n, check in enumerate(ev.checks, 1)
        for f in check.figures
    ]


def _figure_text(figure: Figure, known: Mapping[str, str]) -> str:
    """The figure's label, its value, then each caveat once."""
    lines = [output.humanise(figure.label, known), f"= {number(figure.value)}"]
    lines += [f"[{c.kind}] {output.humanise(c.detail, known)}" for c in figure.caveats]
    return "\n".join(dict.fromkeys(lines))  # a ratio carries each side's caveats


# --- compare -----------------------------------------------------------------------------


def comparison(
    result: Mapping[str, Figure],
    a: str,
    b: str,
    window: tuple[date, date],
    known: Mapping[str, str],
    known_on: date | datetime | None = None,
) -> View:
    """compare's figures; json names both jurisdictions by id and by name."""
    rows = [
        (key, f.label, f.value, "; ".join(f"{c.kind}: {c.detail}" for c in f.caveats))
        for key, f in result.items()
    ]
    data = {
        "a": {"id": a, "name": known.get(a)},
        "b": {"id": b, "name": known.get(b)},
        "start": window[0],
        "end": window[1],  # exclusive, as given
        "known_on": known_on,
        "figures": {key: f.to_dict() for key, f in result.items()},
    }
    shown = [(key, output.humanise(f.label, known), number(f.value)) for key, f in result.items()]
    seen = sorted({(c.kind, c.detail) for f in result.values() for c in f.caveats})
    notes = [f"caveat [{kind}]: {output.humanise(detail, known)}" for kind, detail in seen]
    return View(
        (("figure", "label", "value", "caveats"), rows),
        data,
        [(("", "what", "value"), shown)],
        notes,
    )


# --- sources -----------------------------------------------------------------------------


@dataclass
class SourceStatus:
    """One source's line in `sources`; covered and gaps None when it does not track them."""

    source: str
    publisher: str
    last_success: datetime | None
    stale_since: datetime | None
    rows: int
    covered: list[Window] | None
    gaps: list[Window] | None
    failures_in_a_row: int


def sources(statuses: Sequence[SourceStatus]) -> View:
    """Each source: freshness, rows, and the event dates it has really been asked for."""
    columns = (
        "source",
        "publisher",
        "last_success",
        "stale_since",
        "rows",
        "event_dates_covered",
        "gaps",
        "failures_in_a_row",
    )
    rows = [
        (
            s.source,
            s.publisher,
            s.last_success,
            s.stale_since,
            s.rows,
            _spans(s.covered, "unknown (no run recorded it)"),
            _spans(s.gaps, "none"),
            s.failures_in_a_row,
        )
        for s in statuses
    ]
    data = [dict(zip(columns, _source_data(s), strict=True)) for s in statuses]
    shown = ("source", "last success", "rows", "event dates covered")
    shown_rows = [_source_shown(s) for s in statuses]
    return View((columns, rows), data, [(shown, shown_rows)], max_widths={"source": 27})


def _spans(windows: list[Window] | None, empty: str) -> str:
    from sanctuarywatch.load.coverage import spans

    if windows is None:
        return ""
    return spans(windows) if windows else empty


def _source_data(s: SourceStatus) -> tuple[Any, ...]:
    def listed(windows: list[Window] | None) -> list[dict[str, datetime]] | None:
        return None if windows is None else [{"start": w.start, "end": w.end} for w in windows]

    return (
        s.source,
        s.publisher,
        s.last_success,
        s.stale_since,
        s.rows,
        listed(s.covered),
        listed(s.gaps),
        s.failures_in_a_row,
    )


def _source_shown(s: SourceStatus) -> tuple[str, str, str, str]:
    last = moment(s.last_success) or "never"
    if s.stale_since:
        last += f"\nstale since {moment(s.stale_since)}"
    if s.failures_in_a_row:
        last += f"\n{s.failures_in_a_row} failures in a row"
    covered = ""
    if s.covered is not None:
        days = ", ".join(output.window(w.start, w.end) for w in s.covered)
        covered = days or "unknown (no run recorded it)"
        if s.gaps:
            covered += "\ngaps: " + ", ".join(output.window(w.start, w.end) for w in s.gaps)
    return f"{s.source}\n{s.publisher}", last, number(s.rows), covered
