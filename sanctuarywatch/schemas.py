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

from __future__ import annotations

import difflib
import math
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
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

from sanctuarywatch.errors import ConfigError

# What the query helpers can count (warehouse/030 and 033); a test keeps the lists in step.
OFFENSES = ("murder", "homicide", "shooting_victim", "shooting_homicide", "violent_crime")
UNKNOWN_KEY = "unknown_key"
RELATIONS = ("more_than", "at_least", "less_than", "at_most", "about")
_BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser is 10x faster


class _Loader(_BASE_LOADER):  # type: ignore[misc]
    """Safe YAML that keeps dates as text and refuses a key repeated in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str | int | float | bool) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice in one mapping", key_node.start_mark
                )
            if isinstance(key, str | int | float | bool):
                seen.add(key)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep)
        return mapping


_Loader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)


def read_text(path: Path, what: str) -> str:
    """A file's text; unreadable or non-UTF-8 files are a ConfigError naming the line."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read {what}: {exc.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}, line {line}",
            f"{what}: expected UTF-8 text, found byte 0x{data[exc.start]:02x} "
            "(save the file as UTF-8)",
        ) from None


def read_yaml(path: Path, what: str) -> Any:
    """Parse a YAML file (see the module docstring for what differs from yaml.safe_load)."""
    text = read_text(path, what)
    try:
        return yaml.load(text, Loader=_Loader)  # _Loader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}, line {mark.line + 1}" if mark else str(path)
        duplicate = isinstance(exc, yaml.constructor.ConstructorError)
        detail = exc.problem if duplicate else f"not valid YAML: {exc.problem or exc}"
        raise ConfigError(where, f"{what}: {detail}") from None
    except (yaml.YAMLError, ValueError) as exc:
        raise ConfigError(str(path), f"{what}: not valid YAML: {exc}") from None


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
            raise ValueError(f"expected a mapping of keys to values, found {_shown(data)}")
        known = sorted(cls.model_fields)
        for key in data:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                message = f"unknown key {key!r}{hint}; expected keys: {', '.join(known)}"
                context = {"message": message, "key": key}
                raise PydanticCustomError(UNKNOWN_KEY, "{message}", context)
        return data


# --- claims files ----------------------------------------------------------------------------


class _Compared(Shape):
    """The keys `claims.compare` reads: the stated value and how the figure must relate to it."""

    stated: Number
    relation: Relation = "about"
    tolerance_pct: Percent = 2
    note: Text | None = None


class _CountSpec(Shape):
    kind: Literal["count"]
    jurisdiction: Text
    offense: Offense
    start: Moment
    through: Moment | None = None
    end: Moment | None = None
    ytd: bool = False
    change: bool = False

    @model_validator(mode="after")
    def _window(self) -> _CountSpec:
        """One of `through` (inclusive day) or `end` (exclusive), after `start`."""
        if (self.through is None) == (self.end is None):
            raise ValueError("expected exactly one of 'through' (inclusive) or 'end' (exclusive)")
        start = datetime.fromisoformat(self.start)
        if self.through is not None and datetime.fromisoformat(self.through) < start:
            raise ValueError(f"'through' {self.through} is before 'start' {self.start}")
        if self.end is not None and datetime.fromisoformat(self.end) <= start:
            raise ValueError(f"'end' {self.end} is not after 'start' {self.start}")
        return self


class _PublishedSpec(Shape):
    kind: Literal["published"]
    figure_id: Text


class CountCheck(_CountSpec, _Compared):
    pass


class PublishedCheck(_PublishedSpec, _Compared):
    pass


class _Population(Shape):
    jurisdiction: Text
    year: Year
    vintage: Year | None = None


Spec = Annotated[_CountSpec | _PublishedSpec, Field(discriminator="kind")]


class RatioCheck(_Compared):
    kind: Literal["ratio"]
    a: Spec
    b: Spec
    a_population: _Population | None = None
    b_population: _Population | None = None
    mismatch: Text | None = None

    @model_validator(mode="after")
    def _populations(self) -> RatioCheck:
        if (self.a_population is None) != (self.b_population is None):
            raise ValueError("expected both 'a_population' and 'b_population', or neither")
        return self


class PopulationParityCheck(Shape):
    kind: Literal["population_parity"]
    a: _Population
    b: _Population
    tolerance_pct: Percent = 2
    served_by: Text | None = None


class YearIsMaxCheck(Shape):
    kind: Literal["year_is_max"]
    jurisdiction: Text
    offense: Offense
    year: Year
    since: Year

    @model_validator(mode="after")
    def _order(self) -> YearIsMaxCheck:
        if self.since > self.year:
            raise ValueError(f"'since' {self.since} is after 'year' {self.year}")
        return self


class ArrestShareCheck(Shape):
    kind: Literal["arrest_share"]
    jurisdiction: Text
    year: Year
    against: Text


class DojNamedCheck(Shape):
    kind: Literal["doj_named"]
    jurisdictions: Annotated[list[Text], Field(min_length=1)]
    lead_contains: list[Text] = []


class PolicyEventCheck(Shape):
    kind: Literal["policy_event"]
    event_ids: Annotated[list[Text], Field(min_length=1)]
    on_or_about: Day | None = None


class UnverifiableCheck(Shape):
    kind: Literal["unverifiable"]
    would_need: Text


Check = Annotated[
    CountCheck
    | PublishedCheck
    | RatioCheck
    | PopulationParityCheck
    | YearIsMaxCheck
    | ArrestShareCheck
    | DojNamedCheck
    | PolicyEventCheck
    | UnverifiableCheck,
    Field(discriminator="kind"),
]
CHECK_KINDS = (
    "count",
    "published",
    "ratio",
    "population_parity",
    "year_is_max",
    "arrest_share",
    "doj_named",
    "policy_event",
    "unverifiable",
)


class ClaimEntry(Shape):
    id: Text
    quote: Text
    said_by: Text
    said_on: Day
    article: Text
    stated: Text
    comparison: Text
    checks: Annotated[list[Check], Field(min_length=1)]
    conflicts_with: Text | None = None


class ClaimsFile(Shape):
    claims: list[ClaimEntry]


def check_claims(path: Path, data: Any) -> None:
    """Refuse a claims file that does not fit `ClaimsFile`, naming the line, claim and key."""
    try:
        ClaimsFile.model_validate(data)
    except ValidationError as exc:
        error = first_error(exc)
        key, line = locate(path, error_loc(error), error["type"] in ("missing", UNKNOWN_KEY))
        claim = _claim_id(data, error["loc"])
        where = f"{path}, line {line}" if line else str(path)
        subject = f"claim {claim!r}, " if claim else ""
        key = key.split(".", 1)[1] if claim and "." in key else key
        raise ConfigError(where, f"{subject}key {key or 'top'!r}: {describe(error)}") from None


def _claim_id(data: Any, loc: Sequence[int | str]) -> str | None:
    if len(loc) < 2 or loc[0] != "claims" or not isinstance(loc[1], int):
        return None
    item = data["claims"][loc[1]]
    return str(item["id"]) if isinstance(item, dict) and "id" in item else None


# --- job options -----------------------------------------------------------------------------


def _url(value: str) -> str:
    if not value.startswith(("http://", "https://")) or len(value) < 10:
        raise ValueError(f"expected an http:// or https:// URL, found {value!r}")
    return value


class JobOptions(Shape):
    """What a job may set for a source (sources.Options), with the values that make sense."""

    mode: Literal["incremental", "backfill"] = "incremental"
    start: Day | None = None
    end: Day | None = None
    page_size: Annotated[int, Field(strict=True, ge=1)] | None = None
    base_url: Annotated[str, Field(strict=True), AfterValidator(_url)] | None = None
    repull_days: Annotated[int, Field(strict=True, ge=0)] = 7
    extra: dict[str, Any] = {}


def check_options(options: Any) -> tuple[str, str] | None:
    """None when the options fit `JobOptions`, else the first wrong key and what it expects."""
    try:
        JobOptions.model_validate(options)
    except ValidationError as exc:
        error = first_error(exc)
        return ".".join(str(part) for part in error_loc(error)), describe(error)
    return None


# --- published figures ------------------------------------------------------------------------


def _blank_is_none(value: Any) -> Any:
    return None if value == "" else value


OptionalMoment = Annotated[Moment | None, BeforeValidator(_blank_is_none)]


class FigureRow(Shape):
    """One row of a published-figures CSV; periods run forwards, values are finite."""

    figure_id: Text
    jurisdiction: str
    reporting_body: str
    measure: Text
    period_start: OptionalMoment
    period_end: OptionalMoment
    value: Annotated[float, Field(allow_inf_nan=False)]
    unit: str
    compared_to_period_start: OptionalMoment
    compared_to_period_end: OptionalMoment
    published_on: Day
    source_url: str
    note: str

    @model_validator(mode="after")
    def _periods(self) -> FigureRow:
        for prefix in ("period", "compared_to_period"):
            start, end = getattr(self, f"{prefix}_start"), getattr(self, f"{prefix}_end")
            if start and end and datetime.fromisoformat(end) < datetime.fromisoformat(start):
                raise ValueError(f"{prefix}_end {end} is before {prefix}_start {start}")
        return self


def check_figure(row: dict[str | None, Any]) -> str | None:
    """None when a CSV row fits `FigureRow`, else 'column: what was expected'."""
    if None in row:
        return f"{len(row[None])} more values than the header has columns"
    short = [column for column, value in row.items() if value is None]
    if short:
        return f"the row stops before column {short[0]!r}: expected a value for every column"
    try:  # columns past the known ones are the user's own notes, as they always were
        FigureRow.model_validate({key: row[key] for key in FigureRow.model_fields})
    except ValidationError as exc:
        error = first_error(exc)
        column = ".".join(str(part) for part in error_loc(error))
        return f"column {column!r}: {describe(error)}" if column else describe(error)
    return None


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
        return f"expected one of {ctx.get('expected')}, found {_shown(found)}"
    if kind in ("float_type", "float_parsing", "int_type", "int_parsing", "int_from_float"):
        whole = "a whole number" if kind.startswith("int") else "a number"
        return f"expected {whole}, found {_shown(found)}"
    if kind == "finite_number":
        return f"expected a finite number, found {_shown(found)}"
    bounds = {"greater_than_equal": "ge", "greater_than": "gt", "less_than_equal": "le"}
    if kind in bounds:
        sign = {"ge": ">=", "gt": ">", "le": "<="}[bounds[kind]]
        return f"expected a number {sign} {ctx.get(bounds[kind])}, found {_shown(found)}"
    if kind == "dict_type":
        return f"expected a mapping (key: value), found {_shown(found)}"
    if kind == "list_type":
        return f"expected a list, found {_shown(found)}"
    if kind == "too_short":
        return f"expected at least {ctx.get('min_length', 1)} item(s), found none"
    return f"{error['msg'].replace('Input should be', 'expected')}, found {_shown(found)}"


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return repr(value)


def locate(path: Path, loc: Sequence[int | str], missing: bool = False) -> tuple[str, int | None]:
    """The dotted key (`claims[3].checks[0].stated`) and line of an error's location in a YAML
    file. Parts that are not keys in the file (pydantic's union tags) are skipped."""
    try:
        node: yaml.Node | None = yaml.compose(path.read_text(encoding="utf-8-sig"), Loader=_Loader)
    except (OSError, ValueError, yaml.YAMLError):
        node = None
    parts: list[str] = []
    line = node.start_mark.line + 1 if node else None
    for index, part in enumerate(loc):
        child = _child(node, part)
        if child is not None:
            key_node, node = child
            line = key_node.start_mark.line + 1
        if child is not None or (missing and index == len(loc) - 1):
            parts.append(f"[{part}]" if isinstance(part, int) else f".{part}")
    return "".join(parts).lstrip("."), line


def _child(node: yaml.Node | None, part: int | str) -> tuple[yaml.Node, yaml.Node] | None:
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        item: yaml.Node = node.value[part]
        return item, item
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key, value in _pairs(node):
            if key.value == part:
                return key, value
    return None


def _pairs(node: yaml.MappingNode) -> Iterator[tuple[yaml.ScalarNode, yaml.Node]]:
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode):
            yield key, value
