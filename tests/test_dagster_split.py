"""Fetching and loading apart (collect.fetch_to_archive, collect.load_from_archive): the split
the Dagster definitions run, and what makes many fetching workers on one archive safe. These
need no Dagster: they run with or without the extra."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from sanctuarywatch.collect import fetchlog
from sanctuarywatch.collect.run import collect, fetch_to_archive, load_from_archive
from sanctuarywatch.errors import FetchError, LayoutError
from sanctuarywatch.http import HttpClient
from sanctuarywatch.load import warehouse
from sanctuarywatch.load.archive import Archive, ArchiveTransport, Entry, parse_line
from sanctuarywatch.present import demo

STEPS = {step.slug: step.options for step in demo.PLAN}
SPLIT = ("il_chicago_crimes", "us_fbi_cde_agency_monthly", "us_doj_speeches")


def replay(*archives: Archive) -> HttpClient:
    return HttpClient(transport=ArchiveTransport(*(archives or demo.bundled_archives())))


def facts(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    found: dict[str, object] = {
        table: con.execute(f"SELECT count(*) FROM {table}_versions").fetchall()
        for table in warehouse.versioned_tables(con)
    }
    for query in (
        "SELECT source, url, sha256 FROM raw_responses ORDER BY ALL",
        "SELECT source, watermark, complete_through FROM source_state ORDER BY ALL",
        "SELECT source, status FROM runs ORDER BY ALL",
        "SELECT claim_id, verdict FROM claim_ledger ORDER BY ALL",
    ):
        found[query] = con.execute(query).fetchall()
    return found


def test_fetch_then_load_gives_what_collect_gives(tmp_path: Path) -> None:
    reference, split = warehouse.connect(":memory:"), warehouse.connect(":memory:")
    archive = Archive(tmp_path / "raw")
    with replay() as client:
        for slug in SPLIT:
            collect(reference, Archive(tmp_path / "collect_raw"), client, slug, STEPS[slug])
        records = [fetch_to_archive(archive, client, slug, STEPS[slug]) for slug in SPLIT]
    for record in records:
        result = load_from_archive(split, archive, record.run_id)
        assert (result.status, result.run_id) == ("success", record.run_id)
    assert facts(split) == facts(reference)
    coverage = (
        "SELECT source, dimension, covered_from, covered_to FROM source_coverage ORDER BY ALL"
    )
    assert split.execute(coverage).fetchall() == reference.execute(coverage).fetchall()
    states = "SELECT source, watermark, complete_through FROM source_state ORDER BY 1"
    for slug, watermark, through in split.execute(states).fetchall():
        state = fetchlog.read_state(archive, slug)  # where the next fetch starts
        assert state is not None and (state.watermark, state.complete_through) == (
            watermark,
            through,
        )


def test_a_fetch_writes_only_the_archive_and_its_record_last(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "raw")
    with replay() as client:
        record = fetch_to_archive(archive, client, "us_doj_speeches", STEPS["us_doj_speeches"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw"]
    assert fetchlog.read(archive, record.run_id) == record
    assert [e.run_id for e in archive.entries()] == [record.run_id] * len(record.entries)
    assert all(archive.blob_path(e.sha256).is_file() for e in record.entries)

    recorded = Archive(tmp_path / "partial")  # the recording less one page: the fetch fails
    speeches = next(a for a in demo.bundled_archives() if a.root.name == "us_doj_speeches")
    entries = list(speeches.entries())
    for entry in entries[:-1]:
        recorded.store(entry, speeches.body(entry))
    with replay(recorded) as client, pytest.raises(FetchError):
        fetch_to_archive(archive, client, "us_doj_speeches", STEPS["us_doj_speeches"])
    unfinished = {e.run_id for e in archive.entries()} - {record.run_id}
    assert len(unfinished) == 1  # its pages are in the manifest, but it has no record
    assert fetchlog.run_ids(archive) == [record.run_id]
    with pytest.raises(LayoutError, match="fetch unfinished"):
        load_from_archive(warehouse.connect(":memory:"), archive, unfinished.pop())


def test_a_load_is_done_once_and_a_failed_one_again(tmp_path: Path) -> None:
    archive, con = Archive(tmp_path / "raw"), warehouse.connect(":memory:")
    slug = "us_fbi_cde_agency_monthly"
    with replay() as client:
        record = fetch_to_archive(archive, client, slug, STEPS[slug])
    blob = archive.blob_path(record.entries[0].sha256)
    kept = blob.read_bytes()
    blob.write_bytes(kept[: len(kept) // 2])  # cut short, as by a full disk
    with pytest.raises(LayoutError):
        load_from_archive(con, archive, record.run_id)
    runs = "SELECT status, count(*) FROM runs GROUP BY 1"
    assert con.execute(runs).fetchall() == [("failed", 1)]
    blob.write_bytes(kept)
    assert load_from_archive(con, archive, record.run_id).counts.new == 24
    again = load_from_archive(con, archive, record.run_id)
    assert (again.status, again.counts.seen) == ("success", 0)  # not loaded twice
    assert con.execute(runs).fetchall() == [("success", 1)]
    assert con.execute(f"SELECT count(*) FROM {slug}_versions").fetchone() == (24,)
    assert con.execute("SELECT count(*) FROM raw_responses").fetchone() == (1,)


def test_options_survive_the_record(tmp_path: Path) -> None:
    options = replace(STEPS["us_census_population"], page_size=50, repull_days=3)
    assert fetchlog.options_from_dict(fetchlog.options_to_dict(options)) == options


def _append(root: str, worker: int, lines: int) -> None:
    archive = Archive(root)
    for number in range(lines):
        body = f"{worker}-{number}".encode()
        padding = "p" * (20_000 if number % 50 == 0 else 400)  # most lines short, some 20 KB
        entry = Entry(
            source="us_fbi_cde_agency_monthly",
            run_id=f"run-{worker}",
            kind="site-monthly",
            url=f"http://127.0.0.1/LATEST/summarized/agency/X/V?n={number}&{padding}",
            status=200,
            content_type="application/json",
            fetched_at=datetime.now(UTC),
            sha256=hashlib.sha256(body).hexdigest(),
            bytes=len(body),
        )
        archive.store(entry, body)


def test_workers_appending_to_one_manifest_lose_no_line(tmp_path: Path) -> None:
    """Archive.store appends each line with one write() on an O_APPEND file, which Linux
    serialises on a local file system (not PIPE_BUF, which is about pipes): four processes
    at once leave every line whole, the 20 KB ones too."""
    workers, lines = 4, 300
    spawn = multiprocessing.get_context("spawn")
    processes = [
        spawn.Process(target=_append, args=(str(tmp_path), w, lines)) for w in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    raw = (tmp_path / "manifest.jsonl").read_bytes().split(b"\n")
    assert raw[-1] == b""
    parsed = [parse_line(line) for line in raw[:-1]]
    assert all(isinstance(item, Entry) for item in parsed)
    assert len(parsed) == workers * lines
    per_run = {f"run-{w}": lines for w in range(workers)}
    assert {r: sum(e.run_id == r for e in parsed) for r in per_run} == per_run  # type: ignore[union-attr]
    assert max(len(line) for line in raw) > 20_000
    assert json.loads(raw[0])["source"] == "us_fbi_cde_agency_monthly"
