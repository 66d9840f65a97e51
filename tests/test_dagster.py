"""The Dagster definitions (the `dagster` extra): every asset, materialised in-process against
the bundled archive, gives the warehouse `sanctuarywatch demo` gives; a partitioned backfill
of a few agencies re-runs its one failed partition alone; schedules come from cron.yaml.

Skipped when the extra is not installed. No network: the bundled archive answers, or the
loopback CDE (scripts/loopback_fbi.py)."""

from __future__ import annotations

import contextlib
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from conftest import TESTS

dg = pytest.importorskip(
    "dagster", reason="the dagster extra is not installed (pip install -e '.[dagster]')"
)

from sanctuarywatch.load import warehouse  # noqa: E402
from sanctuarywatch.load.archive import Archive  # noqa: E402
from sanctuarywatch.present import demo  # noqa: E402
from sanctuarywatch.scheduling import schedule  # noqa: E402
from sanctuarywatch.scheduling.dagster_defs import (  # noqa: E402
    JOB_TAG,
    SanctuaryWatch,
    build_definitions,
    demo_plan,
    source_plans,
)
from sanctuarywatch.sources import Options  # noqa: E402
from sanctuarywatch.sources import us_fbi_cde_agency_monthly as cde_monthly  # noqa: E402

sys.path.insert(0, str(TESTS.parent / "scripts"))
from loopback import serve  # noqa: E402
from loopback_fbi import cde_route  # noqa: E402

MONTHLY = "us_fbi_cde_agency_monthly"
# Chicago PD's 2024 response is recorded; the loopback CDE answers an ORI it does not know
# with its documented "no data" (200, actuals null), which loads as NULL months
AGENCIES = ["ILCPD0000", "ILNOTAN01", "ILNOTAN02"]


def resource(tmp_path: Path, replay: str = "") -> SanctuaryWatch:
    return SanctuaryWatch(
        db=str(tmp_path / "warehouse.duckdb"),
        archive=str(tmp_path / "raw"),
        replay=replay,
        report=str(tmp_path / "report" / "index.html"),
    )


def materialise_all(defs: dg.Definitions, sw: SanctuaryWatch, instance: dg.DagsterInstance) -> None:
    """Every partition of every partitioned asset (one run each, as a backfill launches
    them), then the assets without partitions, the ledger and the report among them."""
    assets = list(defs.assets or [])
    by_partitions: dict[object, list[dg.AssetsDefinition]] = {}
    for asset in assets:
        if asset.partitions_def is not None:
            by_partitions.setdefault(asset.partitions_def, []).append(asset)
    for partitions, group in by_partitions.items():
        for key in partitions.get_partition_keys():  # type: ignore[attr-defined]
            run = dg.materialize(group, partition_key=key, instance=instance, resources=_r(sw))
            assert run.success, key
    flat = [asset for asset in assets if asset.partitions_def is None]
    assert dg.materialize(flat, instance=instance, resources=_r(sw)).success


def _r(sw: SanctuaryWatch) -> dict[str, object]:
    return {"sanctuarywatch": sw}


def facts(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """What must match: rows per table (every version and the current ones), responses per
    source, and the claims ledger's verdicts (each recorded after a load)."""
    found: dict[str, object] = {}
    for table in warehouse.versioned_tables(con):
        found[table] = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE valid_to IS NULL) FROM {table}_versions"
        ).fetchall()
    found["raw_responses"] = con.execute(
        "SELECT source, count(*) FROM raw_responses GROUP BY 1 ORDER BY 1"
    ).fetchall()
    found["claim_ledger"] = con.execute(
        "SELECT claim_id, verdict FROM claim_ledger ORDER BY 1"
    ).fetchall()
    return found


def test_every_asset_against_the_bundled_archive_gives_the_demo_warehouse(tmp_path: Path) -> None:
    reference = warehouse.connect(":memory:")
    demo.run(reference, Archive(tmp_path / "demo_raw"))
    sw = resource(tmp_path, replay="bundled")
    defs = build_definitions(plan=demo_plan(), resource=sw)

    with dg.DagsterInstance.ephemeral() as instance:
        materialise_all(defs, sw, instance)

    loaded = warehouse.connect(sw.db_path(), read_only=True)
    try:
        assert facts(loaded) == facts(reference)
        assert loaded.execute("SELECT count(*) FROM runs WHERE status <> 'success'").fetchone() == (
            0,
        )
    finally:
        loaded.close()
    assert (tmp_path / "report" / "index.html").is_file()


def test_a_backfill_re_runs_one_failed_partition_alone(tmp_path: Path) -> None:
    down = {"ILNOTAN02"}  # this agency's requests fail until it is back
    cde = cde_route()

    def route(path: str, params: dict[str, str]) -> tuple[int, str, bytes] | None:
        if any(f"/agency/{ori}/" in path for ori in down):
            return 400, "application/json", b'{"error": "temporarily unavailable"}'
        return cde(path, params)  # type: ignore[return-value]

    with contextlib.ExitStack() as stack:
        url = stack.enter_context(serve(route))  # type: ignore[arg-type]
        options = Options(
            mode="backfill",
            start=date(2024, 1, 1),
            end=date(2025, 1, 1),
            base_url=f"{url}/LATEST",
            extra={"host": "site", "agencies": AGENCIES, "offenses": ["V"]},
        )
        sw = resource(tmp_path)
        defs = build_definitions(plan={MONTHLY: options}, resource=sw)
        group = [a for a in defs.assets or [] if a.partitions_def is not None]
        partitions = group[0].partitions_def
        keys = partitions.get_partition_keys()  # type: ignore[union-attr]
        assert keys == [f"{ori}|2024" for ori in AGENCIES]
        instance = stack.enter_context(dg.DagsterInstance.ephemeral())

        def launch(key: str) -> bool:
            run = dg.materialize(
                group, partition_key=key, instance=instance, resources=_r(sw), raise_on_error=False
            )
            return bool(run.success)

        assert [launch(key) for key in keys] == [True, True, False]
        loaded_key = dg.AssetKey(["warehouse", MONTHLY])
        failed = sorted(set(keys) - instance.get_materialized_partitions(loaded_key))
        assert failed == ["ILNOTAN02|2024"]

        down.clear()
        assert [launch(key) for key in failed] == [True]

        raw_key = dg.AssetKey(["raw", MONTHLY])
        for key in keys:  # the two that had succeeded were neither fetched nor loaded again
            for asset in (raw_key, loaded_key):
                records = instance.fetch_materializations(
                    dg.AssetRecordsFilter(asset_key=asset, asset_partitions=[key]), limit=5
                ).records
                assert len(records) == 1, (asset, key)
    con = warehouse.connect(sw.db_path(), read_only=True)
    try:
        loads = con.execute(
            "SELECT status, count(*) FROM runs WHERE source = ? GROUP BY 1", [MONTHLY]
        ).fetchall()
        agencies = con.execute(f"SELECT DISTINCT ori FROM {MONTHLY} ORDER BY 1").fetchall()
    finally:
        con.close()
    assert loads == [("success", 3)]  # the failed fetch never reached the warehouse
    assert agencies == sorted((ori,) for ori in AGENCIES)


# Dagster's own tags for a multi-partition run request (dagster/partition/agency) trip its
# own deprecation check for tag keys; nothing of ours is named there.
@pytest.mark.filterwarnings("ignore:Non-compliant tag keys:DeprecationWarning")
def test_schedules_come_from_cron_yaml() -> None:
    defs = build_definitions()
    names = {schedule.name for schedule in defs.schedules or []}
    assert {"chicago_daily", "chicago_weekly_resync", "doj", "census_monthly"} <= names
    weekly = next(s for s in defs.schedules or [] if s.name == f"fbi_cde_weekly__{MONTHLY}")
    assert isinstance(weekly, dg.ScheduleDefinition)
    assert (weekly.cron_schedule, weekly.execution_timezone) == ("30 5 * * 1", "America/New_York")
    tick = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
    repository = defs.get_repository_def()
    with dg.build_schedule_context(
        scheduled_execution_time=tick, repository_def=repository
    ) as context:
        requests = weekly.evaluate_tick(context).run_requests or []
    first, last = cde_monthly.window(Options(mode="incremental"))  # the revision window
    years = range(first.year, last.year + 1)
    wanted = {f"{ori}|{year}" for ori in cde_monthly.DEFAULT_AGENCIES for year in years}
    assert {request.partition_key for request in requests} == wanted
    assert {request.tags[JOB_TAG] for request in requests} == {"fbi_cde_weekly"}
    plan = source_plans(schedule.load())[MONTHLY]
    key = f"ILCPD0000|{last.year}"  # the job's options, narrowed to one agency and year
    options = plan.options_for(key, {}, "fbi_cde_weekly")
    assert (options.mode, options.start, options.extra["agencies"]) == (
        "backfill",
        date(last.year, 1, 1),
        ["ILCPD0000"],
    )
    chicago = source_plans(schedule.load())["il_chicago_crimes"]
    assert chicago.options_for(None, {}, "chicago_weekly_resync").repull_days == 60
    assert chicago.options_for(None, {"mode": "backfill", "start": "2016-01-01"}).start == date(
        2016, 1, 1
    )
