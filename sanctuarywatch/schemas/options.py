"""The shape of a job's options (jobs/*.yaml) and of a published-figures row (CSV)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    ValidationError,
    model_validator,
)

from sanctuarywatch.schemas.base import (
    Day,
    Moment,
    Shape,
    Text,
    describe,
    error_loc,
    first_error,
)

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
    extra: dict[str, Any] = Field(default_factory=dict)


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
