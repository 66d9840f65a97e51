"""One jurisdiction registry, one id scheme (issue 18): the DOJ tagger, the query helpers and
the claims mean the same id by the same name, and a warehouse that stored the tagger's old
ids ('il-chicago', warehouse/011) gets the registry's ids when it migrates (060)."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
from conftest import ReplayedNow

from sanctuarywatch import registry
from sanctuarywatch.collect.run import collect
from sanctuarywatch.http import HttpClient
from sanctuarywatch.load import warehouse
from sanctuarywatch.load.archive import Archive
from sanctuarywatch.present import demo
from sanctuarywatch.query import helpers, jurisdictions
from sanctuarywatch.sources.platforms.justice_gov.tags import jurisdiction_mentions

REGISTRY_ID = 60  # warehouse/060_jurisdiction_registry.sql
MENTIONS = ("us_doj_release_jurisdictions_versions", "us_doj_speech_jurisdictions_versions")
DOCUMENTS = ("us_doj_press_releases_versions", "us_doj_speeches_versions")


def test_the_tagger_and_the_query_side_mean_one_id(con: duckdb.DuckDBPyConnection) -> None:
    text = "Letters went to Chicago and to Miami-Dade on Friday."
    tagged = {m["matched"]: m["jurisdiction_id"] for m in jurisdiction_mentions("d", text)}
    assert tagged["Chicago"] == jurisdictions.pick(con, "Chicago").jurisdiction_id
    assert (
        tagged["Miami-Dade"] == jurisdictions.pick(con, "Miami-Dade", kind="county").jurisdiction_id
    )
    # the helpers count Chicago, by the tagger's id, from the police department serving it
    count = helpers.count(con, tagged["Chicago"], "murder", date(2017, 1, 1), date(2017, 2, 1))
    assert [count.inputs["jurisdiction"]] == [
        a for a, _ in jurisdictions.served_by(con, tagged["Chicago"])
    ]


def test_every_name_the_tagger_matches_means_one_registry_jurisdiction(
    con: duckdb.DuckDBPyConnection,
) -> None:
    doj = con.execute(
        "SELECT alias, list(jurisdiction_id) FROM jurisdiction_aliases WHERE doj GROUP BY alias"
    ).fetchall()
    assert [alias for alias, ids in doj if len(ids) != 1] == []
    known = {row[0] for row in con.execute("SELECT jurisdiction_id FROM jurisdictions").fetchall()}
    assert {j.jurisdiction_id for j in registry.jurisdictions()} == known
    for j in registry.doj_jurisdictions():
        assert j.doj_name in j.doj_aliases, j.jurisdiction_id


def _old_warehouse(path: Path, monkeypatch: pytest.MonkeyPatch) -> duckdb.DuckDBPyConnection:
    """A warehouse as today's code makes it from the numbered files before 060 (the tables
    011 and 023 filled by hand); its views do not matter, migrating re-applies them all."""
    schema = path.parent / "schema_before_060"
    (schema / "views").mkdir(parents=True)
    for sql in warehouse.schema_dir().glob("*.sql"):
        match = warehouse.SQL_FILE.match(sql.name)
        if match and int(match.group(1)) < REGISTRY_ID:
            shutil.copy(sql, schema)
    with monkeypatch.context() as patched:
        patched.setattr(warehouse, "schema_dir", lambda: schema)
        return warehouse.connect(path)


def _load_doj_demo(path: Path, archive: Archive) -> None:
    """The demo's DOJ documents, tagged and loaded by today's code (the registry's ids)."""
    con = warehouse.connect(path)
    replay = ReplayedNow(*demo.bundled_archives(), cited_as=demo.CITED_AS)
    with HttpClient(transport=replay) as client:
        for step in demo.PLAN:
            if step.slug.startswith("us_doj_"):
                collect(con, archive, client, step.slug, step.options)
    con.close()


def _as_stored_before(old: duckdb.DuckDBPyConnection, new: str) -> None:
    """The new warehouse's DOJ rows copied into the old one as the old tagger stored them:
    each id the one 011 listed under the registry's doj_name, the record hash not the new
    row's (0); and one made-up mention per 011 jurisdiction, so every old id is met."""
    old.execute(f"ATTACH '{new}' AS new (READ_ONLY)")
    names = [(j.jurisdiction_id, j.doj_name) for j in registry.doj_jurisdictions()]
    old.execute("CREATE TEMP TABLE registry_names (registry_id VARCHAR, name VARCHAR)")
    old.executemany("INSERT INTO registry_names VALUES (?, ?)", names)
    for table in DOCUMENTS:
        old.execute(f"INSERT INTO {table} SELECT * FROM new.{table}")
    for table in MENTIONS:
        old.execute(
            f"INSERT INTO {table} SELECT v.* REPLACE (o.jurisdiction_id AS jurisdiction_id, "
            "0 AS record_hash) "
            f"FROM new.{table} v JOIN registry_names r ON r.registry_id = v.jurisdiction_id "
            "JOIN us_doj_jurisdictions o USING (name)"
        )
    old.execute(
        f"INSERT INTO {MENTIONS[0]} BY NAME SELECT 'made-up' AS doc_id, "
        "row_number() OVER () AS ordinal, jurisdiction_id, name AS matched, 0 AS record_hash, "
        "now() AS valid_from, "
        "now() AS first_observed_at, now() AS last_observed_at, 'test' AS source, "
        "'test' AS source_url, 'test' AS raw_sha256, 'test' AS run_id FROM us_doj_jurisdictions"
    )
    old.execute("DETACH new")


def _mentions(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[object, ...]]:
    return con.execute(
        f"SELECT doc_id, ordinal, jurisdiction_id, record_hash FROM {table} "
        "WHERE doc_id <> 'made-up' ORDER BY ALL"
    ).fetchall()


def test_a_warehouse_with_the_old_ids_gets_the_registry_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    new = tmp_path / "new.duckdb"
    _load_doj_demo(new, Archive(tmp_path / "raw"))
    old = _old_warehouse(tmp_path / "old.duckdb", monkeypatch)
    _as_stored_before(old, str(new))
    stored = (
        f"SELECT count(*), count(*) FILTER (WHERE jurisdiction_id LIKE '%:%') FROM {MENTIONS[0]}"
    )
    before = old.execute(stored).fetchone()
    assert before is not None and before[0] > 0 and before[1] == 0  # only old ids

    warehouse.migrate(old)

    reference = warehouse.connect(new, read_only=True)
    for table in MENTIONS:  # the same ids, and hashes as a load computes them (no new version)
        assert _mentions(old, table) == _mentions(reference, table) != []
    named = (
        "SELECT DISTINCT doc_id, jurisdiction_id, jurisdiction FROM us_doj_sanctuary_mentions "
        "ORDER BY ALL"
    )
    assert old.execute(named).fetchall() == reference.execute(named).fetchall() != []
    made_up = old.execute(
        f"SELECT matched, jurisdiction_id FROM {MENTIONS[0]} WHERE doc_id = 'made-up' ORDER BY ALL"
    ).fetchall()
    assert made_up == sorted((j.doj_name, j.jurisdiction_id) for j in registry.doj_jurisdictions())
    reference.close()
    old.close()


def test_no_view_writes_in_a_jurisdiction_id_of_its_own() -> None:
    """Ids live in the registry: a view or macro that needs one (whose events the Chicago
    portal holds) reads it from there (comments may still show an example)."""
    views = warehouse.schema_dir() / "views"
    written = {
        path.name: found
        for path in sorted(views.glob("*.sql"))
        if path.name != registry.REGISTRY_FILE.name
        and (found := re.findall(r"'(?:state|county|place|agency):[A-Z0-9]+'", _code(path)))
    }
    assert written == {}


def _code(path: Path) -> str:
    return "\n".join(line.split("--")[0] for line in path.read_text(encoding="utf-8").splitlines())
