"""The Dagster definitions' assets: fetch into the archive, load under one writer, the ledger.

Per source, then downstream of every load:

    raw/<slug>         fetch into the raw archive only (collect.fetch_to_archive): in no
                       pool, so sources and partitions fetch in parallel, on any number of
                       workers that see the same archive folder
    warehouse/<slug>   load the newest fetch of its partition (collect.load_from_archive) in the
                       pool `sanctuarywatch_warehouse`, whose limit must be 1 (DuckDB has one
                       writer)
    claims_ledger      the claims the loads touched, re-evaluated once after them and
                       recorded as following the newest (same pool): fifty agencies' loads
                       do not re-evaluate the claims fifty times (1.5 s each, BENCHMARKS.md)
    report             the HTML report
"""

# No `from __future__ import annotations`: Dagster reads the config and resource types of an
# asset's parameters from its annotations at definition time.
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import dagster as dg
import duckdb

from sanctuarywatch.collect.fetchlog import options_to_dict, read_state
from sanctuarywatch.collect.run import fetch_to_archive, load_from_archive
from sanctuarywatch.http import HttpClient
from sanctuarywatch.load import warehouse
from sanctuarywatch.load.archive import Archive, ArchiveTransport
from sanctuarywatch.query import claims
from sanctuarywatch.scheduling.daemon import replay_archives
from sanctuarywatch.scheduling.dagster_partitions import SourcePlan
from sanctuarywatch.sources import State

Step = Callable[..., dg.MaterializeResult[None]]

POOL = "sanctuarywatch_warehouse"
JOB_TAG = "sanctuarywatch/cron_job"  # a scheduled run's cron.yaml job: its options apply
WRITER = {"sanctuarywatch/warehouse": "writer"}


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
            result = load_from_archive(con, archive, run_id, job="dagster")
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
    """The run id of the newest fetch of this partition, from the instance's history: its
    fetch log in the archive is what the load reads."""
    partitions = [context.partition_key] if context.has_partition_key else None
    found = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=raw, asset_partitions=partitions), limit=1
    ).records
    materialization = found[0].asset_materialization if found else None
    if materialization is None or "fetch_run_id" not in materialization.metadata:
        where = f" partition {partitions[0]}" if partitions else ""
        raise dg.Failure(f"no fetch of {raw.to_user_string()}{where} yet: materialize it first")
    return str(materialization.metadata["fetch_run_id"].value)


def _claims_step(deps: list[Any], description: str) -> Callable[[Step], dg.AssetsDefinition]:
    """An asset of the claims group: under the one-writer pool, run as soon as what it
    follows has materialised."""
    return cast(
        Callable[[Step], dg.AssetsDefinition],
        dg.asset(
            deps=deps,
            group_name="claims",
            pool=POOL,
            op_tags=WRITER,
            automation_condition=dg.AutomationCondition.eager(),
            description=description,
        ),
    )


def ledger_assets(loaded: list[dg.AssetKey]) -> list[dg.AssetsDefinition]:
    @_claims_step(loaded, "the claims the loads touched, re-evaluated and recorded; every verdict")
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

    @_claims_step(
        [claims_ledger], "the HTML report: the ledger, evidence and the year-to-date chart"
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
