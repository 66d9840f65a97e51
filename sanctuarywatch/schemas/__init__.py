"""What a user's files must look like: claims files, job options and published-figure rows.

Each shape is a pydantic model, so a wrong value is refused where it is read, with the file,
the line and the key, and what was expected, instead of surfacing later as a traceback or,
worse, as a wrong verdict (`tolerance_pct: -50` once turned an exact match into
`contradicted`). The code that uses the values keeps reading plain dicts; the models only
decide whether a file may be used.

YAML is read by `read_yaml`: UTF-8 only, a repeated key is an error (PyYAML would keep the
last one silently), and dates stay text so that `2017-06-31` reaches the schema, which can say
where it is, instead of failing inside PyYAML with a bare ValueError.
"""

from sanctuarywatch.schemas.base import (
    OFFENSES,
    RELATIONS,
    UNKNOWN_KEY,
    Shape,
    describe,
    error_loc,
    first_error,
)
from sanctuarywatch.schemas.claims import CHECK_KINDS, ClaimEntry, ClaimsFile, check_claims
from sanctuarywatch.schemas.options import FigureRow, JobOptions, check_figure, check_options
from sanctuarywatch.schemas.yamlfile import locate, read_text, read_yaml

__all__ = [
    "CHECK_KINDS",
    "OFFENSES",
    "RELATIONS",
    "UNKNOWN_KEY",
    "ClaimEntry",
    "ClaimsFile",
    "FigureRow",
    "JobOptions",
    "Shape",
    "check_claims",
    "check_figure",
    "check_options",
    "describe",
    "error_loc",
    "first_error",
    "locate",
    "read_text",
    "read_yaml",
]
