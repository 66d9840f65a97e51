"""The `sanctuarywatch` command: loading (demo, collect, rebuild, run, daemon) and reading
(claims, compare, sources, sql, export, report); COMMAND_HELP lists them for --help.

Each command is a small function over the library; the library does the work, views.py
shapes what the read commands print and output.py prints it in the format asked for. Errors the
project raises are printed as one line (they already name the source, URL and what was
expected) and exit with status 1.

Imports of the library (duckdb, httpx, rich, yaml) happen inside the commands that use them:
`sanctuarywatch --help` and a mistyped option answer in a fraction of the time a command
takes to load them.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sanctuarywatch import __version__
from sanctuarywatch.output import FORMATS

if TYPE_CHECKING:
    import duckdb

    from sanctuarywatch.load.coverage import Window
    from sanctuarywatch.scheduling.daemon import JobRunner

Command = Callable[[argparse.Namespace], int]
DEFAULT_REPORT = Path("report") / "index.html"
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2100, 12, 31)  # compare's window must fit here
# warehouse.DB_ENV and warehouse.DEFAULT_DB, spelled out so that --help needs no duckdb
# (tests/test_cli_formats.py checks they agree)
DB_HELP = "warehouse file (default $SANCTUARYWATCH_DB, else warehouse/sanctuarywatch.duckdb)"
FORMAT_HELP = (
    "table (the default on a terminal: names, inclusive dates), tsv (the default in a pipe), "
    "csv, json (complete, with ids) or markdown"
)
READ_COMMANDS = {
    "claims": "every claim re-computed: verdict, why, caveats",
    "compare": "one offense in two jurisdictions over the same window",
    "sources": "each source: last success, rows, event dates covered, gaps",
    "sql": "run a query against the warehouse and print the result",
    "export": "write a query's result to CSV, Parquet or JSON (or the lake: --lake DIR)",
    "report": "write the HTML report: the ledger, evidence and chart",
    "chart": "write the year-to-date chart as PNG and SVG files",
}
LOAD_COMMANDS = {
    "demo": "build the warehouse from the bundled recorded archive (offline) and show it",
    "collect": "fetch one source and load it (needs internet)",
    "rebuild": "re-parse the raw archive and reload, fetching nothing",
    "run": "run one job of cron.yaml once (for the system cron)",
    "daemon": "run the jobs of cron.yaml on their schedule until SIGTERM",
}
COMMAND_HELP = {**READ_COMMANDS, **LOAD_COMMANDS}
OUTPUT_HELP = """\
claims, compare, sources and sql print a table on a terminal and tab-separated rows in a
pipe; --format table, tsv, csv, json or markdown chooses. Dates are YYYY-MM-DD.
`sanctuarywatch COMMAND --help` shows a command's options."""
SQL_HELP = """\
The query reads the warehouse and nothing else: no file or network access (read_text,
COPY ... TO, ATTACH, INSTALL fail), unless --allow-files. While a daemon holds the warehouse,
it reads the snapshot the daemon publishes after every job (<db dir>/snapshots/<db name>);
the same lock for the duckdb CLI there: start with
SET enable_external_access = false; SET lock_configuration = true;"""
CHART_HELP = """\
Murders from January 1, this year against last, read at the cut-off day, for every
jurisdiction with data: every point is a count the claims ledger computes, partial counts
marked as such. The same chart as the report's."""
OFFENSES_HELP = "murder, homicide, shooting_victim, shooting_homicide or violent_crime"
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
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    """The command, with the project's errors as one line and exit status 1."""
    import duckdb

    from sanctuarywatch.errors import SanctuaryWatchError
    from sanctuarywatch.load import warehouse

    try:
        return COMMANDS[args.command](args)
    except SanctuaryWatchError as exc:
        return fail(str(exc))
    except duckdb.Error as exc:
        log.debug("warehouse error", exc_info=True)
        return fail(_warehouse_error(warehouse.db_path(args.db), exc))
    except BrokenPipeError:  # `... | head` stopped reading: not an error of ours
        _silence_stdout()
        return 1
    except OSError as exc:
        log.debug("file error", exc_info=True)
        return fail(f"{exc.filename or 'file'}: {exc.strerror or exc}")


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so flushing at exit raises no second BrokenPipeError."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def fail(message: str) -> int:
    """The error as one line on stderr, exit status 1. The text is printed literally: a
    "[il_chicago_crimes]" prefix or a "[/x]" in a path is not rich markup; soft wrap keeps
    it one line however narrow the terminal."""
    from rich.console import Console
    from rich.text import Text

    Console(stderr=True, soft_wrap=True, highlight=False).print(
        Text.assemble(("error:", "red"), " ", message)
    )
    return 1


def _query_error(what: str, args: argparse.Namespace, exc: duckdb.Error) -> str:
    """A user's query failed: because of the query, or because the warehouse is damaged."""
    import duckdb

    from sanctuarywatch.load import warehouse

    path = warehouse.db_path(args.db)
    if isinstance(exc, duckdb.IOException) and path.name in str(exc):
        return _warehouse_error(path, exc)
    return f"{what}: {exc}"


def _warehouse_error(path: Path, exc: duckdb.Error) -> str:
    """A DuckDB failure outside a user's query: an I/O error (also one met while committing)
    means the file is damaged."""
    import duckdb

    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, duckdb.IOException) or "Could not read enough bytes" in first:
        return (
            f"warehouse {path} cannot be read ({first}): the file is damaged or truncated; "
            "move it aside, and `sanctuarywatch rebuild` reloads it from the raw archive"
        )
    return f"warehouse {path}: {first}"


# --- arguments ---------------------------------------------------------------------------


def description() -> str:
    """The top help: what the tool does and every command, grouped by what it does."""

    def listed(title: str, commands: dict[str, str]) -> str:
        return f"{title}:\n" + "".join(f"  {name:<9} {text}\n" for name, text in commands.items())

    return (
        "Re-checks official claims about crime and immigration policy against the sources.\n\n"
        + listed("read the warehouse", READ_COMMANDS)
        + "\n"
        + listed("load it", LOAD_COMMANDS)
        + "\n"
        + OUTPUT_HELP
    )


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="sanctuarywatch",
        description=description(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action="version", version=__version__)
    top.add_argument("--db", help=DB_HELP)
    top.add_argument(
        "-v", "--verbose", action="store_true", help="log everything, with debug detail"
    )
    sub = top.add_subparsers(
        dest="command", required=True, metavar="COMMAND", help="one of the commands above"
    )
    for add in (
        _collect,
        _rebuild,
        _sql,
        _sources,
        _demo,
        _claims,
        _report,
        _chart,
        _export,
        _compare,
    ):
        add(sub)
    _jobs(sub)
    return top


Subparsers = Any  # argparse's _SubParsersAction, private in typeshed


def _command(sub: Subparsers, name: str, more: str = "") -> argparse.ArgumentParser:
    """A command's parser; its description is the line the top help lists, and `more`."""
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        description=COMMAND_HELP[name] + (f"\n\n{more}" if more else ""),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def _collect(sub: Subparsers) -> None:
    p = _command(sub, "collect")
    p.add_argument("source", choices=SourceNames(), metavar="SOURCE", help="one of: %(choices)s")
    p.add_argument(
        "--mode",
        choices=("incremental", "backfill"),
        default="incremental",
        help="incremental: what changed since the last run (default); backfill: a window",
    )
    p.add_argument("--start", type=iso_date, help="backfill from this day (inclusive)")
    p.add_argument("--end", type=iso_date, help="backfill to this day (exclusive)")
    p.add_argument("--page-size", type=positive, help="rows per request (the source's default)")
    p.add_argument("--base-url", help="another endpoint with the same protocol (tests, mirrors)")


def _rebuild(sub: Subparsers) -> None:
    p = _command(sub, "rebuild")
    p.add_argument(
        "sources", nargs="*", metavar="SOURCE", help="default: every source in the archive"
    )
    p.add_argument(
        "--skip-damaged",
        action="store_true",
        help="leave out captures that cannot be read back (named), instead of stopping",
    )


def _sql(sub: Subparsers) -> None:
    p = _command(sub, "sql", SQL_HELP)
    p.add_argument("query", help="one or more SQL statements; the last one's rows are printed")
    p.add_argument(
        "--max-rows", type=positive, default=50, help="print at most this many rows (50)"
    )
    p.add_argument("--allow-files", action="store_true", help="let the query read and write files")
    _format(p)


def _sources(sub: Subparsers) -> None:
    p = _command(sub, "sources")
    _format(p)


def _demo(sub: Subparsers) -> None:
    _command(sub, "demo", "Writes warehouse/sanctuarywatch.duckdb (or --db) and report/.")


def _claims(sub: Subparsers) -> None:
    p = _command(sub, "claims")
    p.add_argument(
        "--as-of", type=iso_date, help="move year-to-date comparisons to this day (YYYY-MM-DD)"
    )
    p.add_argument(
        "--known-on",
        type=known_on,
        help="use the data as observed by the end of this day (YYYY-MM-DD), or at an ISO timestamp",
    )
    p.add_argument(
        "--claims", action="append", default=[], help="a YAML file of your own claims (repeatable)"
    )
    p.add_argument("--id", action="append", default=[], help="only this claim (repeatable)")
    p.add_argument(
        "--details",
        action="store_true",
        help="also every figure with its caveats (json always has them, and the evidence)",
    )
    _format(p)


def _report(sub: Subparsers) -> None:
    p = _command(sub, "report")
    p.add_argument("--out", default=str(DEFAULT_REPORT), help=f"default {DEFAULT_REPORT}")
    p.add_argument(
        "--as-of", type=iso_date, help="move year-to-date comparisons to this day (YYYY-MM-DD)"
    )
    p.add_argument(
        "--known-on",
        type=known_on,
        help="the data as observed by the end of this day, or at an ISO timestamp",
    )


def _chart(sub: Subparsers) -> None:
    p = _command(sub, "chart", CHART_HELP)
    p.add_argument(
        "--out",
        metavar="DIR",
        help=f"write chart.png and chart.svg in DIR (default {DEFAULT_REPORT.parent}/)",
    )
    p.add_argument("--png", metavar="FILE", help="write the PNG to FILE (instead of --out)")
    p.add_argument("--svg", metavar="FILE", help="write the SVG to FILE (instead of --out)")
    p.add_argument(
        "--as-of",
        type=iso_date,
        help="the cut-off day (YYYY-MM-DD; default: the day of the first year-to-date claim)",
    )
    p.add_argument(
        "--known-on",
        type=known_on,
        help="the data as observed by the end of this day, or at an ISO timestamp",
    )


def _export(sub: Subparsers) -> None:
    p = _command(sub, "export", SQL_HELP.replace("The query reads", "The query (one SELECT) reads"))
    p.add_argument("query", nargs="?", help="one SELECT")
    p.add_argument("path", nargs="?", help="ends in .csv, .parquet or .json")
    p.add_argument(
        "--allow-files", action="store_true", help="let the query read files (read_csv ...)"
    )
    p.add_argument(
        "--lake",
        metavar="DIR",
        help="instead of a query: every _versions table as Hive-partitioned Parquet in DIR",
    )


def _compare(sub: Subparsers) -> None:
    p = _command(sub, "compare")
    p.add_argument("offense", help=OFFENSES_HELP)
    p.add_argument("a", help="a jurisdiction id (agency:ILCPD0000) or name (Chicago)")
    p.add_argument("b", help="the other jurisdiction, the same way")
    p.add_argument("--start", type=iso_date, required=True, help="first day (YYYY-MM-DD)")
    p.add_argument("--end", type=iso_date, required=True, help="the day after the last (exclusive)")
    p.add_argument(
        "--known-on",
        type=known_on,
        help="the data as observed by the end of this day, or at an ISO timestamp",
    )
    _format(p)


def _jobs(sub: Subparsers) -> None:
    for name in ("daemon", "run"):
        p = _command(sub, name)
        if name == "run":
            p.add_argument("job", help="a job name in cron.yaml (chicago_daily, doj, ...)")
        p.add_argument("--cron", help="schedule file (default $SANCTUARYWATCH_CRON or ./cron.yaml)")
        p.add_argument(
            "--replay",
            help="answer from a recorded archive folder instead of the network; 'bundled': "
            "the demo's, each source with the options it was recorded with",
        )
        if name == "daemon":
            p.add_argument("--check", action="store_true", help="check cron.yaml, show next runs")
            p.add_argument("--run-now", action="store_true", help="also run every job at start")


def _format(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=FORMATS, help=FORMAT_HELP)


class SourceNames:
    """collect's choices, looked up only when collect's argument is checked or its help
    shown: the list lives in sanctuarywatch.sources, whose import loads httpx."""

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    @staticmethod
    def _names() -> tuple[str, ...]:
        from sanctuarywatch.sources import SOURCE_MODULES

        return SOURCE_MODULES


def iso_date(text: str) -> date:
    """A day as YYYY-MM-DD (date.fromisoformat alone also takes 20170816 and 2017-W33-3)."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
        raise ValueError("not YYYY-MM-DD")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected a date as YYYY-MM-DD (2017-08-16), not {text!r} ({exc})"
        ) from None


def known_on(text: str) -> date | datetime:
    """--known-on: a day (its end, UTC) or an instant (ISO 8601; no zone means UTC)."""
    try:
        return iso_date(text) if len(text) == 10 else datetime.fromisoformat(text)
    except (ValueError, argparse.ArgumentTypeError):
        raise argparse.ArgumentTypeError(
            "expected a date as YYYY-MM-DD (2017-08-16) or a timestamp "
            f"(2017-08-16T12:00:00+00:00), not {text!r}"
        ) from None


def positive(text: str) -> int:
    """A whole number of at least 1 (--max-rows, --page-size)."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, not {text!r}")
    return int(text)


# --- the warehouse -----------------------------------------------------------------------


@contextmanager
def _reading(
    args: argparse.Namespace, files: bool = True, read_only: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse for a command that only reads. A missing file is an error, never a new
    empty warehouse (whose every claim reads `unverifiable`, exit 0); while a daemon holds the
    file, its snapshot; `files=False` for SQL a user typed (daemon.deny_files)."""
    from sanctuarywatch.errors import ConfigError
    from sanctuarywatch.load import warehouse
    from sanctuarywatch.scheduling.daemon import open_for_reading

    path = warehouse.db_path(args.db)
    if str(path) != ":memory:" and not path.is_file():
        raise ConfigError(
            f"no warehouse at {path}", "run `sanctuarywatch demo` or `collect` (or give --db)"
        )
    with closing(open_for_reading(path, read_only=read_only, files=files)) as con:
        yield con


@contextmanager
def _open(args: argparse.Namespace, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    from sanctuarywatch.load import warehouse

    con = warehouse.connect(warehouse.db_path(args.db), read_only=read_only)
    try:
        yield con
    finally:
        con.close()


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A live page/row counter on a terminal; nothing when output is piped or logged."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn

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


def _chosen(args: argparse.Namespace) -> str:
    from sanctuarywatch.output import chosen

    return chosen(args.format)


# --- loading -----------------------------------------------------------------------------


@command
def cmd_collect(args: argparse.Namespace) -> int:
    from sanctuarywatch.collect.run import collect
    from sanctuarywatch.http import HttpClient
    from sanctuarywatch.load import warehouse
    from sanctuarywatch.load.archive import Archive
    from sanctuarywatch.sources import Options

    options = Options(
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
    from sanctuarywatch.collect.run import rebuild
    from sanctuarywatch.load import warehouse
    from sanctuarywatch.load.archive import Archive

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
def cmd_demo(args: argparse.Namespace) -> int:
    from sanctuarywatch import views
    from sanctuarywatch.load import warehouse
    from sanctuarywatch.load.archive import Archive
    from sanctuarywatch.output import print_table
    from sanctuarywatch.present import demo, report
    from sanctuarywatch.query import claims

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
        views.ledger(results, views.names(con)).print("table")
        written = report.write_report(con, DEFAULT_REPORT, evaluations=results)
    print(f"\nwarehouse: {Path(path).resolve()}\nreport:    {written.resolve()}")
    return 0


@command
def cmd_daemon(args: argparse.Namespace) -> int:
    from sanctuarywatch.load import warehouse
    from sanctuarywatch.output import print_table
    from sanctuarywatch.scheduling import daemon, schedule

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
    from sanctuarywatch.load import warehouse
    from sanctuarywatch.scheduling import daemon, schedule

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


def _runner(con: duckdb.DuckDBPyConnection, path: Path, replay: str | None) -> JobRunner:
    """The job runner, answering from a recorded archive when asked (--replay)."""
    from sanctuarywatch.scheduling import daemon

    recorded = daemon.recording(replay)
    return daemon.JobRunner(con, path, daemon.replay_archives(replay), recorded=recorded)


# --- reading -----------------------------------------------------------------------------


@command
def cmd_sql(args: argparse.Namespace) -> int:
    import duckdb

    from sanctuarywatch.errors import ConfigError, SanctuaryWatchError
    from sanctuarywatch.output import print_table, write_rows

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
    fmt = _chosen(args)
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
    with _reading(args) as con:
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
    views.sources(statuses).print(_chosen(args))
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
    with _reading(args) as con:
        results = claims.evaluate_all(con, ledger, args.as_of, args.known_on)
        names = views.names(con)
    views.ledger(results, names, args.details).print(_chosen(args))
    return 0


@command
def cmd_report(args: argparse.Namespace) -> int:
    from sanctuarywatch.present import report
    from sanctuarywatch.query import claims

    with _reading(args) as con:
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
    with _reading(args) as con:
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
    with _reading(args, files=args.allow_files, read_only=True) as con:
        try:
            written = export.export_query(con, args.query, args.path)
        except duckdb.Error as exc:
            raise SanctuaryWatchError(_query_error("export failed", args, exc)) from None
    print(f"wrote {written}")
    return 0


def _export_lake(args: argparse.Namespace) -> int:
    from sanctuarywatch.errors import ConfigError
    from sanctuarywatch.present import lake

    if not args.lake or args.query or args.path:
        raise ConfigError("export", "give a query and a file name, or --lake DIR alone")
    with _reading(args, read_only=True) as con:
        written = lake.export_lake(con, args.lake)
    print(f"wrote {sum(written.values()):,} versions of {len(written)} tables to {args.lake}")
    return 0


@command
def cmd_compare(args: argparse.Namespace) -> int:
    from sanctuarywatch import views
    from sanctuarywatch.query import helpers

    _check_window(args.offense, args.start, args.end)
    with _reading(args) as con:
        a, b = (_jurisdiction(con, name) for name in (args.a, args.b))
        result = helpers.compare(con, args.offense, a, b, args.start, args.end, args.known_on)
        names = views.names(con)
    view = views.comparison(result, a, b, (args.start, args.end), names, args.known_on)
    view.print(_chosen(args))
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


if __name__ == "__main__":
    sys.exit(main())
