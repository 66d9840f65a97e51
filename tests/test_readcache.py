"""One evaluation pass reads through a cache (issue 21): each repeated statement is asked of
DuckDB once, and the ledger's verdicts are what the checks give without it."""

from __future__ import annotations

from pathlib import Path

import duckdb

from sanctuarywatch.load import warehouse
from sanctuarywatch.query import checks, claims
from sanctuarywatch.query.readcache import ReadCache, one_pass


def test_a_repeated_statement_is_asked_once_and_its_rows_are_copies() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM range(3) r(i)")
    reads = ReadCache(con)
    first = reads.execute("SELECT list(i) FROM t WHERE i >= ?", [1]).fetchone()
    first[0].append(99)  # a caller changing what it got changes nothing kept
    assert reads.execute("SELECT list(i) FROM t WHERE i >= ?", [1]).fetchone() == ([1, 2],)
    assert reads.execute("SELECT i FROM t WHERE i >= ?", [2]).fetchall() == [(2,)]
    assert reads.execute("SELECT i FROM t WHERE i > 5").fetchone() is None
    assert reads.asked == 3
    assert one_pass(reads) is reads  # a pass inside a pass shares its cache


def test_the_ledger_through_the_cache_equals_the_ledger_without_it(demo_db: Path) -> None:
    with warehouse.connect(demo_db, read_only=True) as con:
        cached = claims.evaluate_all(con)
        plain = [checks.evaluate(con, claim) for claim in claims.load_claims()]
    assert [e.to_dict() for e in cached] == [e.to_dict() for e in plain]
    assert {e.verdict for e in cached} >= {"supported", "contradicted"}
