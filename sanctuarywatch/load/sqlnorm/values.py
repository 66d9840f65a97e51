"""The value rules: a source's `Column`s and the SQL that reads each raw field (see the
package's docstring for the rules), and the small SQL helpers every part shares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:  # pyarrow (~36 MB) is imported only where Arrow is made: loading page
    pass  # files never needs it

_SPACE = " \t\n\r\x0b\x0c"
_US_TIMESTAMP = "%m/%d/%Y %I:%M:%S %p"
# The largest row object DuckDB will read (a portal row is a few KB). DuckDB sizes each file's
# read buffer from it, so at 64 MB four page files at once needed more than a load's memory.
MAX_ROW_BYTES = 4 * 1024 * 1024
# DuckDB errors that say nothing about the page (found when a 128 MB load limit was reported
# as "bad record '?'")
NOT_THE_DATA = (duckdb.OutOfMemoryException, duckdb.IOException, duckdb.InterruptException)
# A load's staged batches: read soon and once, so not compressed; small row groups, so a
# join on keys skips most of them by their min/max
PARQUET = "(FORMAT parquet, COMPRESSION uncompressed, ROW_GROUP_SIZE 16384)"


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


def cleaning_sql(field: str) -> str:
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
        f"CASE WHEN {_one_of(flag, ('true', 't', 'y', 'yes', '1'))} THEN true "
        f"WHEN {_one_of(flag, ('false', 'f', 'n', 'no', '0'))} THEN false END"
    )
    return _checked(name, field, value, "a boolean", also_null="unknown")


def _one_of(value: str, texts: Sequence[str]) -> str:
    """`value IN (texts)` spelt as ORs: DuckDB plans an IN list of five or more as a join
    against the list, for every row of the page (two flags: ~15% of a page's normalising)."""
    return "(" + " OR ".join(f"{value} = {literal(t)}" for t in texts) + ")"


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
