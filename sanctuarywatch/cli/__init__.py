"""The `sanctuarywatch` command: loading (demo, collect, rebuild, run, daemon: `cli.load`)
and reading (claims, compare, sources, sql, export, report, chart: `cli.read`); `cli.args`
builds the parser and COMMAND_HELP lists the commands for --help; `cli.common` holds what
the commands share (opening the warehouse, one-line errors).

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
import sys
from collections.abc import Sequence

from sanctuarywatch import logs
from sanctuarywatch.cli import load, read
from sanctuarywatch.cli.args import (
    COMMAND_HELP,
    DB_HELP,
    description,
    iso_date,
    known_on,
    parser,
    positive,
)
from sanctuarywatch.cli.common import COMMANDS, fail, warehouse_error
from sanctuarywatch.output import FORMATS

__all__ = [
    "COMMANDS",
    "COMMAND_HELP",
    "DB_HELP",
    "FORMATS",
    "description",
    "fail",
    "iso_date",
    "known_on",
    "load",
    "main",
    "parser",
    "positive",
    "read",
]
log = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logs.configure(args.verbose, jobs=args.command in logs.JOB_COMMANDS)
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
        return fail(warehouse_error(warehouse.db_path(args.db), exc))
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
