"""Year partitions of the portal and DOJ sources (the `dagster` extra): a backfill of two
years is two partitions that load what one backfill of both years loads; a failed year
re-runs alone; the keys are the years docs/orchestration.md gives; the newest year of an
incremental job is its incremental run.

No network: the loopback portal serves the real 2016-2017 Chicago rows, the loopback
justice.gov the recorded and constructed DOJ records (scripts/loopback*.py)."""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import TESTS

dg = pytest.importorskip(
    "dagster", reason="the dagster extra is not installed (pip install -e '.[dagster]')"
)

from sanctuarywatch import sources  # noqa: E402
from sanctuarywatch.collect import fetchlog  # noqa: E402
from sanctuarywatch.collect.run import collect  # noqa: E402
from sanctuarywatch.http import HttpClient  # noqa: E402
from sanctuarywatch.load import warehouse  # noqa: E402
from sanctuarywatch.load.archive import Archive  # noqa: E402
from sanctuarywatch.scheduling import schedule  # noqa: E402
from sanctuarywatch.scheduling.dagster_defs import (  # noqa: E402
    JOB_TAG,
    SanctuaryWatch,
    build_definitions,
    source_plans,
)
from sanctuarywatch.scheduling.dagster_partitions import YEARS, first_day  # noqa: E402
from sanctuarywatch.sources import Options  # noqa: E402

sys.path.insert(0, str(TESTS.parent / "scripts"))
from loopback import chicago_2016_2017_route, combine, serve  # noqa: E402
from loopback_doj import doj_route  # noqa: E402

CRIMES = "il_chicago_crimes"
DOCS = TESTS.parent / "docs" / "orchestration.md"
# source -> (the path its loopback answers on, a two-year window holding its records)
WINDOWS = {
    CRIMES: ("/resource/ijzp-q8t2.json", date(2016, 1, 1), date(2018, 1, 1)),
    "us_doj_press_releases": ("/api/v1/press_releases.json", date(2013, 1, 1), date(2015, 1, 1)),
    "us_doj_speeches": ("/news/speeches", date(2016, 1, 1), date(2018, 1, 1)),
}


@contextlib.contextmanager
def upstream(down: set[str] | None = None) -> Iterator[str]:
    """The loopback portal and justice.gov; a request whose $where names a year in `down`
    is refused (400) until the set is emptied."""
    inner = combine(chicago_2016_2017_route(), doj_route())

    def route(path: str, params: dict[str, str]) -> tuple[int, str, bytes] | None:
        if any(f"date >= '{year}-" in params.get("$where", "") for year in down or ()):
            return 400, "application/json", b'{"error": true, "message": "unavailable"}'
        return inner(path, params)  # type: ignore[return-value]

    with serve(route) as url:  # type: ignore[arg-type]
        yield url


def backfill(slug: str, url: str) -> Options:
    path, start, end = WINDOWS[slug]
    return Options(mode="backfill", start=start, end=end, base_url=url + path, page_size=500)


def resource(tmp_path: Path) -> SanctuaryWatch:
    return SanctuaryWatch(
        db=str(tmp_path / "warehouse.duckdb"),
        archive=str(tmp_path / "raw"),
        report=str(tmp_path / "report" / "index.html"),
    )


def rows(con: duckdb.DuckDBPyConnection, slug: str) -> dict[str, list[tuple[object, ...]]]:
    """Every version of every table the source writes: its content (the record hash) and
    whether it is current."""
    return {
        table: con.execute(
            f"SELECT record_hash, valid_to IS NULL FROM {table}_versions ORDER BY ALL"
        ).fetchall()
        for table in sources.get(slug).TABLES
    }


def one_backfill(tmp_path: Path, slug: str, options: Options) -> dict[str, object]:
    """What one unpartitioned backfill of the whole window loads."""
    con = warehouse.connect(":memory:")
    with HttpClient() as client:
        collect(con, Archive(tmp_path / "one_raw"), client, slug, options)
    found: dict[str, object] = {"rows": rows(con, slug)}
    found["spans"] = con.execute(
        "SELECT dimension, covered_from, covered_to FROM source_coverage_spans ORDER BY ALL"
    ).fetchall()
    return found


def materialise(
    group: list[dg.AssetsDefinition], key: str, sw: SanctuaryWatch, instance: dg.DagsterInstance
) -> bool:
    run = dg.materialize(
        group,
        partition_key=key,
        instance=instance,
        resources={"sanctuarywatch": sw},
        raise_on_error=False,
    )
    return bool(run.success)


def fetch_options(instance: dg.DagsterInstance, slug: str, key: str, sw: SanctuaryWatch) -> Options:
    """The options the partition's fetch ran with, read back from its fetch log."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(["raw", slug]), asset_partitions=[key]),
        limit=1,
    ).records
    materialization = records[0].asset_materialization
    assert materialization is not None
    run_id = str(materialization.metadata["fetch_run_id"].value)
    return fetchlog.read(sw.raw_archive(), run_id).options


@pytest.mark.parametrize("slug", sorted(WINDOWS))
def test_two_year_partitions_load_what_one_backfill_of_both_years_loads(
    tmp_path: Path, slug: str
) -> None:
    sw = resource(tmp_path)
    with upstream() as url, dg.DagsterInstance.ephemeral() as instance:
        options = backfill(slug, url)
        defs = build_definitions(plan={slug: options}, resource=sw)
        group = [a for a in defs.assets or [] if a.partitions_def is not None]
        assert len(group) == 2  # raw/<slug> and warehouse/<slug>, split by year
        keys = group[0].partitions_def.get_partition_keys()  # type: ignore[union-attr]
        years = range(options.start.year, options.end.year)  # type: ignore[union-attr]
        assert keys == [str(year) for year in years]
        assert [materialise(group, key, sw, instance) for key in keys] == [True] * len(keys)
        for key in keys:  # each fetch asked for its own year only
            asked = fetch_options(instance, slug, key, sw)
            year = int(key)
            assert (asked.mode, asked.start, asked.end) == (
                "backfill",
                date(year, 1, 1),
                date(year + 1, 1, 1),
            )
        reference = one_backfill(tmp_path, slug, options)
    found, loads, spans = warehouse_after(sw, slug)
    assert found == reference["rows"]
    assert sum(len(versions) for versions in found.values()) > 0
    assert loads == [("success", len(keys))]  # one load per year, each of its own fetch
    assert spans == reference["spans"]  # the two years' coverage joins up into the window


def warehouse_after(sw: SanctuaryWatch, slug: str) -> tuple[Any, list[Any], list[Any]]:
    """What the warehouse holds after the partitions ran: the source's rows, the runs by
    status, and the covered spans."""
    con = warehouse.connect(sw.db_path(), read_only=True)
    try:
        loads = con.execute("SELECT status, count(*) FROM runs GROUP BY 1").fetchall()
        spans = con.execute(
            "SELECT dimension, covered_from, covered_to FROM source_coverage_spans ORDER BY ALL"
        ).fetchall()
        return rows(con, slug), loads, spans
    finally:
        con.close()


def test_one_failed_year_re_runs_alone(tmp_path: Path) -> None:
    sw, down = resource(tmp_path), {"2016"}
    with upstream(down) as url, dg.DagsterInstance.ephemeral() as instance:
        options = backfill(CRIMES, url)
        defs = build_definitions(plan={CRIMES: options}, resource=sw)
        group = [a for a in defs.assets or [] if a.partitions_def is not None]
        keys = group[0].partitions_def.get_partition_keys()  # type: ignore[union-attr]
        assert [materialise(group, key, sw, instance) for key in keys] == [False, True]
        loaded = dg.AssetKey(["warehouse", CRIMES])
        failed = sorted(set(keys) - instance.get_materialized_partitions(loaded))
        assert failed == sorted(down)

        down.clear()
        assert [materialise(group, key, sw, instance) for key in failed] == [True]
        for key in keys:  # the year that had succeeded was neither fetched nor loaded again
            for asset in (dg.AssetKey(["raw", CRIMES]), loaded):
                found = instance.fetch_materializations(
                    dg.AssetRecordsFilter(asset_key=asset, asset_partitions=[key]), limit=5
                ).records
                assert len(found) == 1, (asset, key)
        reference = one_backfill(tmp_path, CRIMES, options)
    found, loads, spans = warehouse_after(sw, CRIMES)
    assert found == reference["rows"]
    assert loads == [("success", 2)]  # the failed fetch never reached the warehouse
    assert spans == reference["spans"]  # 2017 loaded before 2016: the same one span


def documented_first_years() -> dict[str, int]:
    """The first year partition docs/orchestration.md gives each year-split source."""
    found = re.findall(
        r"^\| `([a-z_]+)` \| year, `(\d{4})` to this year \|", DOCS.read_text(), re.M
    )
    return {slug: int(year) for slug, year in found}


def test_year_keys_are_the_documented_ones_and_the_newest_is_the_incremental() -> None:
    plans = source_plans(schedule.load())
    this_year = datetime.now(UTC).year
    assert documented_first_years() == {slug: first_day(slug).year for slug in YEARS}
    for slug, first in documented_first_years().items():
        keys = plans[slug].partitions().get_partition_keys()  # type: ignore[union-attr]
        assert keys == [str(year) for year in range(first, this_year + 1)]
    chicago = plans[CRIMES]
    newest = chicago.options_for(str(this_year), {}, "chicago_weekly_resync")
    assert (newest.mode, newest.start, newest.end, newest.repull_days) == (
        "incremental",
        date(this_year, 1, 1),  # a first run reads that year, not the whole history
        None,
        60,
    )
    past = chicago.options_for("2016", {}, "chicago_daily")
    assert (past.mode, past.start, past.end) == ("backfill", date(2016, 1, 1), date(2017, 1, 1))
    forced = chicago.options_for(str(this_year), {"mode": "backfill"}, "chicago_daily")
    assert (forced.mode, forced.start) == ("backfill", date(this_year, 1, 1))


def test_a_job_schedules_the_newest_year_of_each_of_its_sources() -> None:
    defs = build_definitions()
    repository = defs.get_repository_def()
    tick = datetime(2026, 3, 2, 13, 15, tzinfo=UTC)
    for job, slugs in (
        ("chicago_daily", {CRIMES, "il_chicago_violence_victims"}),
        ("doj", {"us_doj_press_releases", "us_doj_speeches"}),
    ):
        scheduled = next(s for s in defs.schedules or [] if s.name == job)
        with dg.build_schedule_context(
            scheduled_execution_time=tick, repository_def=repository
        ) as context:
            requests = scheduled.evaluate_tick(context).run_requests or []
        assert {
            (tuple(r.asset_selection or ()), r.partition_key, r.tags[JOB_TAG]) for r in requests
        } == {
            ((dg.AssetKey(["raw", slug]), dg.AssetKey(["warehouse", slug])), "2026", job)
            for slug in slugs
        }
