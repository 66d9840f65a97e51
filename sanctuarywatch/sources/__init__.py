"""Sources: one module per upstream, all with the same contract.

A source module has a docstring (publisher, URL, cadence, dated quirks) and:

    SLUG, PUBLISHER, URL, FORMAT, CADENCE      metadata (the README's source table is checked
                                               against it)
    TABLES: dict[str, tuple[str, ...]]         versioned tables it writes, with their keys
    REQUESTS_PER_SECOND: float                 politeness limit for its host
    fetch(client, options, state) -> Iterator[Page]
                                               HTTP only (through sanctuarywatch.http); yields
                                               each response with its parsed rows, because
                                               paging needs to see them
    parse(fetched, kind) -> rows               pure: bytes in, site-shaped rows out (dicts, or
                                               for portal JSON a sqlnorm.PageFile that DuckDB
                                               reads); raises LayoutError when the page is not
                                               as expected
    and exactly one way to normalise (collect.loader.normalise reads whichever it is):
    normalize(rows, kind) -> dict[str, records]
                                               pure: rows to records per table (dicts)
    NORMALIZER                                 or a sqlnorm.Normaliser, for a source whose
                                               parse gives page files: a load normalises them
                                               inside the warehouse connection, page file to
                                               stage; elsewhere (a rebuild's check, tests)
                                               it runs in a scratch DuckDB
    advance(state, page, records, options) -> State
                                               the new watermark after a page

Loading, scheduling and configuration live elsewhere (collect/, jobs/, cron.yaml).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from types import ModuleType
from typing import Any, NamedTuple

from sanctuarywatch.errors import ConfigError
from sanctuarywatch.http import Fetched

SOURCE_MODULES = (
    "il_chicago_crimes",
    "il_chicago_violence_victims",
    "us_fbi_cde_agency_monthly",
    "us_ucr_agency_monthly",
    "us_fbi_cde_agencies",
    "us_census_population",
    "published_figures",
    "us_doj_press_releases",
    "us_doj_speeches",
)


@dataclass(frozen=True)
class State:
    """What a source remembers between runs (kept in the source_state table)."""

    watermark: str | None = None
    complete_through: datetime | None = None


@dataclass
class Options:
    """How to collect this time; each source reads what applies to it."""

    mode: str = "incremental"  # incremental | backfill
    start: date | None = None
    end: date | None = None  # exclusive
    page_size: int | None = None
    base_url: str | None = None
    repull_days: int = 7
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.mode not in ("incremental", "backfill"):
            raise ConfigError("options", f"mode must be incremental or backfill, not {self.mode!r}")
        if self.start and self.end and self.start >= self.end:
            raise ConfigError("options", f"start {self.start} is not before end {self.end}")


class Page(NamedTuple):
    """One response and what it parsed to."""

    kind: str
    fetched: Fetched
    rows: Any  # what the source's parse gives: dicts, or a page file for DuckDB


PageIterator = Iterator[Page]


def get(slug: str) -> ModuleType:
    """The source module for a slug, or a ConfigError listing the known ones."""
    if slug not in SOURCE_MODULES:
        raise ConfigError("source", f"unknown source {slug!r}; known: {', '.join(SOURCE_MODULES)}")
    return importlib.import_module(f"{__name__}.{slug}")


def all_sources() -> dict[str, ModuleType]:
    return {slug: get(slug) for slug in SOURCE_MODULES}
