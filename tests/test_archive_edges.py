"""The archive's small rules on their edges (issue 17: mutants of load/archive.py that the
rebuild tests let live): which run a garbled manifest line is charged to, how damage is
said, where the archive of a warehouse lives, and how a replay finds a recorded response."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from sanctuarywatch.errors import LayoutError
from sanctuarywatch.http import Fetched
from sanctuarywatch.load.archive import (
    ARCHIVE_ENV,
    Archive,
    ArchiveTransport,
    Damage,
    DamagedArchiveError,
    parse_line,
)

SOURCE = "il_chicago_crimes"
URL = "http://127.0.0.1:9/resource/ijzp-q8t2.json?$offset={}"


def _store(archive: Archive, run_id: str, page: int, source: str = SOURCE) -> None:
    body = json.dumps([{"id": str(page)}]).encode()
    fetched = Fetched(
        source,
        URL.format(page),
        200,
        "application/json",
        body,
        datetime(2024, 1, 15, 3, page, tzinfo=UTC),
    )
    archive.store(Archive.entry(fetched, run_id, "rows"), body)


def _garble(archive: Archive, number: int, replacement: bytes) -> None:
    lines = archive.manifest.read_bytes().split(b"\n")
    lines[number - 1] = replacement
    archive.manifest.write_bytes(b"\n".join(lines))


@pytest.fixture
def three_runs(tmp_path: Path) -> Archive:
    """Run a (2 lines), run b (2 lines, another source), run c (1 line)."""
    archive = Archive(tmp_path / "nested" / "raw")  # parents made by the first store
    _store(archive, "run-a", 0)
    _store(archive, "run-a", 1)
    _store(archive, "run-b", 2, "il_chicago_violence_victims")
    _store(archive, "run-b", 3, "il_chicago_violence_victims")
    _store(archive, "run-c", 4)
    return archive


def test_a_garbled_line_whose_run_id_is_legible_is_charged_to_that_run(
    three_runs: Archive,
) -> None:
    _garble(three_runs, 3, b'{"run_id": "run-b", "url": "cut sh\xff')
    entries, damage = three_runs.scan()
    assert len(entries) == 4
    assert damage == [
        Damage("il_chicago_violence_victims", "run-b", f"{three_runs.manifest}:3", damage[0].why)
    ]
    assert damage[0].why  # says why the line is not an entry


def test_a_line_with_no_legible_run_is_charged_to_the_runs_around_it(
    three_runs: Archive,
) -> None:
    _garble(three_runs, 3, b"\x00\x00garbage")
    _, damage = three_runs.scan()
    where = f"{three_runs.manifest}:3"
    assert [(d.source, d.run_id, d.where) for d in damage] == [
        (SOURCE, "run-a", where),
        ("il_chicago_violence_victims", "run-b", where),
    ]
    assert all(d.why == damage[0].why and d.why for d in damage)


def test_a_legible_id_of_a_run_that_does_not_exist_is_not_believed(three_runs: Archive) -> None:
    _garble(three_runs, 5, b'{"run_id": "run-zz"')
    _, damage = three_runs.scan()
    assert [(d.source, d.run_id) for d in damage] == [
        ("il_chicago_violence_victims", "run-b")  # the line before it; none after
    ]


def test_a_lone_garbled_line_is_damage_of_no_known_run(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    archive.manifest.write_bytes(b"not json\n")
    (damage,) = archive.scan()[1]
    assert (damage.source, damage.run_id, damage.where) == (None, None, f"{archive.manifest}:1")
    assert str(damage) == f"run (unknown) (?): {archive.manifest}:1: {damage.why}"


def test_damage_is_said_with_its_run_and_source() -> None:
    assert str(Damage(SOURCE, "run-1", "m:2", "cut short")) == (
        f"run run-1 ({SOURCE}): m:2: cut short"
    )


@pytest.mark.parametrize(("count", "more"), [(5, ""), (6, "; and 1 more"), (7, "; and 2 more")])
def test_a_damaged_archive_error_shows_five_and_counts_the_rest(count: int, more: str) -> None:
    damage = [Damage(SOURCE, f"run-{i}", f"m:{i}", "bad") for i in range(count)]
    error = DamagedArchiveError(damage, "rebuild")
    shown = "; ".join(str(d) for d in damage[:5])
    assert str(error) == f"[archive] rebuild: {count} damaged: {shown}{more}"
    assert error.damage == damage


def test_the_archive_of_a_warehouse_is_beside_it_unless_the_environment_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ARCHIVE_ENV, raising=False)
    assert Archive.beside(tmp_path / "w.duckdb").root == tmp_path / "raw"
    monkeypatch.setenv(ARCHIVE_ENV, str(tmp_path / "elsewhere"))
    assert Archive.beside(tmp_path / "w.duckdb").root == tmp_path / "elsewhere"


def test_a_replay_answers_the_recorded_url_and_the_url_it_is_cited_as(
    three_runs: Archive,
) -> None:
    upstream = "https://data.cityofchicago.org"
    transport = ArchiveTransport(three_runs, cited_as={"http://127.0.0.1:9": upstream})
    with httpx.Client(transport=transport) as client:
        recorded = client.get(URL.format(1))
        cited = client.get(URL.format(1).replace("http://127.0.0.1:9", upstream))
        missing = client.get(URL.format(99))
    assert recorded.json() == cited.json() == [{"id": "1"}]
    assert recorded.headers["X-Archive-Cited-As"] == URL.format(1).replace(
        "http://127.0.0.1:9", upstream
    )
    assert missing.status_code == 404


def test_a_missing_or_swapped_blob_is_a_layout_error_saying_what_was_expected(
    three_runs: Archive,
) -> None:
    first, second = list(three_runs.entries())[:2]
    path = three_runs.blob_path(first.sha256)
    path.write_bytes(three_runs.blob_path(second.sha256).read_bytes())  # another page's body
    with pytest.raises(LayoutError) as swapped:
        three_runs.body(first)
    found = hashlib.sha256(three_runs.body(second)).hexdigest()
    assert str(swapped.value) == (
        f"[archive] unexpected layout in {path}: expected a body whose sha256 is the file's "
        f"name; found one hashing to {found}"
    )
    path.unlink()
    with pytest.raises(LayoutError) as missing:
        three_runs.body(first)
    assert str(missing.value) == (
        f"[archive] unexpected layout in {three_runs.blob_path(first.sha256)}: expected a blob "
        "for each manifest line; found no such file"
    )


def test_a_line_that_parses_but_has_the_wrong_fields_says_which(three_runs: Archive) -> None:
    line = json.loads(three_runs.manifest.read_bytes().split(b"\n")[0])
    extra = dict(line, note="x")
    bad_hash = dict(line, sha256="not-a-sha")
    assert parse_line(json.dumps(extra).encode()) == "not a manifest entry (fields wrong: note)"
    assert parse_line(json.dumps(bad_hash).encode()) == (
        "not a manifest entry (fields wrong: sha256)"
    )


def test_a_last_line_without_its_newline_still_counts_when_it_is_whole(
    three_runs: Archive,
) -> None:
    whole = three_runs.manifest.read_bytes()
    three_runs.manifest.write_bytes(whole.rstrip(b"\n"))
    entries, damage = three_runs.scan()
    assert (len(entries), damage) == (5, [])
    three_runs.manifest.write_bytes(whole[: len(whole) - 20])  # cut inside the last line
    entries, damage = three_runs.scan()
    assert (len(entries), damage) == (4, [])  # a write cut short, not damage
