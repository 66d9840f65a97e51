"""The command line's arguments: every command's options and help, and the types that check
dates and numbers before a command runs (a bad date says "expected YYYY-MM-DD")."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from sanctuarywatch import __version__
from sanctuarywatch.cli.common import DEFAULT_REPORT
from sanctuarywatch.output import FORMATS

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
    _as_of(p)
    _known_on(p)
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
    _as_of(p)
    _known_on(p)


def _chart(sub: Subparsers) -> None:
    p = _command(sub, "chart", CHART_HELP)
    p.add_argument(
        "--out",
        metavar="DIR",
        help=f"write chart.png and chart.svg in DIR (default {DEFAULT_REPORT.parent}/)",
    )
    p.add_argument("--png", metavar="FILE", help="write the PNG to FILE (instead of --out)")
    p.add_argument("--svg", metavar="FILE", help="write the SVG to FILE (instead of --out)")
    _as_of(p, "the cut-off day (YYYY-MM-DD; default: the day of the first year-to-date claim)")
    _known_on(p)


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
    _known_on(p)
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


def _as_of(
    p: argparse.ArgumentParser,
    text: str = "move year-to-date comparisons to this day (YYYY-MM-DD)",
) -> None:
    p.add_argument("--as-of", type=iso_date, help=text)


def _known_on(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--known-on",
        type=known_on,
        help="use the data as observed by the end of this day (YYYY-MM-DD), or at an ISO timestamp",
    )


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
