"""What the commands share: the registry they join (`@command`), one-line errors, and the
warehouse opened for reading (never created by a command that only reads) or for loading.

Nothing heavy is imported at load: --help stays fast."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

Command = Callable[[argparse.Namespace], int]
DEFAULT_REPORT = Path("report") / "index.html"
COMMANDS: dict[str, Command] = {}


def command(fn: Command) -> Command:
    """Register `cmd_NAME` as the command NAME."""
    COMMANDS[fn.__name__.removeprefix("cmd_")] = fn
    return fn


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


def query_error(what: str, args: argparse.Namespace, exc: duckdb.Error) -> str:
    """A user's query failed: because of the query, or because the warehouse is damaged."""
    import duckdb

    from sanctuarywatch.load import warehouse

    path = warehouse.db_path(args.db)
    if isinstance(exc, duckdb.IOException) and path.name in str(exc):
        return warehouse_error(path, exc)
    return f"{what}: {exc}"


def warehouse_error(path: Path, exc: duckdb.Error) -> str:
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


@contextmanager
def reading(
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
def open_warehouse(
    args: argparse.Namespace, read_only: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    from sanctuarywatch.load import warehouse

    con = warehouse.connect(warehouse.db_path(args.db), read_only=read_only)
    try:
        yield con
    finally:
        con.close()


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None] | None]:
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


def chosen_format(args: argparse.Namespace) -> str:
    from sanctuarywatch.output import chosen

    return chosen(args.format)
