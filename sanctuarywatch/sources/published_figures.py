"""Figures that exist only in publications: surveys, state tables, press releases, newspapers.

Publisher: many (each figure names its reporting body and the URL it was published at).
URL: file://sanctuarywatch/data/published_figures.csv, the bundled file (README beside it),
     plus any CSV a user adds with the same header.
Cadence: by hand, when a new publication is found.

Notes (dated, 2026):
- No HTTP: the files are read from disk, but each still becomes a `Fetched` with a file://
  URL, so the raw archive keeps the exact bytes and every row carries its provenance.
- Values are as printed (rounded, "more than ..."); the `note` column says how to read them.
- period_start/period_end are dates or local date-times (the July 4 weekend window);
  period_end is inclusive, as the publications state periods.
- Extra files: options.extra["path"] (a path or a list of paths) and the environment variable
  SANCTUARYWATCH_PUBLISHED_FIGURES (paths joined by os.pathsep). They are read after the
  bundled file, so a figure_id they repeat replaces the bundled figure.
"""

from __future__ import annotations

import csv
import io
import os
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from sanctuarywatch import schemas
from sanctuarywatch.errors import ConfigError, LayoutError, RecordError
from sanctuarywatch.http import Fetched, HttpClient
from sanctuarywatch.sources import Options, Page, PageIterator, State

SLUG = "published_figures"
PUBLISHER = "various (reporting body per figure)"
URL = "file://sanctuarywatch/data/published_figures.csv"
FORMAT = "CSV file"
CADENCE = "by hand"
TABLES = {"published_figures": ("figure_id",)}
REQUESTS_PER_SECOND = 100.0
PATH_ENV = "SANCTUARYWATCH_PUBLISHED_FIGURES"
COLUMNS = (
    "figure_id",
    "jurisdiction",
    "reporting_body",
    "measure",
    "period_start",
    "period_end",
    "value",
    "unit",
    "compared_to_period_start",
    "compared_to_period_end",
    "published_on",
    "source_url",
    "note",
)


def bundled_path() -> Path:
    return Path(str(resources.files("sanctuarywatch") / "data" / "published_figures.csv"))


def figure_files(options: Options) -> list[Path]:
    """The bundled file first, then the user's, in the order given."""
    extra = options.extra.get("path") or []
    paths = [extra] if isinstance(extra, str | os.PathLike) else list(extra)
    paths += [p for p in os.environ.get(PATH_ENV, "").split(os.pathsep) if p]
    return [bundled_path(), *(Path(p) for p in paths)]


def fetch(client: HttpClient, options: Options, state: State) -> PageIterator:
    """Read each file as a Fetched; fetch times strictly increase so later files win. They
    are now, or `options.extra["observed_at"]` (the demo: when its archive was recorded, so
    every source of the demo is observed at the same time)."""
    observed = options.extra.get("observed_at")
    last = datetime.min.replace(tzinfo=UTC)
    for path in figure_files(options):
        last = max(observed or datetime.now(UTC), last + timedelta(microseconds=1))
        fetched = read_file(path, last)
        yield Page("figures", fetched, parse(fetched, "figures"))


def read_file(path: Path, at: datetime) -> Fetched:
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read published figures: {exc.strerror}") from None
    return Fetched(SLUG, _cited(path), 200, "text/csv", body, at)


def _cited(path: Path) -> str:
    """The bundled file by its place in the package (no machine's folders in the warehouse
    or the report: each figure links to its publication); a user's file by its own path."""
    return URL if path.resolve() == bundled_path().resolve() else path.resolve().as_uri()


def parse(fetched: Fetched, kind: str) -> list[dict[str, Any]]:
    """Rows as dicts; the header must have every column of the bundled file, and each row
    fit schemas.FigureRow (a short row, `nan`, or a period that ends before it starts is
    refused with its line, not loaded)."""
    try:
        text = fetched.body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LayoutError(SLUG, fetched.url, "a UTF-8 CSV file", str(exc)) from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise LayoutError(SLUG, fetched.url, f"columns {', '.join(COLUMNS)}", f"{missing} missing")
    rows = []
    for row in reader:
        problem = schemas.check_figure(row)
        if problem:
            where = f"{fetched.url}, line {reader.line_num}"
            raise RecordError(SLUG, where, str(row.get("figure_id")), problem)
        rows.append(row)
    ids = [row["figure_id"] for row in rows]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise LayoutError(SLUG, fetched.url, "one row per figure_id", f"repeated {duplicated}")
    return rows


def normalize(rows: list[dict[str, Any]], kind: str) -> dict[str, list[dict[str, Any]]]:
    return {"published_figures": [record(row) for row in rows]}


def record(row: dict[str, Any]) -> dict[str, Any]:
    try:
        if not row["figure_id"]:
            raise ValueError("empty figure_id")
        return {
            "figure_id": row["figure_id"],
            "jurisdiction": row["jurisdiction"] or None,
            "reporting_body": row["reporting_body"] or None,
            "measure": row["measure"],
            "period_start": _moment(row["period_start"]),
            "period_end": _moment(row["period_end"]),
            "value": float(row["value"]),
            "unit": row["unit"],
            "compared_to_period_start": _moment(row["compared_to_period_start"]),
            "compared_to_period_end": _moment(row["compared_to_period_end"]),
            "published_on": date.fromisoformat(row["published_on"]),
            "publication_url": row["source_url"] or None,
            "note": row["note"] or None,
        }
    except (KeyError, ValueError) as exc:
        raise RecordError(SLUG, "figures", str(row.get("figure_id")), str(exc)) from None


def _moment(text: str) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def advance(
    state: State, page: Page, records: dict[str, list[dict[str, Any]]], options: Options
) -> State:
    """Nothing to page through: the newest publication date is the watermark."""
    dates = [r["published_on"].isoformat() for r in records.get("published_figures", [])]
    newest = max([*dates, *([state.watermark] if state.watermark else [])], default=None)
    return State(watermark=newest, complete_through=state.complete_through)
