"""Normalising whole pages in DuckDB: text fields in, typed warehouse columns out.

Why SQL and not a Python function per row: a portal page is 50,000 rows, and turning each
value into a Python object and back cost most of a load's time (BENCHMARKS.md). DuckDB reads
the page bytes itself (`read_json`) and normalises every column in one vectorised query, so
the collector holds one page as Arrow columns, never as millions of dicts.

A source describes its record as a list of `Column`s built with the helpers below; each
knows the raw field it reads and what makes a value bad. A value that is present but cannot
be read ('12.5' for a ward, 'maybe' for a flag) is never silently loaded as NULL: it becomes
a RecordError naming the row's key, the field and the value.

Value rules (the same for the portal's JSON and both CSV dialects):
- blank means NULL, '', whitespace, 'nan' or 'NaN' (pandas writes those);
- whole numbers may be written '18' or '18.0'; codes are zero-padded ('221.0' -> '0221');
- flags read true/t/y/yes/1 and false/f/n/no/0 in any case; '', 'unknown', 'nan' are NULL;
- timestamps are ISO (a trailing Z dropped: SODA floating time) or `MM/DD/YYYY hh:mm:ss AM`.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from .errors import LayoutError, RecordError

_SPACE = " \t\n\r\x0b\x0c"
_US_TIMESTAMP = "%m/%d/%Y %I:%M:%S %p"


def quoted(name: str) -> str:
    """A field name as a SQL identifier (SODA system fields start with a colon)."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Column:
    """One warehouse column: its SQL value, and the SQL text of a problem (NULL when fine)."""

    name: str
    value: str
    problem: str | None = None


def _trimmed(field: str) -> str:
    return f"trim({quoted(field)}, {literal(_SPACE)})"


def blank(field: str) -> str:
    return f"({quoted(field)} IS NULL OR {_trimmed(field)} IN ('', 'nan', 'NaN'))"


def _checked(name: str, field: str, value: str, what: str, required: bool = False) -> Column:
    """A column whose non-blank raw value must parse; blank is NULL (or a problem if required)."""
    bad = f"{literal(f'{field}: not {what}: ')} || {quoted(field)}"
    missing = f"WHEN {blank(field)} THEN {literal(f'no {field}')} " if required else ""
    problem = f"CASE {missing}WHEN NOT {blank(field)} AND ({value}) IS NULL THEN {bad} END"
    return Column(name, f"CASE WHEN {blank(field)} THEN NULL ELSE {value} END", problem)


def text(name: str, field: str | None = None, empty_is_null: bool = False) -> Column:
    """The value as sent (empty kept as '' unless `empty_is_null`)."""
    value = quoted(field or name)
    return Column(name, f"nullif({value}, '')" if empty_is_null else value)


def integer(
    name: str, field: str | None = None, sql_type: str = "INTEGER", required: bool = False
) -> Column:
    """'18', '18.0' (pandas) and 18 give 18; '18.5' is a problem, not 19."""
    field = field or name
    number = f"TRY_CAST({_trimmed(field)} AS DOUBLE)"
    value = (
        f"CASE WHEN {number} = trunc({number}) THEN "
        f"coalesce(TRY_CAST({_trimmed(field)} AS {sql_type}), TRY_CAST({number} AS {sql_type})) "
        "END"
    )
    return _checked(name, field, value, "a whole number", required)


def number(name: str, field: str | None = None) -> Column:
    field = field or name
    return _checked(name, field, f"TRY_CAST({_trimmed(field)} AS DOUBLE)", "a number")


def boolean(name: str, field: str | None = None) -> Column:
    field = field or name
    flag = f"lower({_trimmed(field)})"
    value = (
        f"CASE WHEN {flag} IN ('true', 't', 'y', 'yes', '1') THEN true "
        f"WHEN {flag} IN ('false', 'f', 'n', 'no', '0') THEN false END"
    )
    unknown = f"lower({_trimmed(field)}) = 'unknown'"
    column = _checked(name, field, value, "a boolean")
    problem = f"CASE WHEN NOT ({unknown}) THEN {column.problem} END"
    return Column(name, column.value, problem)


def timestamp(name: str, field: str | None = None, required: bool = False) -> Column:
    """SODA floating time or the portal CSV's US format, as naive local time."""
    field = field or name
    raw = _trimmed(field)
    value = (
        f"CASE WHEN contains({raw}, '/') THEN try_strptime({raw}, {literal(_US_TIMESTAMP)}) "
        f"ELSE TRY_CAST(rtrim({raw}, 'Z') AS TIMESTAMP) END"
    )
    return _checked(name, field, value, "a timestamp", required)


def padded(name: str, width: int, field: str | None = None) -> Column:
    """Beat and district codes: '221', '221.0' and '0221' all give '0221' for width 4."""
    field = field or name
    raw = _trimmed(field)
    code = f"CASE WHEN regexp_full_match({raw}, '[0-9]+\\.0+') THEN split_part({raw}, '.', 1) ELSE {raw} END"
    value = f"CASE WHEN length({code}) >= {width} THEN {code} ELSE lpad({code}, {width}, '0') END"
    return Column(name, f"CASE WHEN {blank(field)} THEN NULL ELSE {value} END")


def point(latitude: str = "latitude", longitude: str = "longitude") -> list[Column]:
    """latitude/longitude fields, else the GeoJSON `location` point ([lon, lat])."""
    lat, lon, location = number(latitude), number(longitude), quoted("location")
    from_location = (
        f"(({lat.value}) IS NULL OR ({lon.value}) IS NULL) AND json_valid({location}) "
        f"AND starts_with(ltrim({location}), '{{')"
    )

    def coordinate(column: Column, index: int) -> Column:
        path = literal(f"$.coordinates[{index}]")
        value = (
            f"CASE WHEN {from_location} THEN TRY_CAST(json_extract_string({location}, {path}) "
            f"AS DOUBLE) ELSE {column.value} END"
        )
        return Column(column.name, value, column.problem)

    return [coordinate(lat, 1), coordinate(lon, 0)]


def local_to_utc(local: str, zone: str) -> str:
    """Wall-clock time in `zone` to TIMESTAMPTZ; an hour that happens twice (autumn) is read
    as its first occurrence, as Python's zoneinfo does (fold=0), so older loads hash alike."""
    first = f"timezone({literal(zone)}, {local})"
    earlier = f"({first} - INTERVAL 1 HOUR)"
    return f"CASE WHEN timezone({literal(zone)}, {earlier}) = {local} THEN {earlier} ELSE {first} END"


# ---- reading pages ------------------------------------------------------------------------


def read_json_rows(source: str, where: str, body: bytes, fields: Sequence[str]) -> pa.Table:
    """A JSON array of objects as an Arrow table of `fields`, every value as text (objects
    as their JSON). Fields a row lacks are NULL (SODA leaves out nulls); other fields are
    dropped. Anything that is not such an array is a LayoutError naming what came."""
    columns = "{" + ", ".join(f"{literal(f)}: 'VARCHAR'" for f in fields) + "}"
    with _scratch(body) as path, duckdb.connect() as con:
        try:
            return con.sql(
                "SELECT * FROM read_json($path, format = 'array', records = true, "
                f"columns = {columns}, maximum_object_size = 67108864)",
                params={"path": path},
            ).to_arrow_table()
        except (duckdb.Error, UnicodeDecodeError) as exc:  # DuckDB quotes undecodable bytes
            detail = str(exc).splitlines()[0][:200]
            raise LayoutError(
                source, where, "a JSON array of objects", f"invalid JSON ({detail})"
            ) from None


@contextlib.contextmanager
def _scratch(body: bytes) -> Iterator[str]:
    """The body in a temporary file: DuckDB reads files several times faster than buffers."""
    handle, path = tempfile.mkstemp(suffix=".json", prefix="sanctuarywatch-page-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(body)
        yield path
    finally:
        os.unlink(path)


def rows_table(rows: Iterable[dict[str, Any]], fields: Sequence[str]) -> pa.Table:
    """Rows already parsed (a CSV file, test data) as the same all-text table as JSON pages."""
    schema = pa.schema([pa.field(f, pa.string()) for f in fields])
    return pa.Table.from_pylist([{f: _text(row.get(f)) for f in fields} for row in rows], schema)


def _text(value: Any) -> str | None:
    """A parsed value written as read_json writes it as VARCHAR (JSON spelling)."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, default=str)


def require(source: str, where: str, table: pa.Table, fields: Sequence[str]) -> None:
    """Every row has the fields the normaliser relies on; else say which are missing."""
    for name in fields:
        missing = table.column(name).null_count
        if missing:
            raise LayoutError(
                source,
                where,
                f"fields {', '.join(fields)} in every row",
                f"{missing} of {table.num_rows} rows without {name} (renamed or dropped?)",
            )


# ---- normalising --------------------------------------------------------------------------


def normalize(
    source: str,
    raw: pa.Table,
    columns: Sequence[Column],
    derived: Sequence[Column] = (),
    key: str = "id",
) -> pa.Table:
    """Run the columns over a page in DuckDB; the first problem found is a RecordError."""
    problems = [c.problem for c in columns if c.problem]
    base = ", ".join(f"{c.value} AS {quoted(c.name)}" for c in columns)
    extra = "".join(f", {c.value} AS {quoted(c.name)}" for c in derived)
    sql = (
        f"SELECT *{extra} FROM (SELECT {base}, coalesce({', '.join(problems) or 'NULL'}) "
        f"AS _problem, CAST({quoted(key)} AS VARCHAR) AS _key FROM raw)"
    )
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")  # instants come out in UTC, whatever the machine
        con.register("raw", raw)
        try:
            table = con.sql(sql).to_arrow_table()
        except (duckdb.Error, UnicodeDecodeError) as exc:  # e.g. a year ICU cannot place
            raise RecordError(source, "page", "?", str(exc).splitlines()[0][:200]) from None
    _raise_first_problem(source, table)
    return table.drop_columns(["_problem", "_key"])


def _raise_first_problem(source: str, table: pa.Table) -> None:
    bad = table.filter(pc.is_valid(table.column("_problem")))
    if bad.num_rows:
        first = bad.slice(0, 1).to_pylist()[0]
        raise RecordError(source, "row", str(first["_key"] or "?"), first["_problem"])
