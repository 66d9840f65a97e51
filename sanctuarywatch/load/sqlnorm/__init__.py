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

from sanctuarywatch.load.sqlnorm.normaliser import Normaliser, PageTable, Raw
from sanctuarywatch.load.sqlnorm.pages import PageFile, read_files, rows_table
from sanctuarywatch.load.sqlnorm.values import (
    MAX_ROW_BYTES,
    NOT_THE_DATA,
    PARQUET,
    Column,
    boolean,
    clean,
    cleaning_sql,
    integer,
    literal,
    local_to_utc,
    number,
    padded,
    point,
    quoted,
    text,
    timestamp,
    value_of,
)

__all__ = [
    "MAX_ROW_BYTES",
    "NOT_THE_DATA",
    "PARQUET",
    "Column",
    "Normaliser",
    "PageFile",
    "PageTable",
    "Raw",
    "boolean",
    "clean",
    "cleaning_sql",
    "integer",
    "literal",
    "local_to_utc",
    "number",
    "padded",
    "point",
    "quoted",
    "read_files",
    "rows_table",
    "text",
    "timestamp",
    "value_of",
]
