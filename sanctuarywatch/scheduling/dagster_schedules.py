"""The Dagster definitions' schedules: one per cron.yaml job, in its time zone.

A job's runs carry its name (tag `sanctuarywatch/cron_job`), so each fetch uses that job's
options (run config `options` go over them). The schedule named after the job runs its
sources without partitions (with the ledger and report when it has no partitioned source)
and the newest year of each year-split source (its incremental run). Each source split by
agency or state gets its own schedule (`<job>__<slug>`), asking for the partitions the job
covers (its agencies; the years an incremental run re-reads). claims_ledger and report
follow the loads (eager automation condition).
"""

from collections.abc import Iterator
from typing import TYPE_CHECKING

import dagster as dg

from sanctuarywatch.errors import ConfigError
from sanctuarywatch.scheduling import schedule
from sanctuarywatch.scheduling.dagster_assets import JOB_TAG
from sanctuarywatch.scheduling.dagster_partitions import SourcePlan, scheduled_partitions

if TYPE_CHECKING:  # what define_asset_job returns; Dagster does not export the name
    from dagster._core.definitions.unresolved_asset_job_definition import (
        UnresolvedAssetJobDefinition,
    )

EVERY = {"m": ("*/{n} * * * *", 60), "h": ("0 */{n} * * *", 24)}
# Dagster's job of every asset: it runs any selection, whatever partitions each asset has
# (an asset job of our own must hold assets of one partitions definition, and two sources'
# years begin in different years).
EVERY_ASSET = "__ASSET_JOB"


def cron_line(text: str) -> str:
    """A cron.yaml schedule as a crontab line for Dagster (`@every N` where it divides)."""
    every = schedule.EVERY.match(" ".join(text.split()))
    if not every:
        return schedule.NICKNAMES.get(text.strip(), text)
    amount, (line, whole) = int(every.group(1)), EVERY.get(every.group(2), ("", 0))
    if not line or whole % amount:
        raise ConfigError(text, "a Dagster schedule needs a crontab line (@every: m or h)")
    return line.format(n=amount)


def job_schedules(
    config: schedule.Schedule, plans: dict[str, SourcePlan], ledger: list[dg.AssetKey]
) -> list[dg.ScheduleDefinition]:
    """Each cron.yaml job as schedules: one for its sources without partitions and its
    year-split sources (with the ledger and report when it has no partitioned source), one
    per source split by agency or state."""
    found = []
    for job in config.jobs.values():
        mine = [plans[step.source] for step in job.steps if step.source in plans]
        flat = [plan for plan in mine if plan.partitions() is None]
        years = [plan for plan in mine if plan.years_only]
        keys = [key for plan in flat for key in (plan.raw, plan.loaded)]
        if job.claims and len(flat) == len(mine):
            keys += ledger
        if years:
            found.append(_newest_years_schedule(job, years, keys))
        elif keys:
            found.append(_flat_schedule(job, keys))
        split = [plan for plan in mine if plan.partitions() and not plan.years_only]
        found += [_partition_schedule(job, plan) for plan in split]
    return found


def year_jobs(plans: dict[str, SourcePlan]) -> list["UnresolvedAssetJobDefinition"]:
    """A job per year-split source (`<slug>__years`: its fetch and load), so a range of
    years can be backfilled from the command line (`dagster job backfill -j ... --from
    2016 --to 2019`), one run per year."""
    return [
        dg.define_asset_job(f"{plan.slug}__years", selection=[plan.raw, plan.loaded])
        for plan in plans.values()
        if plan.years_only
    ]


def _flat_schedule(job: schedule.Job, keys: list[dg.AssetKey]) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name=job.name,
        cron_schedule=cron_line(job.schedule),
        execution_timezone=job.timezone,
        job=dg.define_asset_job(job.name, selection=keys),
        tags={JOB_TAG: job.name},
        description=job.definition,
    )


def _newest_years_schedule(
    job: schedule.Job, years: list[SourcePlan], flat: list[dg.AssetKey]
) -> dg.ScheduleDefinition:
    """One run per year-split source, of its newest year, and one of the flat sources."""

    @dg.schedule(
        name=job.name,
        cron_schedule=cron_line(job.schedule),
        execution_timezone=job.timezone,
        job_name=EVERY_ASSET,
        description=job.definition,
    )
    def newest(context: dg.ScheduleEvaluationContext) -> Iterator[dg.RunRequest]:
        tick = context.scheduled_execution_time
        tags = {JOB_TAG: job.name}
        for plan in years:
            key = scheduled_partitions(plan, plan.options, tick)[0]
            yield dg.RunRequest(
                run_key=f"{plan.slug}|{key}@{tick.isoformat()}",
                asset_selection=[plan.raw, plan.loaded],
                partition_key=key,
                tags=tags,
            )
        if flat:
            yield dg.RunRequest(run_key=f"@{tick.isoformat()}", asset_selection=flat, tags=tags)

    return newest


def _partition_schedule(job: schedule.Job, plan: SourcePlan) -> dg.ScheduleDefinition:
    name = f"{job.name}__{plan.slug}"
    target = dg.define_asset_job(name, selection=[plan.raw, plan.loaded])
    options = next(job.options(s) for s in job.steps if s.source == plan.slug)

    @dg.schedule(
        name=name,
        cron_schedule=cron_line(job.schedule),
        execution_timezone=job.timezone,
        job=target,
    )
    def partitions(context: dg.ScheduleEvaluationContext) -> Iterator[dg.RunRequest]:
        tick = context.scheduled_execution_time.isoformat()
        for key in scheduled_partitions(plan, options):
            yield dg.RunRequest(
                run_key=f"{key}@{tick}", partition_key=key, tags={JOB_TAG: job.name}
            )

    return partitions
