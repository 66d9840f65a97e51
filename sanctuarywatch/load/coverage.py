"""Coverage: which event dates a source has really been asked for and seen, run by run.

Why not one watermark: an incremental pull asks "what changed since the watermark", which
after a bounded backfill (2016-2017) never asks for a 2019 row last edited in 2020. A source
that keeps only a watermark cannot tell that 2018-2022 were never fetched, and a count over
them is silently partial. So every committed run records the windows it asked for:

    event     [covered_from, covered_to) of event dates (the source's local time) that the run
              fetched in full, as the source published them then (up to fetch time less the
              source's publication lag)
    updated   [covered_from, covered_to) of upstream update stamps the run fetched

A window enters `source_coverage` only with the run that fetched it, in that run's
transaction: a run that fails records nothing. Helpers read the event windows (as of the
observation time they are asked about) and name every gap in a count's window.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import duckdb

EVENT, UPDATED = "event", "updated"


@dataclass(frozen=True)
class Window:
    """A half-open span [start, end) of one dimension, in the source's local time."""

    dimension: str
    start: datetime
    end: datetime

    def __str__(self) -> str:
        return f"{_shown(self.start)} to {_shown(self.end)}"


def _shown(moment: datetime) -> str:
    return (
        f"{moment:%Y-%m-%d}" if moment.time() == datetime.min.time() else f"{moment:%Y-%m-%d %H:%M}"
    )


def spans(windows: Sequence[Window]) -> str:
    """The windows as '2016-01-01 to 2018-01-01, 2020-01-01 to 2020-06-01' (or 'none')."""
    return ", ".join(map(str, windows)) or "none"


def record(
    con: duckdb.DuckDBPyConnection,
    source: str,
    run_id: str,
    windows: Iterable[Window],
    observed_at: datetime,
) -> None:
    """Store the windows a committed run covered (call inside the run's transaction)."""
    for window in windows:
        if window.end > window.start:
            con.execute(
                "INSERT INTO source_coverage VALUES (?, ?, ?, ?, ?, ?)",
                [source, run_id, window.dimension, window.start, window.end, observed_at],
            )


def covered(
    con: duckdb.DuckDBPyConnection, source: str, as_of: str = "infinity", dimension: str = EVENT
) -> list[Window]:
    """The source's covered windows of one dimension, merged, as known at `as_of`."""
    rows = con.execute(
        "SELECT covered_from, covered_to FROM source_coverage WHERE source = ? AND dimension = ? "
        "AND observed_at <= CAST(? AS TIMESTAMPTZ) ORDER BY covered_from, covered_to",
        [source, dimension, as_of],
    ).fetchall()
    return merge(Window(dimension, start, end) for start, end in rows)


def merge(windows: Iterable[Window]) -> list[Window]:
    """Overlapping or touching windows joined; sorted by start."""
    merged: list[Window] = []
    for window in sorted(windows, key=lambda w: (w.start, w.end)):
        if merged and window.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = Window(last.dimension, last.start, max(last.end, window.end))
        else:
            merged.append(window)
    return merged


def gaps(windows: Sequence[Window], start: datetime, end: datetime) -> list[Window]:
    """The parts of [start, end) that no window covers."""
    found, cursor = [], start
    for window in merge(windows):
        if window.end <= cursor or window.start >= end:
            continue
        if window.start > cursor:
            found.append(Window(EVENT, cursor, window.start))
        cursor = max(cursor, window.end)
    if cursor < end:
        found.append(Window(EVENT, cursor, end))
    return found


def within(windows: Sequence[Window], start: datetime, end: datetime) -> list[Window]:
    """The parts of the windows inside [start, end)."""
    return [
        Window(w.dimension, max(w.start, start), min(w.end, end))
        for w in merge(windows)
        if w.end > start and w.start < end
    ]


def has_any(con: duckdb.DuckDBPyConnection, source: str) -> bool:
    """Whether any run of the source recorded coverage (warehouses loaded before this was
    kept have none: their coverage is unknown, not empty)."""
    row = con.execute(
        "SELECT count(*) > 0 FROM source_coverage WHERE source = ?", [source]
    ).fetchone()
    return bool(row and row[0])


def asked(
    mode: str,
    backfill: tuple[date | None, date | None],
    since: datetime | None,
    floor: datetime | None,
    first_day: date,
    published_through: datetime,
) -> list[Window]:
    """The windows a portal run asks for (see socrata.window), bounded by what the source had
    published when it was fetched (`published_through`: fetch time less the source's lag).

    A backfill covers its event dates; an incremental run covers the update stamps since
    `since` and every event date from `floor` (the end of earlier coverage) on; a first
    incremental run, with nothing before it, is a backfill of everything.
    """
    start, end = backfill
    if mode == "incremental" and since is not None:
        windows = [Window(UPDATED, since, published_through)]
        if floor is not None:
            windows.append(Window(EVENT, floor, published_through))
        return windows
    first = datetime.combine(start or first_day, datetime.min.time())
    last = datetime.combine(end, datetime.min.time()) if end else published_through
    return [Window(EVENT, first, min(last, published_through))]


def newest_event_gap(newest: datetime | None, end: datetime, usual: timedelta) -> str | None:
    """Why a window that ends `end` runs past the data's own newest event, if it does by more
    than the source's usual quiet spell (a stalled portal, an old snapshot)."""
    if newest is None or end - newest <= usual:
        return None
    return (
        f"the newest event in the data is {_shown(newest)}, {(end - newest).days} days before "
        f"the window ends ({_shown(end)}); the source usually goes no more than "
        f"{usual.days} days without one"
    )
