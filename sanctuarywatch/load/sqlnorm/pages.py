"""Pages as DuckDB reads them: a JSON page in a scratch file (`PageFile`), the SQL that
reads page files, and rows given as Python dicts turned into Arrow."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import weakref
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sanctuarywatch.errors import LayoutError
from sanctuarywatch.load.sqlnorm.values import (
    MAX_ROW_BYTES,
    literal,
)

if TYPE_CHECKING:  # pyarrow (~36 MB) is imported only where Arrow is made: loading page
    import pyarrow as pa  # files never needs it

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
