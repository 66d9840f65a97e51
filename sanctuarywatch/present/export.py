"""CSV, Parquet and JSON export of helper results, claim evaluations and SQL queries; Arrow,
pandas and polars for Python.

Results are turned into an Arrow table (pyarrow is already a dependency) and written by DuckDB's
COPY, so the files match what the duckdb CLI would write and no pandas is needed. A Figure's
nested parts (inputs, caveats, evidence) go into JSON text columns: CSV has no nesting, and one
schema for both formats means a CSV and a Parquet file of the same result read back the same.
JSON keeps the nesting instead: a helper's result is written as its `to_dict()` (for claims,
the complete evaluation of docs/ledger-json.md), a query's rows as an array of objects.

`to_pandas` and `to_polars` need the `pandas` or `polars` extra; without it they say which
to install.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from sanctuarywatch.errors import ConfigError
from sanctuarywatch.query.claims import Evaluation
from sanctuarywatch.query.helpers import Figure

FORMATS = ("csv", "parquet", "json")
ENDINGS = ".json, .csv or .parquet"
Exportable = Figure | Evaluation | Sequence[Figure] | Sequence[Evaluation] | Mapping[str, Figure]

FIGURE_SCHEMA = pa.schema(
    [
        ("name", pa.string()),
        ("label", pa.string()),
        ("value", pa.float64()),
        ("caveat_kinds", pa.string()),
        ("inputs", pa.string()),
        ("caveats", pa.string()),
        ("evidence", pa.string()),
    ]
)
EVALUATION_SCHEMA = pa.schema(
    [
        ("claim_id", pa.string()),
        ("quote", pa.string()),
        ("said_by", pa.string()),
        ("said_on", pa.date32()),
        ("article", pa.string()),
        ("stated", pa.string()),
        ("comparison", pa.string()),
        ("conflicts_with", pa.string()),
        ("verdict", pa.string()),
        ("reason", pa.string()),
        ("compared_on", pa.date32()),
        ("known_on", pa.date32()),
        ("caveat_kinds", pa.string()),
        ("values", pa.string()),
        ("caveats", pa.string()),
        ("checks", pa.string()),
    ]
)


def _json(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


def _figure_row(figure: Figure, name: str | None) -> dict[str, Any]:
    data = figure.to_dict()
    return {
        "name": name,
        "label": figure.label,
        "value": None if figure.value is None else float(figure.value),
        "caveat_kinds": "; ".join(sorted({c.kind for c in figure.caveats})),
        "inputs": _json(data["inputs"]),
        "caveats": _json(data["caveats"]),
        "evidence": _json(data["evidence"]),
    }


def _evaluation_row(ev: Evaluation) -> dict[str, Any]:
    data = ev.to_dict()
    values = [{"label": f.label, "value": f.value} for check in ev.checks for f in check.figures]
    return {
        "claim_id": ev.claim.id,
        "quote": ev.claim.quote,
        "said_by": ev.claim.said_by,
        "said_on": ev.claim.said_on,
        "article": ev.claim.article,
        "stated": ev.claim.stated,
        "comparison": ev.claim.comparison,
        "conflicts_with": ev.claim.conflicts_with,
        "verdict": ev.verdict,
        "reason": ev.reason,
        "compared_on": ev.compared_on,
        "known_on": ev.known_on,
        "caveat_kinds": "; ".join(sorted({c.kind for c in ev.caveats})),
        "values": _json(values),
        "caveats": _json([asdict(c) for c in ev.caveats]),
        "checks": _json(data["checks"]),
    }


class MissingExtra(ConfigError, ImportError):
    """An optional library is not installed; the message names the extra that brings it."""


def to_arrow(result: Exportable) -> pa.Table:
    """An Arrow table of a helper's result: one row per Figure (a dict such as ytd()'s keeps
    its keys in `name`), or one row per claim for evaluations (`to_pandas` and `to_polars`
    give the same rows as DataFrames)."""
    if isinstance(result, Figure):
        return pa.Table.from_pylist([_figure_row(result, None)], schema=FIGURE_SCHEMA)
    if isinstance(result, Evaluation):
        return pa.Table.from_pylist([_evaluation_row(result)], schema=EVALUATION_SCHEMA)
    if isinstance(result, Mapping):
        return pa.Table.from_pylist(
            [_figure_row(f, k) for k, f in result.items()], schema=FIGURE_SCHEMA
        )
    items = list(result)
    if items and all(isinstance(item, Evaluation) for item in items):
        return pa.Table.from_pylist(
            [_evaluation_row(e) for e in items],  # type: ignore[arg-type]
            schema=EVALUATION_SCHEMA,
        )
    if all(isinstance(item, Figure) for item in items):
        return pa.Table.from_pylist(
            [_figure_row(f, None) for f in items],  # type: ignore[arg-type]
            schema=FIGURE_SCHEMA,
        )
    raise TypeError(
        "expected Figures, a mapping of Figures, or Evaluations; "
        f"got {sorted({type(item).__name__ for item in items})}"
    )


def to_pandas(result: Exportable) -> Any:
    """A pandas DataFrame of `to_arrow(result)` (needs the pandas extra)."""
    _need("pandas")
    return to_arrow(result).to_pandas()


def to_polars(result: Exportable) -> Any:
    """A polars DataFrame of `to_arrow(result)` (needs the polars extra)."""
    polars = _need("polars")
    return polars.from_arrow(to_arrow(result))


def _need(module: str) -> Any:
    """The optional module, or an error that says how to install it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(
            f"to_{module}", f"needs {module}: pip install 'sanctuarywatch[{module}]'"
        ) from None


def to_json(result: Exportable) -> Any:
    """A helper's result as JSON types: a Figure's or an Evaluation's `to_dict()`, a list
    of them, or for a mapping (ytd()'s) an object by key."""
    if isinstance(result, Figure | Evaluation):
        return result.to_dict()
    if isinstance(result, Mapping):
        return {key: figure.to_dict() for key, figure in result.items()}
    items = list(result)
    dicts = [item.to_dict() for item in items if isinstance(item, Figure | Evaluation)]
    if len(dicts) == len(items):
        return dicts
    raise TypeError(
        "expected Figures, a mapping of Figures, or Evaluations; "
        f"got {sorted({type(item).__name__ for item in items})}"
    )


def _format(path: Path, fmt: str | None) -> str:
    """The format named, else the file's suffix: a wrong guess should fail loudly, not write CSV
    into a .parquet file. Checked before anything is written or created."""
    if path.is_dir():
        raise ConfigError(str(path), f"is a folder; expected a file name ending in {ENDINGS}")
    chosen = (fmt or path.suffix.lstrip(".")).lower()
    if chosen not in FORMATS:
        raise ConfigError(
            str(path),
            f"unknown export format {chosen or '(no extension)'!r}; "
            f"expected a file name ending in {ENDINGS}",
        )
    return chosen


def _copy_options(fmt: str) -> str:
    return {
        "csv": "FORMAT csv, HEADER true",
        "json": "FORMAT json, ARRAY true",
        "parquet": "FORMAT parquet, COMPRESSION zstd",
    }[fmt]


def _target(out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def export(result: Exportable, path: str | Path, fmt: str | None = None) -> Path:
    """Write a helper's result as CSV or Parquet (rows of `to_arrow`) or JSON (`to_json`),
    by `fmt`, else the file's suffix."""
    kind = _format(Path(path), fmt)
    if kind == "json":
        text = json.dumps(to_json(result), indent=1, ensure_ascii=False, default=str)
        out = _target(Path(path))
        out.write_text(text + "\n", encoding="utf-8")
        return out
    return _write(to_arrow(result), Path(path), kind)


def _write(rows: pa.Table | pa.RecordBatchReader, path: Path, kind: str) -> Path:
    """COPY the rows to the file from a private in-memory database: the only place an export
    touches the file system, so the caller's connection may have file access off."""
    out = _target(path)
    with duckdb.connect() as con:
        con.register("export_result", rows)
        con.execute(f"COPY export_result TO {_literal(out)} ({_copy_options(kind)})")
    return out


def export_query(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    path: str | Path,
    params: Sequence[Any] | Mapping[str, Any] | None = None,
    fmt: str | None = None,
) -> Path:
    """Write any query's result as CSV, Parquet or JSON (an array of objects, one per row).
    The query runs on the caller's connection, so it sees the same warehouse (and macros);
    its rows stream as Arrow to `_write`, so the query itself needs no file access (the CLI
    runs it with none: daemon.deny_files)."""
    kind = _format(Path(path), fmt)
    statements = duckdb.extract_statements(sql)
    if [s.type for s in statements] != [duckdb.StatementType.SELECT]:
        raise ConfigError("export", f"expected one SELECT query, found {sql!r}")
    relation = con.sql(sql.strip().rstrip(";"), params=params)
    return _write(relation.to_arrow_reader(), Path(path), kind)
