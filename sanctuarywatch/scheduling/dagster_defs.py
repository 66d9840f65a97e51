"""Dagster definitions: the jobs of cron.yaml and jobs/, run by an orchestrator.

For a newsroom that outgrows one daemon: parallel fetching across workers, partitions it can
backfill and retry one by one, a run history and UI the whole team sees. Needs the `dagster`
extra (`pip install 'sanctuarywatch[dagster]'`); the daemon stays the simple default.
`dagster dev -m sanctuarywatch.scheduling.dagster_defs` serves it (docs/orchestration.md).
Everything is
built from `schedule.load()`, so there is no second configuration to keep in step:

    raw/<slug>         fetch into the raw archive only (collect.fetch_to_archive): in no
                       pool, so sources and partitions fetch in parallel, on any number of
                       workers that see the same archive folder
    warehouse/<slug>   load that fetch (collect.load_from_archive) in the pool
                       `sanctuarywatch_warehouse`, whose limit must be 1 (DuckDB has one
                       writer)
    claims_ledger      the claims the loads touched, re-evaluated once after them and
                       recorded as following the newest (same pool): fifty agencies' loads
                       do not re-evaluate the claims fifty times (1.5 s each, BENCHMARKS.md)
    report             the HTML report

Partitions, where a source has natural ones:

    us_fbi_cde_agency_monthly   agency (extra.agencies) x year: the CDE is asked once per
                                agency, offense and calendar year, so a partition is exactly
                                its requests
    us_ucr_agency_monthly       agency (extra.agencies): one whole file per agency
    us_fbi_cde_agencies         state (extra.states)

The other sources page over a date range (the portals, DOJ) or read one file: one asset
each, whose backfill is run config (`options: {mode: backfill, start, end}`).

Schedules: one per job of cron.yaml, in its time zone; its runs carry the job's name (tag
`sanctuarywatch/cron_job`), so each fetch uses that job's options (run config `options` go
over them). Each partitioned source of a job gets its own schedule (`<job>__<slug>`), asking
for the partitions the job covers (its agencies; the years an incremental run re-reads).
claims_ledger and report follow the loads (eager automation condition).
"""

# No `from __future__ import annotations`: Dagster reads the config and resource types of an
# asset's parameters from its annotations at definition time.
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from sanctuarywatch import sources
from sanctuarywatch.collect.fetchlog import options_to_dict, read_state
from sanctuarywatch.collect.run import fetch_to_archive, load_from_archive
from sanctuarywatch.errors import ConfigError
from sanctuarywatch.http import HttpClient
from sanctuarywatch.load import warehouse
from sanctuarywatch.load.archive import Archive, ArchiveTransport
from sanctuarywatch.query import claims
from sanctuarywatch.scheduling import schedule
from sanctuarywatch.scheduling.daemon import replay_archives
from sanctuarywatch.sources import Options, State

POOL = "sanctuarywatch_warehouse"
JOB_TAG = "sanctuarywatch/cron_job"  # a scheduled run's cron.yaml job: its options apply
WRITER = {"sanctuarywatch/warehouse": "writer"}
WORKERS = 4  # steps of one run at once; runs on other machines add theirs
# source -> (the option in extra whose entries are its partitions, the dimension's name)
ENTITIES = {
    "us_fbi_cde_agency_monthly": ("agencies", "agency"),
    "us_ucr_agency_monthly": ("agencies", "agency"),
    "us_fbi_cde_agencies": ("states", "state"),
}
YEARLY = frozenset({"us_fbi_cde_agency_monthly"})  # asked by calendar year; has window()
EVERY = {"m": ("*/{n} * * * *", 60), "h": ("0 */{n} * * *", 24)}


class SanctuaryWatch(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Where the warehouse, the raw archive and the report are, and where answers come from.
    Empty values mean what they mean for the CLI ($SANCTUARYWATCH_DB, raw/ beside it or
    $SANCTUARYWATCH_ARCHIVE, $SANCTUARYWATCH_REPLAY)."""

    db: str = ""
    archive: str = ""
    replay: str = ""  # 'bundled', or a recorded archive folder: answer from it, offline
    report: str = "report/index.html"
    requests_per_second: float = 0.0  # per worker, to each host; 0: each source's own limit

    def db_path(self) -> Path:
        return warehouse.db_path(self.db or None)

    def raw_archive(self) -> Archive:
        return Archive(self.archive) if self.archive else Archive.beside(self.db_path())

    def client(self) -> HttpClient:
        archives = replay_archives(self.replay or None)
        return HttpClient(transport=ArchiveTransport(*archives) if archives else None)


class FetchConfig(dg.Config):
    """Options over the run's: its cron.yaml job's (scheduled runs), else the asset's own
    (the first job that collects the source), e.g. {mode: backfill, start: 2016-01-01}."""

    options: dict[str, Any] = {}  # noqa: RUF012 (pydantic copies defaults)


@dataclass(frozen=True)
class SourcePlan:
    """One source as the definitions see it: its default options and its partitions."""

    slug: str
    options: Options
    entities: dict[str, Any]  # partition key -> its mapping value in extra (None in a list)
    by_job: dict[str, Options] = field(default_factory=dict)  # cron.yaml job -> its options

    @property
    def raw(self) -> dg.AssetKey:
        return dg.AssetKey(["raw", self.slug])

    @property
    def loaded(self) -> dg.AssetKey:
        return dg.AssetKey(["warehouse", self.slug])

    def partitions(self) -> dg.PartitionsDefinition[str] | None:
        if self.slug not in ENTITIES or not self.entities:
            return None
        entities = dg.StaticPartitionsDefinition(list(self.entities))
        if self.slug not in YEARLY:
            return entities
        dimensions = {ENTITIES[self.slug][1]: entities, "year": self.years()}
        return dg.MultiPartitionsDefinition(dimensions)

    def years(self) -> dg.TimeWindowPartitionsDefinition:
        """Calendar years from the options' backfill start (else the source's first day) to
        their end, else to this year (a new year's partition appears on 1 January)."""
        options, module = self.options, sources.get(self.slug)
        first = options.start if options.mode == "backfill" and options.start else module.FIRST_DAY
        last = f"{(options.end - timedelta(days=1)).year + 1}" if options.end else None
        return dg.TimeWindowPartitionsDefinition(
            cron_schedule="0 0 1 1 *", start=f"{first.year}", end=last, fmt="%Y",
            end_offset=0 if last else 1,
        )  # fmt: skip

    def options_for(
        self, key: str | None, overrides: Mapping[str, Any], job: str | None = None
    ) -> Options:
        """The options of one run: the cron.yaml job's that scheduled it (else the asset's),
        the run config's over them, then narrowed to the partition (its one agency or
        state; its calendar year, as a backfill)."""
        options = _with(self.by_job.get(job or "", self.options), overrides)
        if key is None:
            return options
        option, dimension = ENTITIES[self.slug]
        parts = dict(zip([dimension, "year"], key.split("|"), strict=False))
        entity = parts[dimension]
        value = self.entities.get(entity)
        narrowed = [entity] if value is None else {entity: value}
        options = replace(options, extra={**options.extra, option: narrowed})
        return _year(options, int(parts["year"])) if "year" in parts else options


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
    plans = {}
    for slug, options in chosen.items():
        jobs = by_job.get(slug, {})
        entities: dict[str, Any] = {}
        for each in [options] if plan else jobs.values():
            entities.update(_entities(slug, each))
        plans[slug] = SourcePlan(slug, options, entities, jobs)
    return plans


def _entities(slug: str, options: Options) -> dict[str, Any]:
    if slug not in ENTITIES:
        return {}
    option = ENTITIES[slug][0]
    default = getattr(sources.get(slug), f"DEFAULT_{option.upper()}", ())
    listed = options.extra.get(option, default)
    return dict(listed) if isinstance(listed, Mapping) else dict.fromkeys(listed)


def raw_asset(plan: SourcePlan) -> dg.AssetsDefinition:
    @dg.asset(
        key=plan.raw,
        partitions_def=plan.partitions(),
        group_name="raw_archive",
        description=f"{plan.slug}: fetched into the raw archive (no warehouse)",
    )
    def fetch(
        context: dg.AssetExecutionContext, config: FetchConfig, sanctuarywatch: SanctuaryWatch
    ) -> dg.MaterializeResult[None]:
        key = context.partition_key if context.has_partition_key else None
        options = plan.options_for(key, config.options, context.run.tags.get(JOB_TAG))
        archive = sanctuarywatch.raw_archive()
        state = _fetch_state(archive, sanctuarywatch.db_path(), plan.slug)
        with sanctuarywatch.client() as client:
            record = fetch_to_archive(
                archive, client, plan.slug, options, state,
                sanctuarywatch.requests_per_second or None,
            )  # fmt: skip
        return dg.MaterializeResult(
            metadata={
                "fetch_run_id": record.run_id,
                "requests": record.requests,
                "bytes": sum(entry.bytes for entry in record.entries),
                "options": options_to_dict(options),
            }
        )

    return fetch


def _fetch_state(archive: Archive, db: Path, slug: str) -> State:
    """Where an incremental fetch starts: the state the newest load left in the archive; for
    a warehouse loaded before (by the daemon), its own, read once without writing."""
    found = read_state(archive, slug)
    if found is not None or not db.is_file():
        return found or State()
    from sanctuarywatch.collect.run import read_state as warehouse_state

    con = warehouse.connect(db, read_only=True)  # a ConfigError while a writer holds it
    try:
        return warehouse_state(con, slug)
    finally:
        con.close()


def warehouse_asset(plan: SourcePlan) -> dg.AssetsDefinition:
    @dg.asset(
        key=plan.loaded,
        deps=[plan.raw],
        partitions_def=plan.partitions(),
        group_name="warehouse",
        pool=POOL,
        op_tags=WRITER,
        description=f"{plan.slug}: the newest fetch loaded into the warehouse (one writer)",
    )
    def load(
        context: dg.AssetExecutionContext, sanctuarywatch: SanctuaryWatch
    ) -> dg.MaterializeResult[None]:
        run_id = _newest_fetch(context, plan.raw)
        con = warehouse.connect(sanctuarywatch.db_path())
        try:
            archive = sanctuarywatch.raw_archive()
            result = load_from_archive(con, archive, run_id, job="dagster", claims=False)
        finally:
            con.close()
        counts = result.counts
        return dg.MaterializeResult(
            metadata={
                "run_id": run_id,
                "rows_seen": counts.seen,
                "rows_new": counts.new,
                "rows_changed": counts.changed,
            }
        )

    return load


def _newest_fetch(context: dg.AssetExecutionContext, raw: dg.AssetKey) -> str:
    """The run id of the newest fetch of this partition, from the instance's history."""
    partitions = [context.partition_key] if context.has_partition_key else None
    found = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=raw, asset_partitions=partitions), limit=1
    ).records
    materialization = found[0].asset_materialization if found else None
    if materialization is None or "fetch_run_id" not in materialization.metadata:
        where = f" partition {partitions[0]}" if partitions else ""
        raise dg.Failure(f"no fetch of {raw.to_user_string()}{where} yet: materialize it first")
    return str(materialization.metadata["fetch_run_id"].value)


def ledger_assets(loaded: list[dg.AssetKey]) -> list[dg.AssetsDefinition]:
    @dg.asset(
        deps=loaded,
        group_name="claims",
        pool=POOL,
        op_tags=WRITER,
        automation_condition=dg.AutomationCondition.eager(),
        description="the claims the loads touched, re-evaluated and recorded; every verdict",
    )
    def claims_ledger(sanctuarywatch: SanctuaryWatch) -> dg.MaterializeResult[None]:
        con = warehouse.connect(sanctuarywatch.db_path())
        try:
            following = record_claims_after_loads(con)
            recorded = dict(
                con.execute("SELECT claim_id, verdict FROM claim_ledger ORDER BY 1").fetchall()
            )
            computed = {ev.claim.id: ev.verdict for ev in claims.evaluate_all(con)}
        finally:
            con.close()
        stale = sorted(k for k in computed if recorded.get(k) != computed[k])
        counts: dict[str, int] = {}
        for verdict in recorded.values():
            counts[verdict] = counts.get(verdict, 0) + 1
        table = "\n".join(f"| {k} | {v} |" for k, v in recorded.items())
        return dg.MaterializeResult(
            metadata={
                **{f"verdicts/{verdict}": n for verdict, n in sorted(counts.items())},
                "recorded_after": following or "(no load since the last evaluation)",
                "not_recorded": ", ".join(stale),
                "ledger": dg.MetadataValue.md("| claim | verdict |\n|---|---|\n" + table),
            }
        )

    @dg.asset(
        deps=[claims_ledger],
        group_name="claims",
        pool=POOL,
        op_tags=WRITER,
        automation_condition=dg.AutomationCondition.eager(),
        description="the HTML report: the ledger, evidence and the year-to-date chart",
    )
    def report(sanctuarywatch: SanctuaryWatch) -> dg.MaterializeResult[None]:
        from sanctuarywatch.present import report as html

        con = warehouse.connect(sanctuarywatch.db_path(), read_only=True)
        try:
            written = html.write_report(
                con, sanctuarywatch.report, evaluations=claims.evaluate_all(con)
            )
        finally:
            con.close()
        return dg.MaterializeResult(metadata={"path": str(written.resolve())})

    return [claims_ledger, report]


def record_claims_after_loads(con: duckdb.DuckDBPyConnection) -> str | None:
    """Re-evaluate the claims of every source loaded (with new rows) since the newest
    recorded evaluation, and record them as following the newest of those loads; return
    its run id (None: nothing loaded since). One transaction; an error fails the asset."""
    row = con.execute(
        "SELECT list(DISTINCT source), arg_max(run_id, ended_at) FROM runs "
        "WHERE status = 'success' AND rows_written > 0 AND ended_at > "
        "(SELECT coalesce(max(evaluated_at), '-infinity'::TIMESTAMPTZ) FROM claim_evaluations "
        "WHERE run_id IS NOT NULL)"
    ).fetchone()
    if not row or not row[0]:
        return None
    con.execute("BEGIN")
    try:
        claims.reevaluate_after_load(con, set(row[0]), row[1])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return str(row[1])


def cron_line(text: str) -> str:
    """A cron.yaml schedule as a crontab line for Dagster (`@every N` where it divides)."""
    every = schedule.EVERY.match(" ".join(text.split()))
    if not every:
        return schedule.NICKNAMES.get(text.strip(), text)
    amount, (line, whole) = int(every.group(1)), EVERY.get(every.group(2), ("", 0))
    if not line or whole % amount:
        raise ConfigError(text, "a Dagster schedule needs a crontab line (@every: m or h)")
    return line.format(n=amount)


def scheduled_partitions(plan: SourcePlan, options: Options) -> list[str]:
    """The partitions one cron.yaml job covers: the entities its options name; for a
    yearly source, each with the calendar years its window (or backfill range) reads."""
    entities = list(_entities(plan.slug, options)) or list(plan.entities)
    entities = [entity for entity in entities if entity in plan.entities]
    if plan.slug not in YEARLY:
        return entities
    first, last = sources.get(plan.slug).window(options)
    known = set(plan.years().get_partition_keys())
    years = [str(y) for y in range(first.year, last.year + 1) if str(y) in known]
    return [f"{entity}|{year}" for entity in entities for year in years]


def job_schedules(
    config: schedule.Schedule, plans: dict[str, SourcePlan], ledger: list[dg.AssetKey]
) -> list[dg.ScheduleDefinition]:
    """Each cron.yaml job as schedules: one for its sources without partitions (with the
    ledger and report when it has no partitioned source), one per partitioned source."""
    found = []
    for job in config.jobs.values():
        mine = [plans[step.source] for step in job.steps if step.source in plans]
        flat = [plan for plan in mine if plan.partitions() is None]
        keys = [key for plan in flat for key in (plan.raw, plan.loaded)]
        if job.claims and len(flat) == len(mine):
            keys += ledger
        if keys:
            target = dg.define_asset_job(job.name, selection=keys)
            found.append(
                dg.ScheduleDefinition(
                    name=job.name,
                    cron_schedule=cron_line(job.schedule),
                    execution_timezone=job.timezone,
                    job=target,
                    tags={JOB_TAG: job.name},
                    description=job.definition,
                )
            )
        found += [_partition_schedule(job, plan) for plan in mine if plan.partitions()]
    return found


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


def build_definitions(
    cron: str | Path | None = None,
    plan: Mapping[str, Options] | None = None,
    resource: SanctuaryWatch | None = None,
) -> dg.Definitions:
    """The definitions for cron.yaml (default: as `sanctuarywatch daemon` finds it). `plan`
    names the sources and their options instead of the first job that collects each
    (`demo_plan()`: the bundled archive's recordings)."""
    config = schedule.load(cron)
    plans = source_plans(config, plan)
    assets = [make(p) for p in plans.values() for make in (raw_asset, warehouse_asset)]
    ledger = ledger_assets([p.loaded for p in plans.values()])
    one_writer = [{"key": k, "value": v, "limit": 1} for k, v in WRITER.items()]
    executor = dg.multiprocess_executor.configured(
        {"max_concurrent": WORKERS, "tag_concurrency_limits": one_writer}
    )
    return dg.Definitions(
        assets=[*assets, *ledger],
        schedules=job_schedules(config, plans, [a.key for a in ledger]),
        resources={"sanctuarywatch": resource or SanctuaryWatch()},
        executor=executor,
    )


def demo_plan() -> dict[str, Options]:
    """The bundled archive's recordings as a plan (`sanctuarywatch demo`'s steps)."""
    from sanctuarywatch.present import demo

    plan = {}
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
