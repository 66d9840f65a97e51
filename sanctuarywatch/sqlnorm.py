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
    """One warehouse column: its SQL value, the SQL text of its problem (NULL when fine), and
    the raw fields it reads cleaned (see `clean`)."""

    name: str
    value: str
    problem: str | None = None
    cleans: tuple[str, ...] = ()


def clean(field: str) -> str:
    """The field with blanks ('', 'nan', 'NaN') as NULL. `normalize` computes it once per
    field in an inner query. It is not trimmed (trimming every value made pages several times
    slower): DuckDB's casts ignore surrounding whitespace, and flags and codes trim their own."""
    return quoted(f"~{field}")


def _cleaning(field: str) -> str:
    return f"CASE WHEN {quoted(field)} IN ('', 'nan', 'NaN') THEN NULL ELSE {quoted(field)} END"


def value_of(name: str) -> str:
    """A column's computed value, as problems refer to it (computed once, then tested)."""
    return quoted(f"={name}")


def _checked(
    name: str,
    field: str,
    value: str,
    what: str,
    required: bool = False,
    also_null: str | None = None,
) -> Column:
    """A column whose non-blank raw value must parse; blank is NULL (or a problem if required).
    The tests after the first run only on rows whose value came out NULL, so they cost little;
    `also_null` is raw text that may read as NULL ('unknown' for a flag)."""
    raw = clean(field)
    blank = f"{raw} IS NULL OR trim({raw}, {literal(_SPACE)}) IN ('', 'nan', 'NaN')"
    missing = literal(f"no {field}") if required else "NULL"
    allowed = f"WHEN lower(trim({raw})) = {literal(also_null)} THEN NULL " if also_null else ""
    bad = f"{literal(f'{field}: not {what}: ')} || {quoted(field)}"
    problem = (
        f"CASE WHEN {value_of(name)} IS NOT NULL THEN NULL WHEN {blank} THEN {missing} "
        f"{allowed}ELSE {bad} END"
    )
    return Column(name, value, problem, (field,))


def text(name: str, field: str | None = None, empty_is_null: bool = False) -> Column:
    """The value as sent (empty kept as '' unless `empty_is_null`)."""
    value = quoted(field or name)
    return Column(name, f"nullif({value}, '')" if empty_is_null else value)


def integer(
    name: str, field: str | None = None, sql_type: str = "INTEGER", required: bool = False
) -> Column:
    """'18', '18.0' (pandas) and 18 give 18; '18.5' is a problem, not 19."""
    field = field or name
    number = f"TRY_CAST({clean(field)} AS DOUBLE)"
    value = (
        f"CASE WHEN {number} = trunc({number}) THEN "
        f"coalesce(TRY_CAST({clean(field)} AS {sql_type}), TRY_CAST({number} AS {sql_type})) "
        "END"
    )
    return _checked(name, field, value, "a whole number", required)


def number(name: str, field: str | None = None) -> Column:
    field = field or name
    return _checked(name, field, f"TRY_CAST({clean(field)} AS DOUBLE)", "a number")


def boolean(name: str, field: str | None = None) -> Column:
    """true/t/y/yes/1 and false/f/n/no/0 in any case; 'unknown' is NULL, anything else bad."""
    field = field or name
    flag = f"lower(trim({clean(field)}))"
    value = (
        f"CASE WHEN {flag} IN ('true', 't', 'y', 'yes', '1') THEN true "
        f"WHEN {flag} IN ('false', 'f', 'n', 'no', '0') THEN false END"
    )
    return _checked(name, field, value, "a boolean", also_null="unknown")


def timestamp(name: str, field: str | None = None, required: bool = False) -> Column:
    """SODA floating time or the portal CSV's US format, as naive local time. DuckDB reads
    years Python cannot hold (year 0, found by fuzzing): outside 0001-9999 is not a time."""
    field = field or name
    raw = clean(field)
    parsed = (
        f"CASE WHEN contains({raw}, '/') THEN try_strptime({raw}, {literal(_US_TIMESTAMP)}) "
        f"ELSE TRY_CAST(rtrim({raw}, 'Z') AS TIMESTAMP) END"
    )
    value = (
        f"CASE WHEN ({parsed}) BETWEEN TIMESTAMP '0001-01-02' AND TIMESTAMP '9999-12-30' "
        f"THEN ({parsed}) END"
    )
    return _checked(name, field, value, "a timestamp", required)


def padded(name: str, width: int, field: str | None = None) -> Column:
    """Beat and district codes: '221', '221.0' and '0221' all give '0221' for width 4."""
    field = field or name
    raw = f"trim({clean(field)})"
    code = (
        f"CASE WHEN regexp_full_match({raw}, '[0-9]+\\.0+') THEN split_part({raw}, '.', 1) "
        f"ELSE {raw} END"
    )
    value = f"CASE WHEN length({code}) >= {width} THEN {code} ELSE lpad({code}, {width}, '0') END"
    return Column(name, f"nullif({value}, '')", None, (field,))


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
        return Column(column.name, value, column.problem, (latitude, longitude))

    return [coordinate(lat, 1), coordinate(lon, 0)]


def local_to_utc(local: str, zone: str) -> str:
    """Wall-clock time in `zone` to TIMESTAMPTZ; an hour that happens twice (autumn) is read
    as its first occurrence, as Python's zoneinfo does (fold=0), so older loads hash alike."""
    first = f"timezone({literal(zone)}, {local})"
    earlier = f"({first} - INTERVAL 1 HOUR)"
    return (
        f"CASE WHEN timezone({literal(zone)}, {earlier}) = {local} THEN {earlier} ELSE {first} END"
    )


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
    cleaned = dict.fromkeys(field for c in columns for field in c.cleans)
    cleaning = "".join(f", {_cleaning(f)} AS {clean(f)}" for f in cleaned)
    values = "".join(f", {c.value} AS {value_of(c.name)}" for c in columns)
    named = ", ".join(f"{value_of(c.name)} AS {quoted(c.name)}" for c in columns)
    extra = "".join(f", {c.value} AS {quoted(c.name)}" for c in derived)
    sql = (
        f"SELECT *{extra} FROM ("
        f"SELECT {named}, coalesce({', '.join(problems) or 'NULL'}) AS _problem, "
        f"CAST({quoted(key)} AS VARCHAR) AS _key FROM ("
        f"SELECT *{values} FROM (SELECT *{cleaning} FROM raw)))"
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
