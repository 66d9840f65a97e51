"""The raw archive and `rebuild`: captures replayed through today's parsers, nothing fetched."""

from __future__ import annotations

import dataclasses
import gzip
from pathlib import Path

import duckdb
import pytest

from sanctuarywatch.collect.run import collect, rebuild
from sanctuarywatch.errors import FetchError, LayoutError
from sanctuarywatch.http import HttpClient
from sanctuarywatch.load import sqlnorm, warehouse
from sanctuarywatch.load.archive import Archive, ArchiveTransport, read_blob
from sanctuarywatch.present import demo
from sanctuarywatch.sources import Options, il_chicago_crimes


def _chicago_step() -> demo.Step:
    return next(step for step in demo.PLAN if step.slug == "il_chicago_crimes")


def _replay_chicago(con: duckdb.DuckDBPyConnection, archive: Archive) -> None:
    step = _chicago_step()
    with HttpClient(transport=ArchiveTransport(*demo.bundled_archives())) as client:
        collect(con, archive, client, step.slug, step.options, job="test")


def _snapshot(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return con.execute(
        "SELECT id, record_hash, valid_from, valid_to, first_observed_at, last_observed_at, "
        "raw_sha256 "
        "FROM il_chicago_crimes_versions ORDER BY id"
    ).fetchall()


def test_archive_stores_each_body_once_with_a_manifest_line_per_fetch(
    con: duckdb.DuckDBPyConnection, archive: Archive
) -> None:
    _replay_chicago(con, archive)
    _replay_chicago(con, archive)
    entries = list(archive.entries())
    blobs = list((archive.root / "blobs").rglob("*.zst"))
    assert len(entries) == 10 and len(blobs) == 5
    first = entries[0]
    assert first.source == "il_chicago_crimes" and first.status == 200
    assert archive.body(first)[:1] == b"["
    assert len(read_blob(archive.blob_path(first.sha256))) == first.bytes


def test_a_replayed_capture_is_not_a_new_observation(
    con: duckdb.DuckDBPyConnection, archive: Archive
) -> None:
    _replay_chicago(con, archive)
    before = _snapshot(con)
    _replay_chicago(con, archive)
    assert _snapshot(con) == before
    recorded = {e.fetched_at for e in demo.bundled_archives()[0].entries()}
    observed = {
        row[0]
        for row in con.execute(
            "SELECT DISTINCT first_observed_at FROM il_chicago_crimes_versions"
        ).fetchall()
    }
    assert observed <= recorded


def test_rebuild_from_the_archive_alone_gives_the_same_warehouse(
    tmp_path: Path, archive: Archive
) -> None:
    original = warehouse.connect(":memory:")
    _replay_chicago(original, archive)
    fresh = warehouse.connect(tmp_path / "fresh.duckdb")
    results = rebuild(fresh, archive)
    assert results["il_chicago_crimes"].counts.seen == 8922
    assert _snapshot(fresh) == _snapshot(original)
    assert fresh.execute("SELECT count(*) FROM raw_responses").fetchone() == (5,)


def test_a_parser_fix_applies_to_past_captures(
    con: duckdb.DuckDBPyConnection, archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    _replay_chicago(con, archive)
    occurred_at, _ = il_chicago_crimes.DERIVED
    fixed = sqlnorm.Column("offense_class", "CASE WHEN iucr = '0110' THEN 'FIXED' END")
    normaliser = dataclasses.replace(il_chicago_crimes.NORMALIZER, derived=(occurred_at, fixed))
    monkeypatch.setattr(il_chicago_crimes, "NORMALIZER", normaliser)
    rebuild(con, archive, ["il_chicago_crimes"])
    assert con.execute("SELECT DISTINCT offense_class FROM il_chicago_crimes").fetchall() == [
        ("FIXED",)
    ]
    assert con.execute("SELECT count(*) FROM il_chicago_crimes_versions").fetchone() == (8922,)


def test_a_request_the_archive_never_saw_is_a_clear_error(
    con: duckdb.DuckDBPyConnection, archive: Archive
) -> None:
    step = _chicago_step()
    options = Options(**{**vars(step.options), "page_size": 123})
    with (
        HttpClient(transport=ArchiveTransport(*demo.bundled_archives())) as client,
        pytest.raises(FetchError) as caught,
    ):
        collect(con, archive, client, step.slug, options)
    assert "HTTP 404" in str(caught.value) and "not in the archive" in str(caught.value)


def test_an_archive_of_gzip_blobs_still_reads(
    con: duckdb.DuckDBPyConnection, archive: Archive
) -> None:
    """Archives written before zstd keep working: bodies, replays, and no second copy."""
    _replay_chicago(con, archive)
    entry = next(archive.entries())
    zst = archive.blob_path(entry.sha256)
    body = read_blob(zst)
    gz = zst.with_suffix(".gz")
    gz.write_bytes(gzip.compress(body))
    zst.unlink()
    assert archive.blob_path(entry.sha256) == gz and archive.body(entry) == body
    archive.store(entry, body)
    assert not zst.exists()
    gz.write_bytes(b"not gzip")
    with pytest.raises(LayoutError, match="readable compressed blob"):
        archive.body(entry)
