"""Normalising whole pages in DuckDB: text fields in, typed warehouse columns out.

Why SQL and not a Python function per row: a portal page is 20,000 rows, and turning each
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
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

import duckdb

from sanctuarywatch.errors import LayoutError, RecordError, SanctuaryWatchError

if TYPE_CHECKING:  # pyarrow (~36 MB) is imported only where Arrow is made: loading page
    import pyarrow as pa  # files never needs it

_SPACE = " \t\n\r\x0b\x0c"
_US_TIMESTAMP = "%m/%d/%Y %I:%M:%S %p"
# The largest row object DuckDB will read (a portal row is a few KB). DuckDB sizes each file's
# read buffer from it, so at 64 MB four page files at once needed more than a load's memory.
MAX_ROW_BYTES = 4 * 1024 * 1024
# DuckDB errors that say nothing about the page (found when a 128 MB load limit was reported
# as "bad record '?'")
_NOT_THE_DATA = (duckdb.OutOfMemoryException, duckdb.IOException, duckdb.InterruptException)
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


# ---- reading pages ------------------------------------------------------------------------


class PageFile:
    """A JSON page in a scratch file, for DuckDB to read where the page is loaded.

    DuckDB reads files several times faster than buffers, and a page read by the loading
    connection itself never becomes Python or Arrow objects at all. `counted` is how many rows
    the fetcher counted in the bytes (for paging, before anything parsed them); the load checks
    it against what DuckDB reads. The file goes when `close` is called or the page is dropped.
    """

    def __init__(
        self,
        source: str,
        where: str,
        body: bytes,
        fields: Sequence[str],
        counted: int | None = None,
    ) -> None:
        self.source, self.where, self.fields, self.counted = source, where, tuple(fields), counted
        handle, self.path = tempfile.mkstemp(suffix=".json", prefix="sanctuarywatch-page-")
        self._remove = weakref.finalize(self, _unlink, self.path)
        with os.fdopen(handle, "wb") as out:
            out.write(body)

    @property
    def num_rows(self) -> int:
        return self.counted or 0

    def layout_error(self, exc: BaseException) -> LayoutError:
        detail = str(exc).splitlines()[0][:200]
        return LayoutError(
            self.source, self.where, "a JSON array of objects", f"invalid JSON ({detail})"
        )

    def close(self) -> None:
        self._remove()


def read_files(pages: Sequence[PageFile]) -> str:
    """Page files as one relation (DuckDB reads them in parallel): every field as text
    (objects as their JSON), fields a row lacks as NULL (SODA leaves out nulls), other fields
    dropped, and `_file` naming the file each row came from."""
    columns = "{" + ", ".join(f"{literal(f)}: 'VARCHAR'" for f in pages[0].fields) + "}"
    paths = "[" + ", ".join(literal(page.path) for page in pages) + "]"
    return (
        f"read_json({paths}, format = 'array', records = true, columns = {columns}, "
        f"maximum_object_size = {MAX_ROW_BYTES}, filename = '_file')"
    )


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def rows_table(rows: Iterable[dict[str, Any]], fields: Sequence[str]) -> pa.Table:
    """Rows already parsed (a CSV file, test data) as the same all-text table as JSON pages."""
    import pyarrow as pa

    schema = pa.schema([pa.field(f, pa.string()) for f in fields])
    return pa.Table.from_pylist([{f: _text(row.get(f)) for f in fields} for row in rows], schema)


def _text(value: Any) -> str | None:
    """A parsed value written as read_json writes it as VARCHAR (JSON spelling)."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, default=str)


# ---- normalising --------------------------------------------------------------------------

Raw: TypeAlias = "PageFile | Sequence[PageFile] | pa.Table | Sequence[dict[str, Any]]"


@dataclass(frozen=True)
class PageTable:
    """Normalised pages as a relation of the connection that normalised them (a temp table,
    or a staged batch's Parquet file); the `_file` column says which page file each row came
    from ('' for rows not from a file)."""

    con: duckdb.DuckDBPyConnection
    name: str
    rows: int

    def __len__(self) -> int:
        return self.rows

    def max(self, column: str) -> Any:
        return self.con.execute(f"SELECT max({quoted(column)}) FROM {self.name}").fetchall()[0][0]


@dataclass(frozen=True)
class Normaliser:
    """How one source's raw fields become one table's records, as one DuckDB query.

    `inputs` are raw fields computed from others before anything is read; `required` are raw
    fields every row must have (missing ones mean a renamed or dropped field: a LayoutError);
    `key` names the row in a RecordError.
    """

    source: str
    table: str
    fields: tuple[str, ...]
    columns: tuple[Column, ...]
    derived: tuple[Column, ...] = ()
    key: str = "id"
    required: tuple[str, ...] = ()
    inputs: tuple[Column, ...] = ()

    def sql(self, raw: str) -> str:
        """The query over relation `raw` (which has a `_file` column): named columns, derived
        columns, and the internal `_file`, `_problem`, `_key` and `_absent:<field>` columns
        the checks read."""
        problems = [c.problem for c in self.columns if c.problem]
        cleaned = dict.fromkeys(field for c in self.columns for field in c.cleans)
        inputs = "".join(f", {c.value} AS {quoted(c.name)}" for c in self.inputs)
        cleaning = "".join(f", {_cleaning(f)} AS {clean(f)}" for f in cleaned)
        values = "".join(f", {c.value} AS {value_of(c.name)}" for c in self.columns)
        named = ", ".join(f"{value_of(c.name)} AS {quoted(c.name)}" for c in self.columns)
        absent = "".join(
            f", {quoted(f)} IS NULL AS {quoted('_absent:' + f)}" for f in self.required
        )
        extra = "".join(f", {c.value} AS {quoted(c.name)}" for c in self.derived)
        return (
            f"SELECT *{extra} FROM ("
            f"SELECT {named}, _file, coalesce({', '.join(problems) or 'NULL'}) AS _problem, "
            f"coalesce(CAST({quoted(self.key)} AS VARCHAR), '?') AS _key{absent} FROM ("
            f"SELECT *{values} FROM (SELECT *{cleaning} FROM (SELECT *{inputs} FROM {raw}))))"
        )

    def into(self, con: duckdb.DuckDBPyConnection, raw: Raw, name: str) -> PageTable:
        """Normalise `raw` (page files, or rows) into temp table `name` of `con`. The first
        problem is raised: LayoutError for a page, RecordError for a row, each naming the
        page's URL."""
        files = _page_files(raw)
        arrow = None if files else _as_table(raw, self.fields)
        relation = read_files(files) if files else f"(SELECT *, '' AS _file FROM {name}_raw)"
        if arrow is not None:
            con.register(f"{name}_raw", arrow)
        try:
            self._run(con, f"CREATE OR REPLACE TEMP TABLE {name} AS {self.sql(relation)}", files)
        finally:
            if arrow is not None:
                con.unregister(f"{name}_raw")
        return PageTable(con, name, self._check(con, name, files))

    def copy(
        self,
        con: duckdb.DuckDBPyConnection,
        files: Sequence[PageFile],
        shape: Callable[[str], str],
        path: str,
        params: dict[str, Any] | None = None,
    ) -> PageTable:
        """Normalise page files straight into a Parquet file at `path`, the query wrapped by
        `shape` (the stage adds provenance and the record hash; `params` are its parameters).
        The rows are written once and read back only as the checks need them; then the same
        problems as `into` are raised."""
        written = f"COPY ({shape(self.sql(read_files(files)))}) TO {literal(path)} {PARQUET}"
        self._run(con, written, files, params)
        relation = f"read_parquet({literal(path)})"
        return PageTable(con, relation, self._check(con, relation, files))

    def _run(
        self,
        con: duckdb.DuckDBPyConnection,
        statement: str,
        files: Sequence[PageFile],
        params: dict[str, Any] | None = None,
    ) -> None:
        try:
            con.execute(statement, params)
        except _NOT_THE_DATA:
            raise  # out of memory, disk full, interrupted: the machine's trouble, said as such
        except (duckdb.Error, UnicodeDecodeError) as exc:  # DuckDB quotes undecodable bytes
            raise self._failure(files, exc) from None

    def records(self, raw: Raw) -> pa.Table:
        """`raw` normalised in a scratch DuckDB, as Arrow (tests, CSV files, rebuild checks)."""
        with duckdb.connect() as con:
            con.execute("SET TimeZone = 'UTC'")  # instants come out in UTC, whatever the machine
            page = self.into(con, raw, "page")
            internal = ["_file", "_problem", "_key", *(f"_absent:{f}" for f in self.required)]
            return con.table(page.name).to_arrow_table().drop_columns(internal)

    def _failure(self, files: Sequence[PageFile], exc: BaseException) -> SanctuaryWatchError:
        """A failed query is a page's fault if DuckDB cannot even read it (which one is found
        by reading each), else a value's (e.g. a year ICU cannot place)."""
        with duckdb.connect() as scratch:  # `con` may be in a transaction the error aborted
            for page in files:
                try:
                    scratch.execute(f"SELECT count(*) FROM {read_files([page])}").fetchall()
                except (duckdb.Error, UnicodeDecodeError) as unreadable:
                    return page.layout_error(unreadable)
        where = files[0].where if len(files) == 1 else "page"
        return RecordError(self.source, where, "?", str(exc).splitlines()[0][:200])

    def _check(self, con: duckdb.DuckDBPyConnection, name: str, files: Sequence[PageFile]) -> int:
        """Per page: rows as counted, then missing fields, then the bad value with the lowest
        key. Return the rows."""
        missing = "".join(f", count(*) FILTER ({quoted('_absent:' + f)})" for f in self.required)
        found = {
            file: (total, key, problem, absent)
            for file, total, key, problem, *absent in con.execute(
                f"SELECT _file, count(*), min(_key) FILTER (_problem IS NOT NULL), "
                f"arg_min(_problem, _key) FILTER (_problem IS NOT NULL){missing} "
                f"FROM {name} GROUP BY _file"
            ).fetchall()
        }
        pages = {page.path: page for page in files}
        for file in [page.path for page in files] or [""]:
            page = pages.get(file)
            total, key, problem, absent = found.get(file, (0, None, None, []))
            where = page.where if page else "page"
            if page and page.counted is not None and page.counted != total:
                raise LayoutError(
                    self.source, where, f"{page.counted} rows (as counted by :id)", f"{total} rows"
                )
            for field, count in zip(self.required, absent, strict=False):
                if count:
                    raise LayoutError(
                        self.source,
                        where,
                        f"fields {', '.join(self.required)} in every row",
                        f"{count} of {total} rows without {field} (renamed or dropped?)",
                    )
            if problem is not None:
                raise RecordError(self.source, where, key, problem)
        return sum(int(row[0]) for row in found.values())


def _page_files(raw: Raw) -> list[PageFile]:
    if isinstance(raw, PageFile):
        return [raw]
    if isinstance(raw, Sequence) and raw and all(isinstance(p, PageFile) for p in raw):
        return list(raw)
    return []


def _as_table(raw: Raw, fields: Sequence[str]) -> pa.Table:
    import pyarrow as pa

    return raw if isinstance(raw, pa.Table) else rows_table(raw, fields)  # type: ignore[arg-type]
