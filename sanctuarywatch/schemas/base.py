"""What every shape shares: the value types, `Shape` (known keys only, an unknown one named
with the closest known), and the words an error is reported in."""

from __future__ import annotations

import difflib
import math
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

# What the query helpers can count (warehouse/030 and 033); a test keeps the lists in step.
OFFENSES = ("murder", "homicide", "shooting_victim", "shooting_homicide", "violent_crime")
UNKNOWN_KEY = "unknown_key"
RELATIONS = ("more_than", "at_least", "less_than", "at_most", "about")


# --- value types ---------------------------------------------------------------------------


def _text(value: Any) -> Any:
    """Numbers written bare (`stated: 437`) are text too; lists, mappings and nulls are not."""
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _moment(value: Any) -> str:
    """A day or a local time, as the checks read it (datetime.fromisoformat)."""
    if isinstance(value, date):
        return value.isoformat()
    try:
        datetime.fromisoformat(str(value))
    except ValueError:
        raise ValueError(
            f"expected a date (2017-06-30) or a local time (2017-06-30 17:00), found {value!r}"
        ) from None
    return str(value)


def _day(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"expected a date such as 2017-08-16, found {value!r}") from None


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("expected some text, found an empty value")
    return value


Text = Annotated[str, BeforeValidator(_text), AfterValidator(_not_blank)]
Moment = Annotated[str, BeforeValidator(_moment)]
Day = Annotated[date, BeforeValidator(_day)]
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Percent = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0)]
Year = Annotated[int, Field(strict=True, ge=1800, le=2200)]
Offense = Literal["murder", "homicide", "shooting_victim", "shooting_homicide", "violent_crime"]
Relation = Literal["more_than", "at_least", "less_than", "at_most", "about"]


class Shape(BaseModel):
    """A mapping with known keys: an unknown key is named, with the closest known one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError(f"expected a mapping of keys to values, found {shown(data)}")
        known = sorted(cls.model_fields)
        for key in data:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                message = f"unknown key {key!r}{hint}; expected keys: {', '.join(known)}"
                context = {"message": message, "key": key}
                raise PydanticCustomError(UNKNOWN_KEY, "{message}", context)
        return data


# --- error messages ---------------------------------------------------------------------------


def first_error(exc: ValidationError) -> ErrorDetails:
    """The error to report: an unknown key first (it often explains a missing one), else the
    first in file order."""
    errors = exc.errors()
    unknown = [e for e in errors if e["type"] == UNKNOWN_KEY]
    return (unknown or errors)[0]


def error_loc(error: ErrorDetails) -> tuple[int | str, ...]:
    """Where an error is: for an unknown key, the key itself (so its line is found)."""
    if error["type"] == UNKNOWN_KEY:
        return (*error["loc"], error.get("ctx", {})["key"])
    return tuple(error["loc"])


def describe(error: ErrorDetails) -> str:
    """What was expected and what was found, in words a user of the file can act on."""
    kind, found, ctx = error["type"], error.get("input"), error.get("ctx", {})
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == UNKNOWN_KEY:
        return str(ctx["message"])
    if kind == "missing":
        return "missing (this key is required)"
    if kind == "union_tag_invalid":
        return f"unknown kind {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return "missing key 'kind'"
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected')}, found {shown(found)}"
    if kind in ("float_type", "float_parsing", "int_type", "int_parsing", "int_from_float"):
        whole = "a whole number" if kind.startswith("int") else "a number"
        return f"expected {whole}, found {shown(found)}"
    if kind == "finite_number":
        return f"expected a finite number, found {shown(found)}"
    bounds = {"greater_than_equal": "ge", "greater_than": "gt", "less_than_equal": "le"}
    if kind in bounds:
        sign = {"ge": ">=", "gt": ">", "le": "<="}[bounds[kind]]
        return f"expected a number {sign} {ctx.get(bounds[kind])}, found {shown(found)}"
    if kind == "dict_type":
        return f"expected a mapping (key: value), found {shown(found)}"
    if kind == "list_type":
        return f"expected a list, found {shown(found)}"
    if kind == "too_short":
        return f"expected at least {ctx.get('min_length', 1)} item(s), found none"
    return f"{error['msg'].replace('Input should be', 'expected')}, found {shown(found)}"


def shown(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return repr(value)
