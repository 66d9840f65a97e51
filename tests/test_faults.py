"""The fault matrix: every failure an upstream shows ends in a complete load or a clear error,
with the warehouse exactly as before; kill -9 never leaves half a run; reruns never duplicate;
secrets never reach disk or logs; parsers only ever raise the project's own errors.

All traffic is loopback (scripts/loopback_faults.py); every case is bounded by small client
timeouts and retry budgets, never by timed assertions. Figures are in RELIABILITY.md.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import SHARED_DATA, TESTS, fetched
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sanctuarywatch import sources
from sanctuarywatch.collect.loader import normalise
from sanctuarywatch.collect.run import collect
from sanctuarywatch.errors import BotWallError, FetchError, LayoutError, SanctuaryWatchError
from sanctuarywatch.http import HttpClient, HttpSettings
from sanctuarywatch.load import warehouse
from sanctuarywatch.load.archive import Archive, read_blob
from sanctuarywatch.sources import Options
from sanctuarywatch.sources import il_chicago_crimes as chicago
from sanctuarywatch.sources.platforms import socrata

sys.path.insert(0, str(TESTS.parent / "scripts"))
import contextlib

from loopback import chicago_2016_2017_route, chicago_route
from loopback_faults import BOT_PAGE, ERROR_PAGE, Fault, FaultPlan, serve_faults

RESOURCE = "/resource/ijzp-q8t2.json"
SLUG = chicago.SLUG
YEAR_2016 = dict(mode="backfill", start=date(2016, 1, 1), end=date(2017, 1, 1), page_size=200)
BOTH_YEARS = dict(mode="backfill", start=date(2016, 1, 1), end=date(2018, 1, 1), page_size=500)
FACTS = "il_chicago_crimes_versions"
SECRET_TOKEN = "sw-test-app-token-7f3a9c1e"
SECRET_KEY = "sw-test-fbi-key-b81d44e0"


def client() -> HttpClient:
    """Small timeouts and budgets so every fault case ends within seconds."""
    return HttpClient(
        HttpSettings(
            connect_timeout=2,
            read_timeout=1.0,
            deadline=20,
            retries=3,
            retry_sleep_budget=5,
            backoff_factor=0.05,
            requests_per_second={"127.0.0.1": 1000.0},
        )
    )


def contents(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    """Everything a load writes, except the `runs` log (a failed run is recorded there)."""
    return {
        table: con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
        for table in (FACTS, "raw_responses", "source_state")
    }


def facts(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    """The current Chicago records without run-specific columns (to compare two loads)."""
    cols = [name for name, _ in warehouse.fact_columns(con, "il_chicago_crimes")]
    return con.execute(f"SELECT {', '.join(cols)} FROM il_chicago_crimes ORDER BY id").fetchall()


def load(con: duckdb.DuckDBPyConnection, archive: Archive, url: str, **options: Any) -> Any:
    with client() as http:
        return collect(con, archive, http, SLUG, Options(base_url=url + RESOURCE, **options))


@pytest.fixture(scope="module")
def clean_both_years(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Any, ...]]:
    """A clean, fault-free load of 2016-2017: what every recovered load must equal."""
    con = warehouse.connect(":memory:")
    with serve_faults(chicago_2016_2017_route(), FaultPlan()) as url:
        load(con, Archive(tmp_path_factory.mktemp("clean")), url, **BOTH_YEARS)
    rows = facts(con)
    con.close()
    return rows


@pytest.fixture
def primed(con: duckdb.DuckDBPyConnection, archive: Archive) -> duckdb.DuckDBPyConnection:
    """A warehouse holding 2016 already, so 'exactly as before' is not trivially 'empty'."""
    with serve_faults(chicago_2016_2017_route(), FaultPlan()) as url:
        load(con, archive, url, **YEAR_2016)
    return con


def _json_error(status: int) -> bytes:
    return json.dumps({"error": True, "message": f"status {status}"}).encode()


RECOVERS = {
    "429 with Retry-After": {1: Fault("status", 429, {"Retry-After": "1"}, _json_error(429))},
    "burst of 500 and 503": {
        0: Fault("status", 500, body=_json_error(500)),
        1: Fault("status", 503, body=_json_error(503)),
        3: Fault("status", 503, {"Retry-After": "0"}, _json_error(503)),
    },
    "read timeout before headers": {1: Fault("stall", seconds=1.6)},
}
FAILS = {
    "500 on every retry": (
        {n: Fault("status", 500, body=_json_error(500)) for n in range(1, 6)},
        FetchError,
    ),
    "read timeout mid-body": ({1: Fault("stall_body", seconds=1.6)}, FetchError),
    "connection reset mid-body": ({1: Fault("reset")}, FetchError),
    "truncated JSON": ({1: Fault("truncate")}, LayoutError),
    "HTML error page with 200": ({1: Fault("html", body=ERROR_PAGE)}, LayoutError),
    "bot-protection page with 200": ({1: Fault("html", body=BOT_PAGE)}, BotWallError),
    "renamed field": ({1: Fault("rename", rename=("date", "date_of_occurrence"))}, LayoutError),
    "a page repeated": ({1: Fault("repeat", request=0)}, LayoutError),
}


@pytest.mark.parametrize("faults", RECOVERS.values(), ids=RECOVERS.keys())
def test_transient_faults_end_in_a_complete_correct_load(
    primed: duckdb.DuckDBPyConnection,
    archive: Archive,
    faults: dict[int, Fault],
    clean_both_years: list[tuple[Any, ...]],
) -> None:
    plan = FaultPlan(faults=dict(faults))
    with serve_faults(chicago_2016_2017_route(), plan) as url:
        result = load(primed, archive, url, **BOTH_YEARS)
    assert result.status == "success"
    assert facts(primed) == clean_both_years
    assert len(plan.log) > result.requests  # the faults were served and retried


@pytest.mark.parametrize(("faults", "error"), FAILS.values(), ids=FAILS.keys())
def test_bad_answers_end_in_a_clear_error_and_an_untouched_warehouse(
    primed: duckdb.DuckDBPyConnection,
    archive: Archive,
    faults: dict[int, Fault],
    error: type[SanctuaryWatchError],
) -> None:
    before = contents(primed)
    with (
        serve_faults(chicago_2016_2017_route(), FaultPlan(faults=dict(faults))) as url,
        pytest.raises(error) as raised,
    ):
        load(primed, archive, url, **BOTH_YEARS)
    assert raised.value.source == SLUG  # type: ignore[attr-defined]
    assert "127.0.0.1" in str(raised.value) and RESOURCE in str(raised.value)
    assert contents(primed) == before
    status, message = primed.execute(
        "SELECT status, error FROM runs ORDER BY started_at DESC LIMIT 1"
    ).fetchone() or ("", "")
    assert status == "failed" and SLUG in message


def test_an_empty_page_ends_the_walk_and_the_next_run_completes(
    primed: duckdb.DuckDBPyConnection,
    archive: Archive,
    clean_both_years: list[tuple[Any, ...]],
) -> None:
    """Socrata ends a walk with a short page, so an empty page mid-walk looks like the end:
    the run loads exactly the pages before it (no duplicates, nothing half-written), and the
    next run, with nothing faulty, completes the data."""
    with serve_faults(chicago_2016_2017_route(), FaultPlan(faults={1: Fault("empty")})) as url:
        first = load(primed, archive, url, **BOTH_YEARS)
        assert first.status == "success" and first.counts.seen == 500
        load(primed, archive, url, **BOTH_YEARS)
    assert facts(primed) == clean_both_years


def test_ten_reruns_write_no_duplicates(con: duckdb.DuckDBPyConnection, archive: Archive) -> None:
    with serve_faults(chicago_2016_2017_route(), FaultPlan()) as url:
        results = [load(con, archive, url, **BOTH_YEARS) for _ in range(5)]
        results += [load(con, archive, url) for _ in range(5)]  # incremental
    assert [r.counts.written for r in results] == [1458] + [0] * 9
    versions, ids, current = con.execute(
        f"SELECT count(*), count(DISTINCT id), (SELECT count(*) FROM il_chicago_crimes) "
        f"FROM {FACTS}"
    ).fetchone() or (0, 0, 0)
    assert versions == ids == current == 1458


# ---- kill -9 ---------------------------------------------------------------------------------


# the CLI, merging its stage every 2,000 rows (a big load's slices, in a small one)
IN_SLICES = (
    "import sys; from sanctuarywatch.load.warehouse import Stage; Stage.FLUSH_ROWS = 2000; "
    "from sanctuarywatch.cli import main; sys.exit(main(sys.argv[1:]))"
)


def _cli(db: Path, url: str, *extra: str, slices: bool = False) -> list[str]:
    return [
        sys.executable,
        *(["-c", IN_SLICES] if slices else ["-m", "sanctuarywatch"]),
        "--db",
        str(db),
        *extra,
        "collect",
        SLUG,
        "--mode",
        "backfill",
        "--page-size",
        "1000",
        "--base-url",
        url + RESOURCE,
    ]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANCTUARYWATCH_")}
    return env | {"SANCTUARYWATCH_HTTP_RETRIES": "2"} | extra


def _all_or_nothing(db: Path) -> int:
    """Versions exist only from runs that committed, and each such run wrote everything."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        created = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [FACTS]
        ).fetchone()
        if created == (0,):  # killed during the first run's migrations: nothing loaded yet
            return 0
        bad = con.execute(
            f"SELECT count(*) FROM {FACTS} v LEFT JOIN runs r USING (run_id) "
            f"WHERE r.status IS DISTINCT FROM 'success'"
        ).fetchone()
        raw = con.execute(
            "SELECT count(*) FROM raw_responses x LEFT JOIN runs r USING (run_id) "
            "WHERE r.status IS DISTINCT FROM 'success'"
        ).fetchone()
        count = con.execute(f"SELECT count(*) FROM {FACTS}").fetchone()
    finally:
        con.close()
    assert bad == (0,) and raw == (0,)
    assert count is not None and count[0] in (0, 8922)
    return int(count[0])


@pytest.mark.slow
def test_kill_9_twenty_times_leaves_all_or_nothing(tmp_path: Path) -> None:
    """The killed runs merge in slices of 2,000 rows, so kills also land after slices were
    merged inside the transaction; the clean run to compare with merges once."""
    db = tmp_path / "sw.duckdb"
    rng = random.Random(7)
    survived = 0
    with serve_faults(chicago_route(), FaultPlan(delay=0.05)) as url:
        for _ in range(20):
            process = subprocess.Popen(
                _cli(db, url, slices=True),
                env=_env(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(rng.uniform(0.3, 2.5))
            process.kill()
            process.wait(timeout=30)
            if db.exists():
                _all_or_nothing(db)
            survived += 1
        finish = _cli(db, url, slices=True)
        subprocess.run(finish, env=_env(), check=True, capture_output=True, timeout=120)
        clean = tmp_path / "clean.duckdb"
        subprocess.run(_cli(clean, url), env=_env(), check=True, capture_output=True, timeout=120)
    assert survived == 20 and _all_or_nothing(db) == 8922
    spill = db.with_name(db.name + ".tmp")
    assert not list(spill.glob(f"{warehouse.STAGE_PREFIX}*"))  # killed runs' batches swept
    with (
        duckdb.connect(str(db), read_only=True) as a,
        duckdb.connect(str(clean), read_only=True) as b,
    ):
        assert facts(a) == facts(b)


# ---- secrets ---------------------------------------------------------------------------------


def _files(*roots: Path) -> Iterator[Path]:
    for root in roots:
        yield from (p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]


@pytest.mark.slow
def test_secrets_never_reach_the_warehouse_archive_logs_or_cassettes(tmp_path: Path) -> None:
    db = tmp_path / "sw.duckdb"
    env = _env(SANCTUARYWATCH_SOCRATA_APP_TOKEN=SECRET_TOKEN, SANCTUARYWATCH_FBI_API_KEY=SECRET_KEY)
    faults = {1: Fault("status", 503, {"Retry-After": "0"}, _json_error(503))}
    with serve_faults(chicago_2016_2017_route(), FaultPlan(faults=faults)) as url:
        done = subprocess.run(_cli(db, url, "-v"), env=env, capture_output=True, timeout=120)
        failed = subprocess.run(  # a failing run logs its error and URL too
            [*_cli(db, url, "-v")[:-1], url + "/resource/zzzz-zzzz.json"],
            env=env,
            capture_output=True,
            timeout=120,
        )
    assert done.returncode == 0 and failed.returncode != 0
    logs = done.stdout + done.stderr + failed.stdout + failed.stderr
    assert b"REDACTED" in logs or b"X-App-Token" not in logs
    blobs = [
        read_blob(p) if p.suffix in (".gz", ".zst") else p.read_bytes()
        for p in _files(tmp_path, TESTS / "cassettes")
    ]
    for secret in (SECRET_TOKEN, SECRET_KEY):
        assert secret.encode() not in logs
        assert not [b for b in blobs if secret.encode() in b]


# ---- fuzzing ---------------------------------------------------------------------------------

CHICAGO_DATA = SHARED_DATA / "chicago"
REAL_PAGE = (CHICAGO_DATA / "soda_homicides_2016_2017.DERIVED.json").read_bytes()[:60_000]
REAL_CSV = (SHARED_DATA / "chicago" / "homicide_victims_2001_2017.csv").read_bytes()[:20_000]
FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _mutated(real: bytes) -> st.SearchStrategy[bytes]:
    """A real page with a few bytes flipped, cut, or spliced with arbitrary bytes."""

    def mutate(cuts: list[tuple[int, bytes]]) -> bytes:
        body = bytearray(real)
        for position, junk in cuts:
            at = position % max(1, len(body))
            body[at : at + len(junk)] = junk
        return bytes(body)

    return st.lists(st.tuples(st.integers(0, 10**6), st.binary(max_size=8)), max_size=6).map(mutate)


def _value() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.text(max_size=30),
        st.sampled_from(
            [
                "0110",
                "2017-01-01T00:00:00",
                "9999-12-31T23:59:59",
                "0001-01-01T00:00:00",
                "01/02/2017 01:00:00 PM",
                "nan",
                "18.5",
                "1e400",
                " 7 ",
                "true",
                "Y",
            ]
        ),
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3)
        ),
        max_leaves=6,
    )


def _only_our_errors(call: Any, *args: Any) -> None:
    with contextlib.suppress(SanctuaryWatchError):
        call(*args)


def _parse_and_normalize(body: bytes, content_type: str = "application/json") -> None:
    page = fetched(SLUG, body, content_type=content_type)
    normalise(chicago, chicago.parse(page, "rows"), "rows")


@FUZZ
@given(st.one_of(st.binary(max_size=2000), _mutated(REAL_PAGE)))
def test_fuzz_socrata_json_pages(body: bytes) -> None:
    _only_our_errors(_parse_and_normalize, body)
    _only_our_errors(socrata.read_page, fetched(SLUG, body), chicago.FIELDS)


@FUZZ
@given(st.one_of(st.binary(max_size=2000), _mutated(REAL_CSV)))
def test_fuzz_socrata_csv(body: bytes) -> None:
    def parse_and_normalize() -> None:
        normalise(chicago, socrata.parse_csv(SLUG, "fuzz.csv", body), "rows")

    _only_our_errors(parse_and_normalize)


@FUZZ
@given(
    st.lists(
        st.fixed_dictionaries(
            {name: _value() for name in chicago.REQUIRED},
            optional={
                name: _value()
                for name in (
                    "location",
                    "latitude",
                    "longitude",
                    "beat",
                    "ward",
                    "district",
                    "x_coordinate",
                    ":updated_at",
                    "arrest",
                    "updated_on",
                    "year",
                    "community_area",
                )
            },
        ),
        max_size=4,
    )
)
def test_fuzz_chicago_rows_of_arbitrary_values(rows: list[dict[str, Any]]) -> None:
    _only_our_errors(_parse_and_normalize, json.dumps(rows, default=str).encode())
    _only_our_errors(normalise, chicago, rows, "rows")


def _source_cases() -> list[tuple[str, str]]:
    """(source, kind) pairs for every source's parser; kinds a source names in its module."""
    cases = []
    for slug in sources.SOURCE_MODULES:
        module = sources.get(slug)
        kinds = getattr(module, "KINDS", None) or ["rows"]
        cases += [(slug, kind) for kind in kinds]
    return cases


@pytest.mark.parametrize(("slug", "kind"), _source_cases())
@FUZZ
@given(
    body=st.one_of(
        st.binary(max_size=1500), _mutated(REAL_PAGE[:5000]), st.text(max_size=400).map(str.encode)
    )
)
def test_fuzz_every_source_parser(slug: str, kind: str, body: bytes) -> None:
    module = sources.get(slug)
    for content_type in ("application/json", "text/html", "text/csv"):
        page = fetched(slug, body, content_type=content_type)
        with contextlib.suppress(SanctuaryWatchError):
            normalise(module, module.parse(page, kind), kind)
