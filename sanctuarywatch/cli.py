"""The `sanctuarywatch` command: collect, rebuild, sql, sources, demo.

Each command is a small function over the library; the library does the work. Errors the
project raises are printed as one line (they already name the source, URL and what was
expected) and exit with status 1.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Table
from rich.text import Text

from . import __version__, claims, coverage, demo, helpers, sources, warehouse
from .archive import Archive
from .collect import collect, rebuild
from .errors import ConfigError, SanctuaryWatchError
from .http import HttpClient

Command = Callable[[argparse.Namespace], int]
DEFAULT_REPORT = Path("report") / "index.html"
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2100, 12, 31)  # compare's window must fit here
SQL_HELP = """\
The query reads the warehouse and nothing else: no file or network access (read_text,
COPY ... TO, ATTACH, INSTALL fail), unless --allow-files. While a daemon holds the warehouse,
it reads the snapshot the daemon publishes after every job (<db dir>/snapshots/<db name>);
the same lock for the duckdb CLI there: start with
SET enable_external_access = false; SET lock_configuration = true;"""
log = logging.getLogger(__name__)
COMMANDS: dict[str, Command] = {}


def command(fn: Command) -> Command:
    COMMANDS[fn.__name__.removeprefix("cmd_")] = fn
    return fn


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG
        if args.verbose
        else logging.INFO
        if args.command == "daemon"
        else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    try:
        return COMMANDS[args.command](args)
    except SanctuaryWatchError as exc:
        return fail(str(exc))
    except duckdb.Error as exc:
        log.debug("warehouse error", exc_info=True)
        return fail(_warehouse_error(warehouse.db_path(args.db), exc))
    except OSError as exc:
        log.debug("file error", exc_info=True)
        return fail(f"{exc.filename or 'file'}: {exc.strerror or exc}")


def fail(message: str) -> int:
    """The error as one line on stderr, exit status 1. The text is printed literally: a
    "[il_chicago_crimes]" prefix or a "[/x]" in a path is not rich markup; soft wrap keeps
    it one line however narrow the terminal."""
    Console(stderr=True, soft_wrap=True, highlight=False).print(
        Text.assemble(("error:", "red"), " ", message)
    )
    return 1


def _query_error(what: str, args: argparse.Namespace, exc: duckdb.Error) -> str:
    """A user's query failed: because of the query, or because the warehouse is damaged."""
    path = warehouse.db_path(args.db)
    if isinstance(exc, duckdb.IOException) and path.name in str(exc):
        return _warehouse_error(path, exc)
    return f"{what}: {exc}"


def _warehouse_error(path: Path, exc: duckdb.Error) -> str:
    """A DuckDB failure outside a user's query: an I/O error (also one met while committing)
    means the file is damaged."""
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, duckdb.IOException) or "Could not read enough bytes" in first:
        return (
            f"warehouse {path} cannot be read ({first}): the file is damaged or truncated; "
            "move it aside, and `sanctuarywatch rebuild` reloads it from the raw archive"
        )
    return f"warehouse {path}: {first}"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="sanctuarywatch", description=__doc__.splitlines()[0])
    top.add_argument("--version", action="version", version=__version__)
    top.add_argument(
        "--db", help=f"warehouse file (default ${warehouse.DB_ENV} or {warehouse.DEFAULT_DB})"
    )
    top.add_argument("-v", "--verbose", action="store_true")
    sub = top.add_subparsers(dest="command", required=True)

    p = sub.add_parser("collect", help="fetch a source and load it (needs internet)")
    p.add_argument("source", choices=sources.SOURCE_MODULES)
    p.add_argument("--mode", choices=("incremental", "backfill"), default="incremental")
    p.add_argument("--start", type=date.fromisoformat, help="backfill from this day (inclusive)")
    p.add_argument("--end", type=date.fromisoformat, help="backfill to this day (exclusive)")
    p.add_argument("--page-size", type=positive)
    p.add_argument("--base-url", help="another endpoint with the same protocol (tests, mirrors)")

    p = sub.add_parser("rebuild", help="re-parse the raw archive and reload, fetching nothing")
    p.add_argument(
        "sources", nargs="*", metavar="SOURCE", help="default: every source in the archive"
    )
    p.add_argument(
        "--skip-damaged",
        action="store_true",
        help="leave out captures that cannot be read back (named), instead of stopping",
    )

    p = sub.add_parser(
        "sql",
        help="run a query against the warehouse and print the result",
        description=SQL_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("query")
    p.add_argument("--max-rows", type=positive, default=50)
    p.add_argument("--allow-files", action="store_true", help="let the query read and write files")

    sub.add_parser("sources", help="each source: last success, rows, how stale")
    sub.add_parser("demo", help="build the warehouse from the bundled archive and show it")

    p = sub.add_parser("claims", help="the claims ledger: each claim re-computed, with a verdict")
    p.add_argument(
        "--as-of", type=date.fromisoformat, help="re-run year-to-date comparisons for this day"
    )
    p.add_argument(
        "--known-on",
        type=known_on,
        help="use the data as observed by the end of this day, or at an ISO timestamp",
    )
    p.add_argument("--claims", action="append", default=[], help="a YAML file of your own claims")
    p.add_argument("--id", action="append", default=[], help="only these claims")
    p.add_argument("--details", action="store_true", help="print every figure and its evidence")

    p = sub.add_parser("report", help="write the HTML report: the ledger, evidence and chart")
    p.add_argument("--out", default=str(DEFAULT_REPORT), help=f"default {DEFAULT_REPORT}")
    p.add_argument("--as-of", type=date.fromisoformat)
    p.add_argument("--known-on", type=known_on)

    p = sub.add_parser(
        "export",
        help="write a query's result to CSV or Parquet",
        description=SQL_HELP.replace("The query reads", "The query (one SELECT) reads"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("query", nargs="?")
    p.add_argument("path", nargs="?", help="ends in .csv or .parquet")
    p.add_argument(
        "--allow-files", action="store_true", help="let the query read files (read_csv ...)"
    )
    p.add_argument(
        "--lake",
        metavar="DIR",
        help="instead of a query: every _versions table as Hive-partitioned Parquet in DIR",
    )

    p = sub.add_parser("compare", help="one offense in two jurisdictions over the same window")
    p.add_argument(
        "offense", help="murder, homicide, shooting_victim, shooting_homicide, violent_crime"
    )
    p.add_argument("a", help="a jurisdiction id (agency:ILCPD0000) or name (Chicago)")
    p.add_argument("b")
    p.add_argument("--start", type=date.fromisoformat, required=True)
    p.add_argument("--end", type=date.fromisoformat, required=True, help="exclusive")
    p.add_argument("--known-on", type=known_on)

    for name, text in (
        ("daemon", "run the jobs of cron.yaml on their schedule until SIGTERM"),
        ("run", "run one job of cron.yaml once (for the system cron)"),
    ):
        p = sub.add_parser(name, help=text)
        if name == "run":
            p.add_argument("job")
        p.add_argument("--cron", help="schedule file (default $SANCTUARYWATCH_CRON or ./cron.yaml)")
        p.add_argument("--replay", help="answer from a recorded archive folder, or 'bundled'")
        if name == "daemon":
            p.add_argument("--check", action="store_true", help="check cron.yaml, show next runs")
            p.add_argument("--run-now", action="store_true", help="also run every job at start")
    return top


def known_on(text: str) -> date | datetime:
    """--known-on: a day (its end, UTC) or an instant (ISO 8601; no zone means UTC)."""
    try:
        return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date (2017-08-16) or a timestamp (2017-08-16T12:00:00+00:00), not {text!r}"
        ) from None


def positive(text: str) -> int:
    """A whole number of at least 1 (--max-rows, --page-size)."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, not {text!r}")
    return int(text)


@contextmanager
def _reading(
    args: argparse.Namespace, files: bool = True, read_only: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse for a command that only reads. A missing file is an error, never a new
    empty warehouse (whose every claim reads `unverifiable`, exit 0); while a daemon holds the
    file, its snapshot; `files=False` for SQL a user typed (daemon.deny_files)."""
    from .daemon import open_for_reading

    path = warehouse.db_path(args.db)
    if str(path) != ":memory:" and not path.is_file():
        raise ConfigError(
            f"no warehouse at {path}", "run `sanctuarywatch demo` or `collect` (or give --db)"
        )
    with closing(open_for_reading(path, read_only=read_only, files=files)) as con:
        yield con


@contextmanager
def _open(args: argparse.Namespace, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    con = warehouse.connect(warehouse.db_path(args.db), read_only=read_only)
    try:
        yield con
    finally:
        con.close()


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A live page/row counter on a terminal; nothing when output is piped or logged."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=True
    ) as bar:
        task = bar.add_task(label)

        def update(pages: int, rows: int) -> None:
            bar.update(task, description=f"{label}: {pages} pages, {rows:,} rows")

        yield update


@command
def cmd_collect(args: argparse.Namespace) -> int:
    options = sources.Options(
        mode=args.mode,
        start=args.start,
        end=args.end,
        page_size=args.page_size,
        base_url=args.base_url,
    )
    path = warehouse.db_path(args.db)
    with _open(args) as con, HttpClient() as client, _progress(args.source) as progress:
        result = collect(con, Archive.beside(path), client, args.source, options, progress=progress)
    c = result.counts
    print(
        f"{result.source}: {result.requests} requests, {c.seen:,} rows seen, "
        f"{c.new:,} new, {c.changed:,} changed, {c.unchanged:,} unchanged (run {result.run_id})"
    )
    return 0


@command
def cmd_rebuild(args: argparse.Namespace) -> int:
    archive = Archive.beside(warehouse.db_path(args.db))
    with _open(args) as con:
        results = rebuild(con, archive, args.sources or None, skip_damaged=args.skip_damaged)
    for slug, result in results.items():
        print(
            f"{slug}: {result.counts.seen:,} rows replayed, {result.counts.written:,} versions; "
            f"{result.rows_after:,} current rows (before: {result.rows_before:,})"
        )
        for damage in result.skipped:
            print(f"  skipped {damage}: its rows were not reloaded")
    if not results:
        print(f"nothing to rebuild: no captures in {archive.root}")
    elif error := next(iter(results.values())).claims_error:
        print(f"reloaded, but claims not re-evaluated: {error}")
    return 0


@command
def cmd_sql(args: argparse.Namespace) -> int:
    if not args.query.strip().strip(";").strip():
        raise ConfigError("sql", "expected a query (SELECT ...), found an empty one")
    with _reading(args, files=args.allow_files, read_only=True) as con:
        try:
            cursor = con.execute(args.query)
            if cursor is None or cursor.description is None:
                return 0
            columns = [column[0] for column in cursor.description]
            rows = cursor.fetchmany(args.max_rows + 1)
        except duckdb.Error as exc:
            raise SanctuaryWatchError(_query_error("query failed", args, exc)) from None
    print_table(columns, rows[: args.max_rows])
    if len(rows) > args.max_rows:
        print(f"(more than {args.max_rows} rows; raise --max-rows)")
    return 0


SOURCES_SQL = """
SELECT s.slug AS source, f.last_success, f.stale_since, coalesce(f.consecutive_failures, 0),
       st.complete_through
FROM (SELECT unnest(?) AS slug) s
LEFT JOIN source_freshness f ON f.source = s.slug
LEFT JOIN source_state st ON st.source = s.slug
ORDER BY s.slug
"""


@command
def cmd_sources(args: argparse.Namespace) -> int:
    modules = sources.all_sources()
    with _reading(args) as con:
        rows = []
        found = con.execute(SOURCES_SQL, [list(modules)]).fetchall()
        for slug, last, stale, failed, _through in found:
            count = sum(_current_rows(con, table) for table in modules[slug].TABLES)
            spans, gaps = _coverage(con, modules[slug])
            rows.append((slug, modules[slug].PUBLISHER, last, stale, count, spans, gaps, failed))
    print_table(
        [
            "source",
            "publisher",
            "last success",
            "stale since",
            "rows",
            "event dates covered",
            "gaps",
            "failures in a row",
        ],
        rows,
    )
    return 0


def _coverage(con: duckdb.DuckDBPyConnection, module: Any) -> tuple[str, str]:
    """Covered event dates and the gaps between the source's first day and the newest covered
    one; blank for a source that does not track coverage."""
    if not hasattr(module, "covered"):
        return "", ""
    spans = coverage.covered(con, module.SLUG)
    if not spans:
        return "unknown (no run recorded it)", ""
    first = datetime.combine(module.FIRST_DAY, datetime.min.time())
    return coverage.spans(spans), coverage.spans(coverage.gaps(spans, first, spans[-1].end))


def _current_rows(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0


@command
def cmd_demo(args: argparse.Namespace) -> int:
    from . import report  # matplotlib and pyarrow load only for commands that draw or export

    path = warehouse.db_path(args.db)
    with _open(args) as con:
        for result in demo.run(con, Archive.beside(path)):
            c = result.counts
            print(
                f"loaded {result.source}: {c.seen:,} rows from {result.requests} recorded "
                f"responses ({c.new:,} new, {c.changed:,} changed, {c.unchanged:,} unchanged)"
            )
        print()
        print_table(["comparison", "this year", "last year"], demo.comparisons(con))
        print("\nDOJ releases and speeches about sanctuary jurisdictions, and whom they name:")
        print_table(["date", "kind", "title", "jurisdictions named"], demo.doj_summary(con))
        print()
        results = claims.evaluate_all(con)
        print_ledger(results)
        written = report.write_report(con, DEFAULT_REPORT, evaluations=results)
    print(f"\nwarehouse: {Path(path).resolve()}\nreport:    {written.resolve()}")
    return 0


def print_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Cells are literal text: a "[/x]" in a value is not rich markup."""
    table = Table(show_lines=False)
    for column in columns:
        table.add_column(Text(column))
    for row in rows:
        table.add_row(*(Text("" if v is None else str(v)) for v in row))
    console = Console()
    Console(width=console.width if console.is_terminal else 200).print(table)


@command
def cmd_daemon(args: argparse.Namespace) -> int:
    from . import daemon, schedule

    plan = schedule.load(args.cron)
    if args.check:
        now = datetime.now(UTC)
        rows = [
            (
                job.name,
                job.schedule,
                job.timezone,
                ", ".join(s.source for s in job.steps),
                " | ".join(
                    f"{t:%a %Y-%m-%d %H:%M:%S %Z}" for t in schedule.next_fire_times(job, now)
                ),
            )
            for job in plan.jobs.values()
        ]
        print_table(["job", "schedule", "time zone", "sources", "next runs"], rows)
        return 0
    daemon.configure_logging(args.verbose)
    path = warehouse.db_path(args.db)
    con = daemon.open_live(path)
    try:
        daemon.abandon_stale_runs(con)
        runner = _runner(con, path, args.replay)
        daemon.publish_snapshot(con, path)
        return daemon.Daemon(plan, runner, run_now=args.run_now).serve()
    finally:
        con.close()


@command
def cmd_run(args: argparse.Namespace) -> int:
    from . import daemon, schedule

    job = schedule.load(args.cron).job(args.job)
    daemon.configure_logging(args.verbose)
    path = warehouse.db_path(args.db)
    con = daemon.open_live(path)
    try:
        daemon.abandon_stale_runs(con)
        report = _runner(con, path, args.replay).run(job)
    finally:
        con.close()
    if job.steps and not report.results and not report.failed:
        waiting = ", ".join(report.skipped) or "none"
        unrecorded = ", ".join(report.not_recorded)
        return fail(
            f"job {job.name!r}: no source succeeded (backing off: {waiting})"
            + (f"; never recorded in the replayed archive: {unrecorded}" if unrecorded else "")
        )
    return 0 if report.ok else 1


def _runner(con: duckdb.DuckDBPyConnection, path: Path, replay: str | None) -> Any:
    """The job runner, answering from a recorded archive when asked (--replay)."""
    from . import daemon

    recorded = daemon.recording(replay)
    return daemon.JobRunner(con, path, daemon.replay_archives(replay), recorded=recorded)


@command
def cmd_claims(args: argparse.Namespace) -> int:
    ledger = claims.load_claims(args.claims)
    unknown = sorted(set(args.id) - {claim.id for claim in ledger})
    if unknown:
        known = ", ".join(claim.id for claim in ledger)
        raise ConfigError("--id", f"no claim {', '.join(map(repr, unknown))}; ids: {known}")
    if args.id:
        ledger = [claim for claim in ledger if claim.id in args.id]
    with _reading(args) as con:
        results = claims.evaluate_all(con, ledger, args.as_of, args.known_on)
    print_ledger(results, args.details)
    return 0


@command
def cmd_report(args: argparse.Namespace) -> int:
    from . import report

    with _reading(args) as con:
        results = claims.evaluate_all(con, None, args.as_of, args.known_on)
        written = report.write_report(
            con, args.out, evaluations=results, as_of=args.as_of, known_on=args.known_on
        )
    print(f"report: {written.resolve()}")
    return 0


@command
def cmd_export(args: argparse.Namespace) -> int:
    from . import export

    if args.lake or not (args.query and args.path):
        return _export_lake(args)
    with _reading(args, files=args.allow_files, read_only=True) as con:
        try:
            written = export.export_query(con, args.query, args.path)
        except duckdb.Error as exc:
            raise SanctuaryWatchError(_query_error("export failed", args, exc)) from None
    print(f"wrote {written}")
    return 0


def _export_lake(args: argparse.Namespace) -> int:
    from . import lake

    if not args.lake or args.query or args.path:
        raise ConfigError("export", "give a query and a file name, or --lake DIR alone")
    with _reading(args, read_only=True) as con:
        written = lake.export_lake(con, args.lake)
    print(f"wrote {sum(written.values()):,} versions of {len(written)} tables to {args.lake}")
    return 0


def print_ledger(results: Sequence[claims.Evaluation], details: bool = False) -> None:
    """The ledger as a table; conflicting claims sit next to each other."""
    order: dict[str, float] = {ev.claim.id: i for i, ev in enumerate(results)}
    for ev in results:
        if ev.claim.conflicts_with in order:
            order[ev.claim.id] = order[ev.claim.conflicts_with] + 0.5
    rows = []
    for ev in sorted(results, key=lambda e: order[e.claim.id]):
        conflict = f" (conflicts with {ev.claim.conflicts_with})" if ev.claim.conflicts_with else ""
        caveats = ", ".join(sorted({c.kind for c in ev.caveats}))
        rows.append(
            (
                ev.claim.id + conflict,
                f"{ev.claim.said_by}, {ev.claim.said_on}",
                ev.verdict,
                ev.reason,  # never cut: the reason is the verdict's evidence
                caveats,
            )
        )
    print_table(["claim", "said by", "verdict", "why", "caveats"], rows)
    if details:
        print(json.dumps([ev.to_dict() for ev in results], indent=1, default=str))


@command
def cmd_compare(args: argparse.Namespace) -> int:
    _check_window(args.offense, args.start, args.end)
    with _reading(args) as con:
        a, b = (_jurisdiction(con, name) for name in (args.a, args.b))
        result = helpers.compare(con, args.offense, a, b, args.start, args.end, args.known_on)
    rows = [(key, figure.label, figure.value) for key, figure in result.items()]
    print_table(["", "what", "value"], rows)
    seen = {(c.kind, c.detail) for figure in result.values() for c in figure.caveats}
    for kind, detail in sorted(seen):
        print(f"caveat [{kind}]: {detail}")
    return 0


def _check_window(offense: str, start: date, end: date) -> None:
    """A known offense over a window that runs forwards: an unknown offense or a reversed
    window would otherwise read as "no data in the warehouse"."""
    from .schemas import OFFENSES

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
    from .jurisdictions import resolve

    found = resolve(con, name)
    if len(found) != 1:
        choices = ", ".join(f"{j.jurisdiction_id} ({j.name})" for j in found) or "none"
        raise SanctuaryWatchError(f"{name!r} is ambiguous or unknown; choose one of: {choices}")
    return found[0].jurisdiction_id


if __name__ == "__main__":
    sys.exit(main())
