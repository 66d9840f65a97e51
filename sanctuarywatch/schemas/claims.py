"""The shape of a claims file: each claim, and each kind of check it can hold."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    ValidationError,
    model_validator,
)

from sanctuarywatch.errors import ConfigError
from sanctuarywatch.schemas.base import (
    UNKNOWN_KEY,
    Day,
    Moment,
    Number,
    Offense,
    Percent,
    Relation,
    Shape,
    Text,
    Year,
    describe,
    error_loc,
    first_error,
)
from sanctuarywatch.schemas.yamlfile import locate

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
    lead_contains: list[Text] = Field(default_factory=list)


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
