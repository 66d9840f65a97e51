"""The Dagster definitions' partitions: which sources split, how, and one run's options.

    us_fbi_cde_agency_monthly   agency (extra.agencies) x year: the CDE is asked once per
                                agency, offense and calendar year
    us_ucr_agency_monthly       agency (extra.agencies): one whole file per agency
    us_fbi_cde_agencies         state (extra.states)
    il_chicago_crimes, il_chicago_violence_victims, us_doj_press_releases, us_doj_speeches
                                year: a backfill re-runs and retries one year at a time

A year runs as a backfill of that calendar year; the newest year of an incremental job is
the incremental run itself (what changed since the watermark; on a first run, that year).
Census and the published figures read a file or two: no partitions.

No `from __future__ import annotations` in the Dagster modules: Dagster reads config and
resource types from annotations at definition time (dagster_assets.py).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import dagster as dg

from sanctuarywatch import sources
from sanctuarywatch.errors import ConfigError
from sanctuarywatch.scheduling import schedule
from sanctuarywatch.sources import Options

# source -> (the option in extra whose entries are its partitions, the dimension's name)
ENTITIES = {
    "us_fbi_cde_agency_monthly": ("agencies", "agency"),
    "us_ucr_agency_monthly": ("agencies", "agency"),
    "us_fbi_cde_agencies": ("states", "state"),
}
YEARLY = frozenset({"us_fbi_cde_agency_monthly"})  # asked by calendar year; has window()
# Sources that page over a date range, split by year alone (keys "2001", "2002", ...).
YEARS = frozenset(
    {"il_chicago_crimes", "il_chicago_violence_victims", "us_doj_press_releases", "us_doj_speeches"}
)
# justice.gov's news begins in 2009 (the oldest records of the API page saved in 2020 are of
# 2009; the speech listings are assumed to reach as far). The portal sources declare their
# FIRST_DAY; the DOJ modules do not yet, so their first day is stated here.
FIRST_DAYS = {"us_doj_press_releases": date(2009, 1, 1), "us_doj_speeches": date(2009, 1, 1)}


class Recordings(dict[str, Options]):
    """A plan answered from recordings (`demo_plan`): each source replays the one fetch of
    its whole window that was recorded, so none is split by year (a year's own request was
    never recorded, and a replay answers nothing else)."""


@dataclass(frozen=True)
class SourcePlan:
    """One source as the definitions see it: its default options and its partitions."""

    slug: str
    options: Options
    entities: dict[str, Any]  # partition key -> its mapping value in extra (None in a list)
    by_job: dict[str, Options] = field(default_factory=dict)  # cron.yaml job -> its options
    by_year: bool = True  # False for recordings: the source stays one asset

    @property
    def raw(self) -> dg.AssetKey:
        return dg.AssetKey(["raw", self.slug])

    @property
    def loaded(self) -> dg.AssetKey:
        return dg.AssetKey(["warehouse", self.slug])

    @property
    def years_only(self) -> bool:
        """Split by year alone (a portal or DOJ source)."""
        return self.by_year and self.slug in YEARS

    def partitions(self) -> dg.PartitionsDefinition[str] | None:
        if self.years_only:
            return self.years()
        if self.slug not in ENTITIES or not self.entities:
            return None
        entities = dg.StaticPartitionsDefinition(list(self.entities))
        if self.slug not in YEARLY:
            return entities
        dimensions = {ENTITIES[self.slug][1]: entities, "year": self.years()}
        return dg.MultiPartitionsDefinition(dimensions)

    def years(self) -> dg.TimeWindowPartitionsDefinition:
        """Calendar years from the options' backfill start (else the source's first day) to
        their end, else to this year (a new year's partition appears on 1 January, UTC)."""
        options = self.options
        first = options.start if options.mode == "backfill" and options.start else None
        first = first or first_day(self.slug)
        last = f"{(options.end - timedelta(days=1)).year + 1}" if options.end else None
        return dg.TimeWindowPartitionsDefinition(
            cron_schedule="0 0 1 1 *", start=f"{first.year}", end=last, fmt="%Y",
            end_offset=0 if last else 1,
        )  # fmt: skip

    def newest_year(self, when: datetime | None = None) -> str:
        """The newest year partition (at `when`, else now): an incremental job's run."""
        return self.years().get_partition_keys(current_time=when)[-1]

    def options_for(
        self, key: str | None, overrides: Mapping[str, Any], job: str | None = None
    ) -> Options:
        """The options of one run: the cron.yaml job's that scheduled it (else the asset's),
        the run config's over them, then narrowed to the partition (its one agency or
        state; its calendar year, as a backfill, except an incremental's newest year)."""
        options = _with(self.by_job.get(job or "", self.options), overrides)
        if key is None:
            return options
        if self.years_only:
            newest = options.mode == "incremental" and key == self.newest_year()
            return _this_year(options, int(key)) if newest else _year(options, int(key))
        option, dimension = ENTITIES[self.slug]
        parts = dict(zip([dimension, "year"], key.split("|"), strict=False))
        entity = parts[dimension]
        value = self.entities.get(entity)
        narrowed = [entity] if value is None else {entity: value}
        options = replace(options, extra={**options.extra, option: narrowed})
        return _year(options, int(parts["year"])) if "year" in parts else options


def first_day(slug: str) -> date:
    """The first day of a source's data: its module's FIRST_DAY, else FIRST_DAYS."""
    found: date | None = getattr(sources.get(slug), "FIRST_DAY", None) or FIRST_DAYS.get(slug)
    if found is None:
        raise ConfigError(slug, "a source split by year needs a FIRST_DAY")
    return found


def _with(options: Options, overrides: Mapping[str, Any]) -> Options:
    values = dict(overrides)
    for key in ("start", "end"):
        if isinstance(values.get(key), str):
            values[key] = date.fromisoformat(values[key])
    try:
        return replace(options, **values)
    except TypeError as exc:
        raise ConfigError("run config options", str(exc)) from None


def _year(options: Options, year: int) -> Options:
    """One calendar year as a backfill, within the options' own start and end."""
    first, after = date(year, 1, 1), date(year + 1, 1, 1)
    start = max(first, options.start) if options.mode == "backfill" and options.start else first
    end = min(after, options.end or date.today() + timedelta(days=1))
    return replace(options, mode="backfill", start=start, end=end)


def _this_year(options: Options, year: int) -> Options:
    """The incremental run, as the newest year: what changed since the watermark; with no
    watermark yet (a first run), that year from 1 January, not the whole history."""
    first = date(year, 1, 1)
    return replace(options, start=max(first, options.start) if options.start else first)


def source_plans(
    config: schedule.Schedule, plan: Mapping[str, Options] | None = None
) -> dict[str, SourcePlan]:
    """Each source with its options: those given, else the first cron.yaml job's that
    collects it; its partitions are the entities every job names (or the source's default)."""
    by_job: dict[str, dict[str, Options]] = {}
    for job in config.jobs.values():
        for step in job.steps:
            by_job.setdefault(step.source, {})[job.name] = job.options(step)
    chosen = plan or {slug: next(iter(jobs.values())) for slug, jobs in by_job.items()}
    by_year = not isinstance(plan, Recordings)
    plans = {}
    for slug, options in chosen.items():
        jobs = by_job.get(slug, {})
        entities: dict[str, Any] = {}
        for each in [options] if plan else jobs.values():
            entities.update(entities_of(slug, each))
        plans[slug] = SourcePlan(slug, options, entities, jobs, by_year)
    return plans


def entities_of(slug: str, options: Options) -> dict[str, Any]:
    """The agencies or states the options name (the source's default when they name none)."""
    if slug not in ENTITIES:
        return {}
    option = ENTITIES[slug][0]
    default = getattr(sources.get(slug), f"DEFAULT_{option.upper()}", ())
    listed = options.extra.get(option, default)
    return dict(listed) if isinstance(listed, Mapping) else dict.fromkeys(listed)


def scheduled_partitions(
    plan: SourcePlan, options: Options, when: datetime | None = None
) -> list[str]:
    """The partitions one cron.yaml job covers: a year-split source's newest year (its
    incremental run); the entities its options name; for a yearly source, each with the
    calendar years its window (or backfill range) reads."""
    if plan.years_only:
        return [plan.newest_year(when)]
    entities = list(entities_of(plan.slug, options)) or list(plan.entities)
    entities = [entity for entity in entities if entity in plan.entities]
    if plan.slug not in YEARLY:
        return entities
    first, last = sources.get(plan.slug).window(options)
    known = set(plan.years().get_partition_keys())
    years = [str(y) for y in range(first.year, last.year + 1) if str(y) in known]
    return [f"{entity}|{year}" for entity in entities for year in years]
