"""The commands that read the warehouse: sql, sources, claims, report, chart, export and
compare. None creates a warehouse; each prints through views.py and output.py."""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sanctuarywatch.cli.common import (
    DEFAULT_REPORT,
    chosen_format,
    command,
    query_error,
    reading,
)

if TYPE_CHECKING:
    import duckdb

    from sanctuarywatch.load.coverage import Window

FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2100, 12, 31)  # compare's window must fit here


@command
def cmd_sql(args: argparse.Namespace) -> int:
    import duckdb

    from sanctuarywatch.errors import ConfigError, SanctuaryWatchError
    from sanctuarywatch.output import print_table, write_rows

    if not args.query.strip().strip(";").strip():
        raise ConfigError("sql", "expected a query (SELECT ...), found an empty one")
    with reading(args, files=args.allow_files, read_only=True) as con:
        try:
            cursor = con.execute(args.query)
            if cursor is None or cursor.description is None:
                return 0
            columns = [column[0] for column in cursor.description]
            rows = cursor.fetchmany(args.max_rows + 1)
        except duckdb.Error as exc:
            raise SanctuaryWatchError(query_error("query failed", args, exc)) from None
    fmt = chosen_format(args)
    if fmt == "table":
        print_table(columns, rows[: args.max_rows])
    else:
        write_rows(columns, rows[: args.max_rows], fmt)
    if len(rows) > args.max_rows:  # on stderr: piped rows stay rows
        print(f"(more than {args.max_rows} rows; raise --max-rows)", file=sys.stderr)
    return 0


SOURCES_SQL = """
SELECT s.slug AS source, f.last_success, f.stale_since, coalesce(f.consecutive_failures, 0)
FROM (SELECT unnest(?) AS slug) s
LEFT JOIN source_freshness f ON f.source = s.slug
ORDER BY s.slug
"""


@command
def cmd_sources(args: argparse.Namespace) -> int:
    from sanctuarywatch import sources, views

    modules = sources.all_sources()
    with reading(args) as con:
        found = con.execute(SOURCES_SQL, [list(modules)]).fetchall()
        statuses = [
            views.SourceStatus(
                slug,
                modules[slug].PUBLISHER,
                last,
                stale,
                sum(_current_rows(con, table) for table in modules[slug].TABLES),
                *_coverage(con, modules[slug]),
                failed,
            )
            for slug, last, stale, failed in found
        ]
    views.sources(statuses).print(chosen_format(args))
    return 0


def _coverage(
    con: duckdb.DuckDBPyConnection, module: Any
) -> tuple[list[Window] | None, list[Window] | None]:
    """Covered event dates and the gaps between the source's first day and the newest covered
    one; None for a source that does not track coverage (and gaps before any run)."""
    from sanctuarywatch.load import coverage

    if not hasattr(module, "covered"):
        return None, None
    spans = coverage.covered(con, module.SLUG)
    if not spans:
        return spans, None
    first = datetime.combine(module.FIRST_DAY, datetime.min.time())
    return spans, coverage.gaps(spans, first, spans[-1].end)


def _current_rows(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0


@command
def cmd_claims(args: argparse.Namespace) -> int:
    from sanctuarywatch import views
    from sanctuarywatch.errors import ConfigError
    from sanctuarywatch.query import claims

    ledger = claims.load_claims(args.claims)
    unknown = sorted(set(args.id) - {claim.id for claim in ledger})
    if unknown:
        known = ", ".join(claim.id for claim in ledger)
        raise ConfigError("--id", f"no claim {', '.join(map(repr, unknown))}; ids: {known}")
    if args.id:
        ledger = [claim for claim in ledger if claim.id in args.id]
    with reading(args) as con:
        results = claims.evaluate_all(con, ledger, args.as_of, args.known_on)
        names = views.names(con)
    views.ledger(results, names, args.details).print(chosen_format(args))
    return 0


@command
def cmd_report(args: argparse.Namespace) -> int:
    from sanctuarywatch.present import report
    from sanctuarywatch.query import claims

    with reading(args) as con:
        results = claims.evaluate_all(con, None, args.as_of, args.known_on)
        written = report.write_report(
            con, args.out, evaluations=results, as_of=args.as_of, known_on=args.known_on
        )
    print(f"report: {written.resolve()}")
    return 0


@command
def cmd_chart(args: argparse.Namespace) -> int:
    from sanctuarywatch.present import chart
    from sanctuarywatch.query import claims

    paths = _chart_paths(args)
    cutoff = chart.default_cutoff(claims.load_claims(), args.as_of)
    with reading(args) as con:
        panels = chart.ytd_panels(con, cutoff, known_on=args.known_on)
    for written in chart.write(panels, paths, known_on=args.known_on):
        print(f"chart: {written.resolve()}")
    return 0


def _chart_paths(args: argparse.Namespace) -> list[Path]:
    """The files to write, their folders made before the counting starts (a bad path fails
    at once)."""
    from sanctuarywatch.errors import ConfigError

    named = {".png": args.png, ".svg": args.svg}
    if args.out and any(named.values()):
        raise ConfigError("chart", "give --out DIR, or --png FILE and --svg FILE, not both")
    for suffix, name in named.items():
        if name and not name.lower().endswith(suffix):
            raise ConfigError("chart", f"--{suffix[1:]} {name}: expected a name ending in {suffix}")
    folder = Path(args.out or DEFAULT_REPORT.parent)
    paths = [Path(n) for n in named.values() if n] or [folder / "chart.png", folder / "chart.svg"]
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
    return paths


@command
def cmd_export(args: argparse.Namespace) -> int:
    import duckdb

    from sanctuarywatch.errors import SanctuaryWatchError
    from sanctuarywatch.present import export

    if args.lake or not (args.query and args.path):
        return _export_lake(args)
    with reading(args, files=args.allow_files, read_only=True) as con:
        try:
            written = export.export_query(con, args.query, args.path)
        except duckdb.Error as exc:
            raise SanctuaryWatchError(query_error("export failed", args, exc)) from None
    print(f"wrote {written}")
    return 0


def _export_lake(args: argparse.Namespace) -> int:
    from sanctuarywatch.errors import ConfigError
    from sanctuarywatch.present import lake

    if not args.lake or args.query or args.path:
        raise ConfigError("export", "give a query and a file name, or --lake DIR alone")
    with reading(args, read_only=True) as con:
        written = lake.export_lake(con, args.lake)
    print(f"wrote {sum(written.values()):,} versions of {len(written)} tables to {args.lake}")
    return 0


@command
def cmd_compare(args: argparse.Namespace) -> int:
    from sanctuarywatch import views
    from sanctuarywatch.query import helpers

    _check_window(args.offense, args.start, args.end)
    with reading(args) as con:
        a, b = (_jurisdiction(con, name) for name in (args.a, args.b))
        result = helpers.compare(con, args.offense, a, b, args.start, args.end, args.known_on)
        names = views.names(con)
    view = views.comparison(result, a, b, (args.start, args.end), names, args.known_on)
    view.print(chosen_format(args))
    return 0


def _check_window(offense: str, start: date, end: date) -> None:
    """A known offense over a window that runs forwards: an unknown offense or a reversed
    window would otherwise read as "no data in the warehouse"."""
    from sanctuarywatch.errors import ConfigError
    from sanctuarywatch.schemas import OFFENSES

    if offense not in OFFENSES:
        raise ConfigError(
            "compare", f"unknown offense {offense!r}; expected one of {', '.join(OFFENSES)}"
        )
    if not FIRST_DAY <= start < end <= LAST_DAY:
        raise ConfigError(
            "compare",
            f"--start {start} and --end {end}: expected start before end (end is exclusive), "
            f"both between {FIRST_DAY} and {LAST_DAY}",
        )


def _jurisdiction(con: duckdb.DuckDBPyConnection, name: str) -> str:
    """An id as given, or the one jurisdiction a name means; several: say which exist."""
    if ":" in name:
        return name
    from sanctuarywatch.errors import SanctuaryWatchError
    from sanctuarywatch.query.jurisdictions import resolve

    found = resolve(con, name)
    if len(found) != 1:
        choices = ", ".join(f"{j.jurisdiction_id} ({j.name})" for j in found) or "none"
        raise SanctuaryWatchError(f"{name!r} is ambiguous or unknown; choose one of: {choices}")
    return found[0].jurisdiction_id
