"""Dagster definitions: the jobs of cron.yaml and jobs/, run by an orchestrator.

For a newsroom that outgrows one daemon: parallel fetching across workers, partitions it can
backfill and retry one by one, a run history and UI the whole team sees. Needs the `dagster`
extra (`pip install 'sanctuarywatch[dagster]'`); the daemon stays the simple default.
`dagster dev -m sanctuarywatch.scheduling.dagster_defs` serves it (docs/orchestration.md).
Everything is built from `schedule.load()`, so there is no second configuration to keep in
step. By concern:

    dagster_partitions   which sources split (agency x year for the CDE, agency, state; year
                         for the portal and DOJ sources) and one partition's options
    dagster_assets       raw/<slug> (fetch into the archive, in parallel), warehouse/<slug>
                         (load, one writer), claims_ledger, report; the resource
    dagster_schedules    one schedule per cron.yaml job (and per agency-split source); a
                         job per year-split source, to backfill a range of years
"""

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import dagster as dg

from sanctuarywatch.scheduling import schedule
from sanctuarywatch.scheduling.dagster_assets import (
    JOB_TAG,
    POOL,
    WRITER,
    FetchConfig,
    SanctuaryWatch,
    ledger_assets,
    raw_asset,
    record_claims_after_loads,
    warehouse_asset,
)
from sanctuarywatch.scheduling.dagster_partitions import (
    Recordings,
    SourcePlan,
    scheduled_partitions,
    source_plans,
)
from sanctuarywatch.scheduling.dagster_schedules import cron_line, job_schedules, year_jobs
from sanctuarywatch.sources import Options

__all__ = [
    "JOB_TAG",
    "POOL",
    "WRITER",
    "FetchConfig",
    "Recordings",
    "SanctuaryWatch",
    "SourcePlan",
    "build_definitions",
    "cron_line",
    "defs",
    "demo_plan",
    "record_claims_after_loads",
    "scheduled_partitions",
    "source_plans",
]
WORKERS = 4  # steps of one run at once; runs on other machines add theirs


def build_definitions(
    cron: str | Path | None = None,
    plan: Mapping[str, Options] | None = None,
    resource: SanctuaryWatch | None = None,
    executor: dg.ExecutorDefinition | None = None,
) -> dg.Definitions:
    """The definitions for cron.yaml (default: as `sanctuarywatch daemon` finds it). `plan`
    names the sources and their options instead of the first job that collects each
    (`demo_plan()`: the bundled archive's recordings, each source one asset). `executor`
    replaces the multiprocess one (a cluster's: docs/scaling.md); keep one writer step at
    a time in it, as `tag_concurrency_limits` on WRITER does here."""
    config = schedule.load(cron)
    plans = source_plans(config, plan)
    assets = [make(p) for p in plans.values() for make in (raw_asset, warehouse_asset)]
    ledger = ledger_assets([p.loaded for p in plans.values()])
    one_writer = [{"key": k, "value": v, "limit": 1} for k, v in WRITER.items()]
    multiprocess = dg.multiprocess_executor.configured(
        {"max_concurrent": WORKERS, "tag_concurrency_limits": one_writer}
    )
    return dg.Definitions(
        assets=[*assets, *ledger],
        schedules=job_schedules(config, plans, [a.key for a in ledger]),
        jobs=year_jobs(plans),
        resources={"sanctuarywatch": resource or SanctuaryWatch()},
        executor=executor or multiprocess,
    )


def demo_plan() -> Recordings:
    """The bundled archive's recordings as a plan (`sanctuarywatch demo`'s steps): each
    source replays its one recorded fetch, so none is split by year."""
    from sanctuarywatch.present import demo

    plan = Recordings()
    for step in demo.PLAN:
        options = step.options
        if step.slug == "published_figures":  # read from disk: stamped as recorded
            extra = {**options.extra, "observed_at": demo.recorded_at(step.slug)}
            options = replace(options, extra=extra)
        plan[step.slug] = options
    return plan


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
