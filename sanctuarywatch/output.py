"""How the command line prints results: a table for a person, plain rows for a program.

`--format` picks one of FORMATS; without it a terminal gets `table` and a pipe gets `tsv`,
so `sanctuarywatch sql ... | cut -f2` works and nobody parses box drawing. The formats
differ in who reads them:

    table      rich table that wraps (never cuts) to the terminal's width; jurisdiction
               names and inclusive dates ("Jan 1 - Aug 16, 2017")
    markdown   the same words as a pipe table, for an issue or a note
    tsv, csv   one line per row with a header: ids and windows as stored (half-open,
               "2017-01-01 00:00 to 2017-08-17 00:00"), tab or comma separated
    json       the complete objects (ids, ISO dates, every field); see docs/ledger-json.md

Only a little of the standard library is imported at load (rich and csv by the functions
that use them), so `sanctuarywatch --help` stays fast.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import IO, Any

FORMATS = ("table", "tsv", "csv", "json", "markdown")
TEXT_FORMATS = ("table", "markdown")  # for people: names and inclusive dates

_DAY = r"\d{4}-\d{2}-\d{2}"
_ID = re.compile(r"\b(?:agency|place|county|state):[A-Za-z0-9]+\b")
_INSTANTS = re.compile(rf"({_DAY}) (\d{{2}}:\d{{2}}) to ({_DAY}) (\d{{2}}:\d{{2}})")
_EXCLUSIVE = re.compile(rf"({_DAY}) to ({_DAY}) \(exclusive\)")
_THE_WINDOW = re.compile(rf"(the window )({_DAY}) to ({_DAY})")
_COLLECTED = re.compile(rf"(collected(?: for|:) )({_DAY} to {_DAY}(?:, {_DAY} to {_DAY})*)")
_SPAN = re.compile(rf"({_DAY}) to ({_DAY})")
_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def chosen(fmt: str | None, stream: IO[str] | None = None) -> str:
    """The format asked for; else a table on a terminal and TSV into a pipe or file."""
    if fmt:
        return fmt
    return "table" if (stream or sys.stdout).isatty() else "tsv"


# --- dates and names, for people ---------------------------------------------------------


def day(value: date) -> str:
    """'Aug 16, 2017'."""
    return f"{value:%b} {value.day}, {value.year}"


def window(start: datetime | date, end: datetime | date) -> str:
    """A half-open window [start, end) as people say it: the last day included ('Jan 1 -
    Aug 16, 2017' for 2017-01-01 to 2017-08-17); instants keep their times ('Jun 30 17:00
    to Jul 5 06:00, 2017')."""
    if _midnight(start) and _midnight(end):
        first, last = _as_date(start), _as_date(end) - timedelta(days=1)
        if last <= first:
            return day(first)
        if first.year == last.year:
            return f"{first:%b} {first.day} - {day(last)}"
        return f"{day(first)} - {day(last)}"
    if start.year == end.year:
        return f"{start:%b} {start.day} {start:%H:%M} to {end:%b} {end.day} {end:%H:%M}, {end.year}"
    return f"{day(start)} {start:%H:%M} to {day(end)} {end:%H:%M}"


def _midnight(value: datetime | date) -> bool:
    return not isinstance(value, datetime) or value.time() == datetime.min.time()


def _as_date(value: datetime | date) -> date:
    return value.date() if isinstance(value, datetime) else value


def humanise(text: str, names: Mapping[str, str]) -> str:
    """Text written for the record (ids, half-open ISO windows) as a person reads it: each
    known jurisdiction id by its name, each window the library marks as half-open by its
    inclusive dates. Windows whose ends are inclusive already (a range of document dates)
    carry no such mark and are left alone."""
    text = _INSTANTS.sub(lambda m: window(_at(m[1], m[2]), _at(m[3], m[4])), text)
    text = _EXCLUSIVE.sub(lambda m: window(_on(m[1]), _on(m[2])), text)
    text = _THE_WINDOW.sub(lambda m: m[1] + window(_on(m[2]), _on(m[3])), text)
    text = _COLLECTED.sub(lambda m: m[1] + _spans(m[2]), text)
    return _ID.sub(lambda m: names.get(m[0], m[0]), text)


def _spans(text: str) -> str:
    return _SPAN.sub(lambda m: window(_on(m[1]), _on(m[2])), text)


def _on(text: str) -> date:
    return date.fromisoformat(text)


def _at(day_text: str, time_text: str) -> datetime:
    return datetime.fromisoformat(f"{day_text}T{time_text}")


# --- rows --------------------------------------------------------------------------------


def write_rows(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str, out: IO[str] | None = None
) -> None:
    """Rows as tsv, csv, markdown or json (a list of objects, one per row)."""
    out = out or sys.stdout
    if fmt == "json":
        write_json([dict(zip(columns, row, strict=True)) for row in rows], out)
    elif fmt == "csv":
        import csv

        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_cell(v) for v in row] for row in rows])
    elif fmt == "markdown":
        out.write(markdown(columns, rows))
    else:
        for row in [columns, *rows]:
            out.write("\t".join(_cell(v).translate(_TSV_ESCAPES) for v in row) + "\n")


def markdown(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A pipe table; a cell's own pipes are escaped and its line breaks kept as <br>."""
    lines = [columns, ["---"] * len(columns), *rows]
    return "".join("| " + " | ".join(_md_cell(v) for v in line) + " |\n" for line in lines)


def _md_cell(value: Any) -> str:
    return _cell(value).replace("|", "\\|").replace("\r\n", "<br>").replace("\n", "<br>")


def _cell(value: Any) -> str:
    """A value as text: nothing for null; nested values as JSON (as in exported CSV)."""
    if value is None:
        return ""
    if isinstance(value, list | dict | tuple):
        return json.dumps(plain(value), ensure_ascii=False)
    return str(value)


def write_json(value: Any, out: IO[str] | None = None) -> None:
    (out or sys.stdout).write(json.dumps(plain(value), indent=1, ensure_ascii=False) + "\n")


def plain(value: Any) -> Any:
    """JSON types: ISO text for dates and times, numbers for decimals, text for the rest
    (UUIDs, intervals); lists and objects recursively."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


# --- tables ------------------------------------------------------------------------------


def print_table(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    max_widths: Mapping[str, int] | None = None,
) -> None:
    """A table that fits the terminal (COLUMNS when not one; 80 by default): cells wrap at
    spaces, every column at least as wide as its longest word, so nothing is cut or split
    (a word wider than the whole terminal folds, never an ellipsis). `max_widths` keeps a
    column narrow, leaving the room to the one with the most to say. Cells are literal
    text: a "[/x]" in a value is not rich markup."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    cells = [[_cell(v) for v in row] for row in rows]
    widths = fit_widths([columns, *cells], console.width - 3 * len(columns) - 1, max_widths)
    table = Table()
    for column, width in zip(columns, widths, strict=True):
        table.add_column(Text(column), overflow="fold", width=width)
    for row in cells:
        table.add_row(*map(Text, row))
    console.print(table)


def fit_widths(
    lines: Sequence[Sequence[str]], room: int, max_widths: Mapping[str, int] | None = None
) -> list[int]:
    """Column widths (text only) for `lines` (the header first) within `room`: each column
    gets its longest word, then the spare room goes, a character at a time, to the
    narrowest column still short of its longest line: short columns show whole, long ones
    share the rest. rich's own fitting shrinks the widest columns first, below their
    longest word, and then splits words."""
    from rich.cells import cell_len

    columns = list(zip(*lines, strict=True))
    least = [max(cell_len(w) for cell in col for w in cell.split() or [""]) for col in columns]
    most = [
        max(cell_len(line) for cell in col for line in cell.splitlines() or [""]) for col in columns
    ]
    for i, name in enumerate(lines[0]):
        if (limit := (max_widths or {}).get(name)) is not None:
            most[i] = max(least[i], min(most[i], limit))
    if sum(most) <= room:
        return most
    widths, spare = list(least), room - sum(least)
    short = [i for i in range(len(widths)) if widths[i] < most[i]]
    while spare > 0 and short:
        narrowest = min(short, key=lambda i: widths[i])
        widths[narrowest] += 1
        spare -= 1
        short = [i for i in short if widths[i] < most[i]]
    return widths


def print_note(text: str) -> None:
    """A line after a table, wrapped to the same width; literal text, as the cells."""
    from rich.console import Console
    from rich.text import Text

    Console().print(Text(text))
