"""A rebuild never loses data it cannot re-read (issue 16, items 1 and 4).

Each case damages a copy of an archive recorded from the bundled demo, the way disks and
hands do (a blob deleted, cut short, swapped for another's bytes; a manifest line garbled),
then rebuilds: by default the rebuild fails naming the file and changes nothing; with
`skip_damaged` the rest reloads and the skipped capture is named. Claims follow a load in
their own transaction: a broken claims file never rolls the data back.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from sanctuarywatch import cli, sources
from sanctuarywatch.collect.run import rebuild
from sanctuarywatch.errors import ConfigError, LayoutError
from sanctuarywatch.http import HttpClient
from sanctuarywatch.load import sqlnorm, warehouse
from sanctuarywatch.load.archive import Archive, ArchiveTransport, Entry
from sanctuarywatch.present import demo
from sanctuarywatch.scheduling.runner import collect_and_reevaluate, rebuild_and_reevaluate

CHICAGO = "il_chicago_crimes"
Damager = Callable[[Archive], str]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse and its raw archive, as `sanctuarywatch demo` leaves them (built once)."""
    root = tmp_path_factory.mktemp("recorded")
    con = warehouse.connect(root / "warehouse.duckdb")
    demo.run(con, Archive(root / "raw"))
    con.close()
    return root


@pytest.fixture
def site(recorded: Path, tmp_path: Path) -> Iterator[tuple[duckdb.DuckDBPyConnection, Archive]]:
    """A private copy of the recorded warehouse and archive, free to damage."""
    shutil.copytree(recorded, tmp_path, dirs_exist_ok=True)
    con = warehouse.connect(tmp_path / "warehouse.duckdb")
    yield con, Archive(tmp_path / "raw")
    con.close()


def _entries(archive: Archive, source: str) -> list[Entry]:
    return [entry for entry in archive.entries() if entry.source == source]


def _delete(archive: Archive) -> str:
    path = archive.blob_path(_entries(archive, CHICAGO)[1].sha256)
    path.unlink()
    return str(path)


def _truncate(archive: Archive) -> str:
    path = archive.blob_path(_entries(archive, CHICAGO)[1].sha256)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return str(path)


def _swap(archive: Archive) -> str:
    second, third = (archive.blob_path(e.sha256) for e in _entries(archive, CHICAGO)[1:3])
    second.write_bytes(third.read_bytes())
    return str(second)


def _garble(archive: Archive) -> str:
    lines = archive.manifest.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = lines[2][:40] + "\x00garbled" + lines[2][120:]  # line 3: a Chicago page
    archive.manifest.write_text("".join(lines), encoding="utf-8")
    return f"{archive.manifest}:3"


CASES = {"deleted": _delete, "truncated": _truncate, "swapped": _swap, "garbled": _garble}


def _state(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """Every table's row count, and the Chicago versions themselves."""
    tables = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
    ).fetchall()
    state: dict[str, object] = {
        name: con.execute(f"SELECT count(*) FROM {name}").fetchone() for (name,) in tables
    }
    state["chicago"] = con.execute(
        "SELECT id, record_hash, valid_from, run_id FROM il_chicago_crimes_versions ORDER BY id"
    ).fetchall()
    return state


def _current(con: duckdb.DuckDBPyConnection, slug: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {slug}").fetchone()
    return int(row[0]) if row else 0


@pytest.mark.parametrize("damage", CASES.values(), ids=CASES.keys())
def test_a_damaged_capture_fails_the_rebuild_and_changes_nothing(
    site: tuple[duckdb.DuckDBPyConnection, Archive], damage: Damager
) -> None:
    con, archive = site
    before = _state(con)
    named = damage(archive)
    with pytest.raises(LayoutError) as caught:
        rebuild(con, archive)
    assert named in str(caught.value) and "skip" in str(caught.value)
    assert _state(con) == before


@pytest.mark.parametrize("damage", CASES.values(), ids=CASES.keys())
def test_skip_damaged_reloads_the_rest_and_names_the_skipped_capture(
    site: tuple[duckdb.DuckDBPyConnection, Archive], damage: Damager
) -> None:
    con, archive = site
    others = {slug: _current(con, slug) for slug in sources.SOURCE_MODULES if slug != CHICAGO}
    run_id = _entries(archive, CHICAGO)[0].run_id
    named = damage(archive)
    results = rebuild(con, archive, skip_damaged=True)
    chicago = results[CHICAGO]
    assert chicago.status == "success"
    assert [(d.run_id, d.where) for d in chicago.skipped] == [(run_id, named)]
    assert (chicago.rows_before, chicago.rows_after) == (8922, 0) == (8922, _current(con, CHICAGO))
    assert {slug: _current(con, slug) for slug in others} == others
    assert all(not r.skipped for slug, r in results.items() if slug != CHICAGO)


def test_both_census_blobs_deleted_is_refused(
    site: tuple[duckdb.DuckDBPyConnection, Archive],
) -> None:
    con, archive = site
    before = _state(con)
    for entry in _entries(archive, "us_census_population"):
        archive.blob_path(entry.sha256).unlink()
    with pytest.raises(LayoutError, match="us_census_population"):
        rebuild(con, archive, ["us_census_population"])
    assert _state(con) == before and _current(con, "us_census_population") == 32


def test_a_capture_that_no_longer_parses_fails_unless_skipped(
    site: tuple[duckdb.DuckDBPyConnection, Archive], monkeypatch: pytest.MonkeyPatch
) -> None:
    con, archive = site
    census = sources.get("us_census_population")
    parse = census.parse

    def stricter(fetched: object, kind: str) -> object:
        if kind == "vintage:2017":
            raise LayoutError("us_census_population", "test", "a newer layout", "the old one")
        return parse(fetched, kind)

    monkeypatch.setattr(census, "parse", stricter)
    before = _state(con)
    with pytest.raises(LayoutError, match="a newer layout"):
        rebuild(con, archive)
    assert _state(con) == before
    result = rebuild(con, archive, skip_damaged=True)["us_census_population"]
    why = "[us_census_population] unexpected layout in test: expected a newer layout; found "
    assert [d.why for d in result.skipped] == [why + "the old one"]
    assert (result.rows_before, result.rows_after) == (32, 0)


def test_a_capture_that_no_longer_normalises_fails_unless_skipped(
    site: tuple[duckdb.DuckDBPyConnection, Archive], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check reads each page the way its source normalises (Chicago: its NORMALIZER,
    which a parse alone never runs), before anything is cleared."""
    con, archive = site
    chicago = sources.get(CHICAGO)
    rule = sqlnorm.Column("newer_rule", "NULL", "'a rule the old rows break'")
    stricter = replace(chicago.NORMALIZER, columns=(*chicago.NORMALIZER.columns, rule))
    monkeypatch.setattr(chicago, "NORMALIZER", stricter)
    before = _state(con)
    with pytest.raises(LayoutError, match="a rule the old rows break"):
        rebuild(con, archive)
    assert _state(con) == before
    result = rebuild(con, archive, skip_damaged=True)[CHICAGO]
    assert [d.run_id for d in result.skipped] == [_entries(archive, CHICAGO)[0].run_id]
    assert "a rule the old rows break" in result.skipped[0].why
    assert (result.rows_before, result.rows_after) == (8922, 0)


def test_the_cli_says_which_file_in_one_line_and_exits_1(
    site: tuple[duckdb.DuckDBPyConnection, Archive], capsys: pytest.CaptureFixture[str]
) -> None:
    con, archive = site
    con.close()
    db = archive.root.parent / "warehouse.duckdb"
    named = _delete(archive)
    assert cli.main(["--db", str(db), "rebuild"]) == 1
    err = capsys.readouterr().err
    assert named in err.replace("\n", "") and "Traceback" not in err
    assert cli.main(["--db", str(db), "rebuild", "--skip-damaged"]) == 0
    out = capsys.readouterr().out
    assert "skipped" in out and named in out.replace("\n", "") and "8,922" in out


def test_rebuilding_an_unknown_source_lists_the_known_ones(
    site: tuple[duckdb.DuckDBPyConnection, Archive],
) -> None:
    con, archive = site
    with pytest.raises(ConfigError, match=r"unknown source 'chicago'.*il_chicago_crimes"):
        rebuild(con, archive, ["chicago"])


@pytest.fixture
def broken_claims(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bad = tmp_path / "broken-claims.yaml"
    bad.write_text("claims: [ {id: x\n", encoding="utf-8")
    monkeypatch.setenv("SANCTUARYWATCH_CLAIMS", str(bad))
    return bad


def test_a_broken_claims_file_does_not_roll_back_a_collect(
    con: duckdb.DuckDBPyConnection, archive: Archive, broken_claims: Path
) -> None:
    step = next(step for step in demo.PLAN if step.slug == CHICAGO)
    with HttpClient(transport=ArchiveTransport(*demo.bundled_archives())) as client:
        result = collect_and_reevaluate(con, archive, client, CHICAGO, step.options, job="test")
    assert result.status == "success" and str(broken_claims) in (result.claims_error or "")
    assert _current(con, CHICAGO) == 8922
    status = con.execute("SELECT status FROM runs WHERE run_id = ?", [result.run_id]).fetchone()
    assert status == ("success",)
    assert con.execute("SELECT count(*) FROM claim_evaluations").fetchone() == (0,)


def test_a_broken_claims_file_does_not_roll_back_a_rebuild(
    site: tuple[duckdb.DuckDBPyConnection, Archive], broken_claims: Path
) -> None:
    con, archive = site
    results = rebuild_and_reevaluate(con, archive, [CHICAGO])
    assert str(broken_claims) in (results[CHICAGO].claims_error or "")
    assert results[CHICAGO].status == "success" and _current(con, CHICAGO) == 8922


def test_a_torn_last_manifest_line_is_not_damage(
    site: tuple[duckdb.DuckDBPyConnection, Archive],
) -> None:
    """A kill mid-write leaves a last line without its newline; that run never committed."""
    con, archive = site
    whole = len(list(archive.entries()))
    rows = con.execute(f"SELECT count(*) FROM {CHICAGO}").fetchone()
    with archive.manifest.open("a", encoding="utf-8") as out:
        out.write('{"bytes": 12, "content_type": "applic')
    assert len(list(archive.entries())) == whole
    assert (rebuild(con, archive)[CHICAGO].rows_after,) == rows
