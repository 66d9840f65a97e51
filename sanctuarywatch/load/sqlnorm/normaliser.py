"""The normaliser: a source's `Column`s over page files, as one DuckDB query, with every
row's problems checked per page (see the package's docstring for the value rules)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

import duckdb

from sanctuarywatch.errors import LayoutError, RecordError, SanctuaryWatchError
from sanctuarywatch.load.sqlnorm.pages import (
    PageFile,
    read_files,
    rows_table,
)
from sanctuarywatch.load.sqlnorm.values import (
    NOT_THE_DATA,
    PARQUET,
    Column,
    clean,
    cleaning_sql,
    literal,
    quoted,
    value_of,
)

if TYPE_CHECKING:  # pyarrow (~36 MB) is imported only where Arrow is made: loading page
    import pyarrow as pa  # files never needs it

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
        cleaning = "".join(f", {cleaning_sql(f)} AS {clean(f)}" for f in cleaned)
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
        except NOT_THE_DATA:
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
