"""The commands that load the warehouse: demo, collect, rebuild, run and daemon."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sanctuarywatch.cli.common import DEFAULT_REPORT, command, fail, open_warehouse, progress_bar

if TYPE_CHECKING:
    import duckdb

    from sanctuarywatch.scheduling.daemon import JobRunner


@command
def cmd_collect(args: argparse.Namespace) -> int:
    from sanctuarywatch.http import HttpClient
    from sanctuarywatch.load import warehouse
    from sanctuarywatch.load.archive import Archive
    from sanctuarywatch.scheduling.runner import collect_and_reevaluate
    from sanctuarywatch.sources import Options

    options = Options(
        mode=args.mode,
        start=args.start,
        end=args.end,
        page_size=args.page_size,
        base_url=args.base_url,
    )
    path = warehouse.db_path(args.db)
    with open_warehouse(args) as con, HttpClient() as client, progress_bar(args.source) as progress:
        result = collect_and_reevaluate(
            con, Archive.beside(path), client, args.source, options, progress=progress
        )
    c = result.counts
    print(
        f"{result.source}: {result.requests} requests, {c.seen:,} rows seen, "
        f"{c.new:,} new, {c.changed:,} changed, {c.unchanged:,} unchanged (run {result.run_id})"
    )
    return 0


@command
def cmd_rebuild(args: argparse.Namespace) -> int:
    from sanctuarywatch.load import warehouse
    from sanctuarywatch.load.archive import Archive
    from sanctuarywatch.scheduling.runner import rebuild_and_reevaluate

    archive = Archive.beside(warehouse.db_path(args.db))
    with open_warehouse(args) as con:
        results = rebuild_and_reevaluate(
            con, archive, args.sources or None, skip_damaged=args.skip_damaged
        )
    for slug, result in results.items():
        print(
            f"{slug}: {result.counts.seen:,} rows replayed, {result.counts.written:,} versions; "
            f"{result.rows_after:,} current rows (before: {result.rows_before:,})"
        )
        for damage in result.skipped:
            print(f"  skipped {damage}: its rows were not reloaded")
    if not results:
        print(f"nothing to rebuild: no captures in {archive.root}")
    elif error := next(iter(results.values())).claims_error:
        print(f"reloaded, but claims not re-evaluated: {error}")
    return 0


@command
def cmd_demo(args: argparse.Namespace) -> int:
    from sanctuarywatch import views
    from sanctuarywatch.load import warehouse
    from sanctuarywatch.load.archive import Archive
    from sanctuarywatch.output import print_table
    from sanctuarywatch.present import demo, report
    from sanctuarywatch.query import claims

    path = warehouse.db_path(args.db)
    with open_warehouse(args) as con:
        for result in demo.run(con, Archive.beside(path)):
            c = result.counts
            print(
                f"loaded {result.source}: {c.seen:,} rows from {result.requests} recorded "
                f"responses ({c.new:,} new, {c.changed:,} changed, {c.unchanged:,} unchanged)"
            )
        print()
        print_table(["comparison", "this year", "last year"], demo.comparisons(con))
        print("\nDOJ releases and speeches about sanctuary jurisdictions, and whom they name:")
        print_table(["date", "kind", "title", "jurisdictions named"], demo.doj_summary(con))
        print()
        results = claims.evaluate_all(con)
        views.ledger(results, views.names(con)).print("table")
        written = report.write_report(con, DEFAULT_REPORT, evaluations=results)
    print(f"\nwarehouse: {Path(path).resolve()}\nreport:    {written.resolve()}")
    return 0


@command
def cmd_daemon(args: argparse.Namespace) -> int:
    from sanctuarywatch.load import warehouse
    from sanctuarywatch.output import print_table
    from sanctuarywatch.scheduling import daemon, schedule

    plan = schedule.load(args.cron)
    if args.check:
        now = datetime.now(UTC)
        rows = [
            (
                job.name,
                job.schedule,
                job.timezone,
                ", ".join(s.source for s in job.steps),
                " | ".join(
                    f"{t:%a %Y-%m-%d %H:%M:%S %Z}" for t in schedule.next_fire_times(job, now)
                ),
            )
            for job in plan.jobs.values()
        ]
        print_table(["job", "schedule", "time zone", "sources", "next runs"], rows)
        return 0
    path = warehouse.db_path(args.db)
    con = daemon.open_live(path)
    try:
        daemon.abandon_stale_runs(con)
        runner = _runner(con, path, args.replay)
        daemon.publish_snapshot(con, path)
        return daemon.Daemon(plan, runner, run_now=args.run_now).serve()
    finally:
        con.close()


@command
def cmd_run(args: argparse.Namespace) -> int:
    from sanctuarywatch.load import warehouse
    from sanctuarywatch.scheduling import daemon, schedule

    job = schedule.load(args.cron).job(args.job)
    path = warehouse.db_path(args.db)
    con = daemon.open_live(path)
    try:
        daemon.abandon_stale_runs(con)
        report = _runner(con, path, args.replay).run(job)
    finally:
        con.close()
    if job.steps and not report.results and not report.failed:
        waiting = ", ".join(report.skipped) or "none"
        unrecorded = ", ".join(report.not_recorded)
        return fail(
            f"job {job.name!r}: no source succeeded (backing off: {waiting})"
            + (f"; never recorded in the replayed archive: {unrecorded}" if unrecorded else "")
        )
    return 0 if report.ok else 1


def _runner(con: duckdb.DuckDBPyConnection, path: Path, replay: str | None) -> JobRunner:
    """The job runner, answering from a recorded archive when asked (--replay)."""
    from sanctuarywatch.scheduling import daemon

    recorded = daemon.recording(replay)
    return daemon.JobRunner(con, path, daemon.replay_archives(replay), recorded=recorded)
