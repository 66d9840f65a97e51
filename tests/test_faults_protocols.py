"""The fault matrix for the DOJ, FBI CDE and Census protocols (tests/test_faults.py has the
Chicago Socrata one): every fault an upstream shows ends in a complete, correct load or in the
project's own error, naming the source and URL, with the warehouse exactly as before; and a
reader re-opening the published snapshot while jobs run loses no run.

All traffic is loopback (scripts/loopback_faults.py, with the protocol-shaped body edits of
scripts/loopback_faults_protocols.py); every case is bounded by small client timeouts and retry
budgets, never by timed assertions. Figures are in RELIABILITY.md.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from conftest import TESTS, fetched

from sanctuarywatch import sources
from sanctuarywatch.collect.run import RunResult, collect
from sanctuarywatch.errors import BotWallError, FetchError, LayoutError, SanctuaryWatchError
from sanctuarywatch.http import HttpClient, HttpSettings
from sanctuarywatch.load import warehouse
from sanctuarywatch.load.archive import Archive, read_blob
from sanctuarywatch.scheduling import daemon, schedule
from sanctuarywatch.sources import Options
from sanctuarywatch.sources import us_census_population as census
from sanctuarywatch.sources import us_doj_speeches as speeches

sys.path.insert(0, str(TESTS.parent / "scripts"))
from loopback_doj import BOT_WALL, DRUPAL_404
from loopback_faults import BOT_PAGE, Fault, FaultPlan, serve_faults
from loopback_faults_protocols import (
    PROXY_ERROR_PAGE,
    emptied_doj_results,
    emptied_listing,
    protocol_routes,
    renamed_csv_column,
    renamed_json_key,
    replaced,
)

SECRET_KEY = "sw-test-cde-key-3e91d0a7"
Rows = dict[str, list[tuple[Any, ...]]]


class LoopbackClient(HttpClient):
    """Small timeouts and budgets so every case ends within seconds, and no politeness pause
    for 127.0.0.1: the sources' per-host rates (0.25 requests/s for the CDE) protect real
    portals, and here the server is the test's own. One TLS context for all clients: making
    one reads the CA bundle (50 ms), and the matrix makes a client per load."""

    TLS = ssl.create_default_context()

    def __init__(self) -> None:
        settings = HttpSettings(
            connect_timeout=2,
            read_timeout=0.5,
            deadline=20,
            retries=3,
            retry_sleep_budget=5,
            backoff_factor=0.05,
        )
        super().__init__(settings, transport=httpx.HTTPTransport(verify=self.TLS))

    def set_rate(self, host: str, requests_per_second: float) -> None:
        if host != "127.0.0.1":
            super().set_rate(host, requests_per_second)


@dataclass(frozen=True)
class Protocol:
    """One source's protocol on the loopback server: a smaller load to prime the warehouse
    with, the load every case makes, the request the shared faults hit (where a load makes
    several, not the first, so a page is already staged when the fault comes), the error
    pages its host would show, and the cases only this protocol has."""

    slug: str
    primed: Callable[[str], Options]
    full: Callable[[str], Options]
    hit: int
    error_page: bytes
    bot_page: bytes
    own: dict[str, tuple[dict[int, Fault], type[SanctuaryWatchError]]] = field(default_factory=dict)


def _doj(start: date) -> Callable[[str], Options]:
    return lambda url: Options(
        mode="backfill", start=start, page_size=4, base_url=url + "/api/v1/press_releases.json"
    )


def _speeches(start: date, end: date | None = None) -> Callable[[str], Options]:
    return lambda url: Options(
        mode="backfill", start=start, end=end, base_url=url + "/news/speeches"
    )


def _cde(host: str, **extra: Any) -> Callable[[str], Options]:
    prefix = {"api": "/crime/fbi/cde", "site": "/LATEST"}[host]
    return lambda url: Options(
        mode="backfill",
        start=date(2024, 1, 1),
        end=date(2025, 1, 1),
        base_url=url + prefix,
        extra={"host": host, **extra},
    )


CENSUS_AFF = {"url": "/aff/PEP_2017_PEPANNRSIP.US12A.csv", "vintage": 2017}
CENSUS_COUNTIES = {
    "url": "/programs-surveys/popest/datasets/2010-2019/counties/totals/co-est2019-alldata.csv",
    "vintage": 2019,
}


def _census(*files: dict[str, Any]) -> Callable[[str], Options]:
    return lambda url: Options(mode="backfill", base_url=url, extra={"files": list(files)})


def _edit(edit: Callable[[bytes], bytes]) -> Fault:
    return Fault("edit", edit=edit)


PROTOCOLS = {
    "doj_press": Protocol(  # pages 0-2 of 4 records (of 43) back to 2014-05-20; primed: page 0
        slug="us_doj_press_releases",
        primed=_doj(date(2014, 8, 9)),
        full=_doj(date(2014, 5, 20)),
        hit=1,
        error_page=DRUPAL_404,
        bot_page=BOT_WALL,
        own={
            "renamed field (uuid)": ({1: _edit(renamed_json_key("uuid", "id"))}, LayoutError),
            "an empty page": ({1: _edit(emptied_doj_results)}, LayoutError),
            "a page repeated": ({1: Fault("repeat", request=0)}, LayoutError),
        },
    ),
    "doj_speeches": Protocol(  # listing 0, Dec 15 speech, listing 1, Miami speech, listing 2
        slug="us_doj_speeches",
        primed=_speeches(date(2017, 12, 1), date(2018, 1, 1)),
        full=_speeches(date(2017, 1, 1)),
        hit=2,
        error_page=DRUPAL_404,
        bot_page=BOT_WALL,
        own={
            "truncated HTML (speech page)": ({3: Fault("truncate")}, LayoutError),
            "HTML error page with 200 (speech page)": (
                {3: Fault("html", body=DRUPAL_404)},
                LayoutError,
            ),
            "renamed field (listing title link)": (
                {2: _edit(replaced(b'class="news-title"', b'class="teaser-title"'))},
                LayoutError,
            ),
            "renamed field (speech page title)": (
                {3: _edit(replaced(b'class="page-title"', b'class="node-title"'))},
                LayoutError,
            ),
        },
    ),
    "fbi_monthly": Protocol(  # keyed API: an unknown ORI (actuals null), then Chicago PD 2024
        slug="us_fbi_cde_agency_monthly",
        primed=_cde("site", agencies=["ILCPD0000"], offenses=["V"]),
        full=_cde("api", agencies=["IL9999999", "ILCPD0000"], offenses=["V"]),
        hit=1,
        error_page=PROXY_ERROR_PAGE,
        bot_page=BOT_PAGE,
        own={
            "renamed field (actuals)": (
                {1: _edit(renamed_json_key("actuals", "counts"))},
                LayoutError,
            )
        },
    ),
    "fbi_agencies": Protocol(  # keyed API, one request (Illinois); primed through the site
        slug="us_fbi_cde_agencies",
        primed=_cde("site", states=["IL"]),
        full=_cde("api", states=["IL"]),
        hit=0,
        error_page=PROXY_ERROR_PAGE,
        bot_page=BOT_PAGE,
        own={"renamed field (ori)": ({0: _edit(renamed_json_key("ori", "ORI"))}, LayoutError)},
    ),
    "census": Protocol(  # the vintage-2017 city file, then the vintage-2019 county file
        slug="us_census_population",
        primed=_census(CENSUS_AFF),
        full=_census(CENSUS_AFF, CENSUS_COUNTIES),
        hit=1,
        error_page=PROXY_ERROR_PAGE,
        bot_page=BOT_PAGE,
        own={
            "renamed field (COUNTY)": ({1: _edit(renamed_csv_column("COUNTY", "CTY"))}, LayoutError)
        },
    ),
}


def _json_error(status: int) -> bytes:
    return json.dumps({"error": True, "message": f"status {status}"}).encode()


def recovers(n: int) -> dict[str, dict[int, Fault]]:
    """Transient faults around request n, each followed by a good answer within the budget."""
    return {
        "429 with Retry-After": {n: Fault("status", 429, {"Retry-After": "1"}, _json_error(429))},
        "burst of 500 and 503": {
            n: Fault("status", 500, body=_json_error(500)),
            n + 1: Fault("status", 503, body=_json_error(503)),
            n + 3: Fault("status", 503, {"Retry-After": "0"}, _json_error(503)),
        },
        "read timeout before headers": {n: Fault("stall", seconds=1.0)},
    }


def fails(protocol: Protocol) -> dict[str, tuple[dict[int, Fault], type[SanctuaryWatchError]]]:
    """Bad answers at the protocol's request `hit`, and the error each must end in."""
    n = protocol.hit
    shared: dict[str, tuple[dict[int, Fault], type[SanctuaryWatchError]]] = {
        "500 on every retry": (
            {n + k: Fault("status", 500, body=_json_error(500)) for k in range(5)},
            FetchError,
        ),
        "read timeout mid-body": ({n: Fault("stall_body", seconds=1.0)}, FetchError),
        "connection reset mid-body": ({n: Fault("reset")}, FetchError),
        "truncated body": ({n: Fault("truncate")}, LayoutError),
        "HTML error page with 200": ({n: Fault("html", body=protocol.error_page)}, LayoutError),
        "bot-protection page with 200": ({n: Fault("html", body=protocol.bot_page)}, BotWallError),
    }
    return shared | protocol.own


RECOVER_CASES = [
    pytest.param(name, faults, id=f"{name}-{case}")
    for name, protocol in PROTOCOLS.items()
    for case, faults in recovers(protocol.hit).items()
]
FAIL_CASES = [
    pytest.param(name, faults, error, id=f"{name}-{case}")
    for name, protocol in PROTOCOLS.items()
    for case, (faults, error) in fails(protocol).items()
]


@pytest.fixture(autouse=True)
def cde_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The keyed CDE host needs a key; the tests check it never leaks."""
    monkeypatch.setenv("SANCTUARYWATCH_FBI_API_KEY", SECRET_KEY)


def load(
    con: duckdb.DuckDBPyConnection, archive: Archive, slug: str, options: Options
) -> RunResult:
    with LoopbackClient() as http:
        return collect(con, archive, http, slug, options)


def contents(con: duckdb.DuckDBPyConnection, slug: str) -> Rows:
    """Everything a load of `slug` writes, except the `runs` log (a failed run is recorded)."""
    tables = [f"{table}_versions" for table in sources.get(slug).TABLES]
    return {
        table: con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
        for table in (*tables, "raw_responses", "source_state")
    }


FACT_COLUMNS: dict[str, str] = {}  # by table: every warehouse here has the same schema


def facts(con: duckdb.DuckDBPyConnection, slug: str) -> Rows:
    """The current records of every table of `slug`, without run-specific columns."""
    out = {}
    for table in sources.get(slug).TABLES:
        if table not in FACT_COLUMNS:  # looked up once: the catalog query takes 10-15 ms
            FACT_COLUMNS[table] = ", ".join(n for n, _ in warehouse.fact_columns(con, table))
        out[table] = con.execute(
            f"SELECT {FACT_COLUMNS[table]} FROM {table}_versions WHERE valid_to IS NULL "
            "ORDER BY ALL"
        ).fetchall()
    return out


class Warehouses:
    """Warehouse files made once per module and copied for each case: migrating a new
    warehouse takes longer than most cases. `primed` holds part of a protocol's data, so
    'exactly as before' is not 'empty'; `clean` is a fault-free full load, what every
    recovered load must equal."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.template = root / "template.duckdb"
        warehouse.connect(self.template).close()
        self.files: dict[str, Path] = {}
        self.clean_facts: dict[str, Rows] = {}

    @contextlib.contextmanager
    def primed(self, name: str, into: Path) -> Iterator[duckdb.DuckDBPyConnection]:
        if name not in self.files:
            self.files[name] = self._load(name, "primed")
        yield from self._open_copy(self.files[name], into)

    def clean(self, name: str) -> Rows:
        if name not in self.clean_facts:
            with contextlib.closing(duckdb.connect(str(self._load(name, "full")))) as con:
                self.clean_facts[name] = facts(con, PROTOCOLS[name].slug)
        return self.clean_facts[name]

    def _load(self, name: str, which: str) -> Path:
        """A copy of the template with the protocol's `primed` or `full` load, fault-free."""
        target = self.root / f"{name}-{which}.duckdb"
        shutil.copyfile(self.template, target)
        options = getattr(PROTOCOLS[name], which)
        with contextlib.closing(warehouse.connect(target)) as con:
            with serve_faults(protocol_routes(), FaultPlan()) as url:
                result = load(con, Archive(self.root / "raw"), PROTOCOLS[name].slug, options(url))
            assert result.status == "success" and any(facts(con, result.source).values())
        return target

    @staticmethod
    def _open_copy(path: Path, into: Path) -> Iterator[duckdb.DuckDBPyConnection]:
        copy = into / path.name
        shutil.copyfile(path, copy)
        con = warehouse.connect(copy)
        try:
            yield con
        finally:
            con.close()


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory: pytest.TempPathFactory) -> Warehouses:
    return Warehouses(tmp_path_factory.mktemp("warehouses"))


@pytest.mark.parametrize(("name", "faults"), RECOVER_CASES)
def test_transient_faults_end_in_a_complete_correct_load(
    warehouses: Warehouses, archive: Archive, tmp_path: Path, name: str, faults: dict[int, Fault]
) -> None:
    protocol, plan = PROTOCOLS[name], FaultPlan(faults=dict(faults))
    with warehouses.primed(name, tmp_path) as con:
        assert facts(con, protocol.slug) != warehouses.clean(name)
        with serve_faults(protocol_routes(), plan) as url:
            result = load(con, archive, protocol.slug, protocol.full(url))
        assert result.status == "success"
        assert facts(con, protocol.slug) == warehouses.clean(name)
    assert len(plan.log) > result.requests  # the faults were served and retried


@pytest.mark.parametrize(("name", "faults", "error"), FAIL_CASES)
def test_bad_answers_end_in_a_clear_error_and_an_untouched_warehouse(
    warehouses: Warehouses,
    archive: Archive,
    tmp_path: Path,
    name: str,
    faults: dict[int, Fault],
    error: type[SanctuaryWatchError],
) -> None:
    protocol = PROTOCOLS[name]
    with warehouses.primed(name, tmp_path) as con:
        before = contents(con, protocol.slug)
        with (
            serve_faults(protocol_routes(), FaultPlan(faults=dict(faults))) as url,
            pytest.raises(SanctuaryWatchError) as raised,
        ):
            load(con, archive, protocol.slug, protocol.full(url))
        assert contents(con, protocol.slug) == before
        status, logged = con.execute(
            "SELECT status, error FROM runs ORDER BY started_at DESC LIMIT 1"
        ).fetchone() or ("", "")
    message = str(raised.value)
    assert type(raised.value) is error, message
    assert raised.value.source == protocol.slug  # type: ignore[attr-defined]
    assert re.search(re.escape(url) + r"/\S", message), message  # names the URL asked for
    assert SECRET_KEY not in message
    assert status == "failed" and protocol.slug in logged


@pytest.mark.parametrize(
    "fault",
    [Fault("edit", edit=emptied_listing), Fault("repeat", request=0)],
    ids=["an empty listing page", "a listing page repeated"],
)
def test_a_short_speech_listing_ends_the_walk_and_the_next_run_completes(
    warehouses: Warehouses, archive: Archive, tmp_path: Path, fault: Fault
) -> None:
    """The speech listing gives no count, and past its last page Drupal serves the last page
    again; so an empty or repeated listing page looks like the end: the run loads exactly what
    came before it, fetches no speech twice, and the next run completes the data."""
    protocol = PROTOCOLS["doj_speeches"]
    with (
        warehouses.primed("doj_speeches", tmp_path) as con,
        serve_faults(protocol_routes(), FaultPlan(faults={2: fault})) as url,
    ):
        first = load(con, archive, protocol.slug, protocol.full(url))
        assert (first.status, first.requests, first.counts.seen) == ("success", 3, 1)
        load(con, archive, protocol.slug, protocol.full(url))
        assert facts(con, protocol.slug) == warehouses.clean("doj_speeches")


def test_the_cde_key_reaches_neither_the_warehouse_nor_the_archive(
    con: duckdb.DuckDBPyConnection, archive: Archive, tmp_path: Path
) -> None:
    protocol = PROTOCOLS["fbi_monthly"]
    plan = FaultPlan()
    with serve_faults(protocol_routes(), plan) as url:
        load(con, archive, protocol.slug, protocol.full(url))
    assert all(params.get("API_KEY") == SECRET_KEY for params in plan.log)  # it was sent
    stored = con.execute("SELECT string_agg(url, ' ') FROM raw_responses").fetchone()
    assert stored is not None and "API_KEY=REDACTED" in stored[0] and SECRET_KEY not in stored[0]
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    blobs = [read_blob(p) if p.suffix in (".gz", ".zst") else p.read_bytes() for p in files]
    assert files and not [blob for blob in blobs if SECRET_KEY.encode() in blob]


# ---- parser guards behind the matrix's cases (pure, on the real files) -------------------


def test_a_census_file_cut_inside_its_last_value_is_a_layout_error() -> None:
    body = (
        TESTS / "fixtures" / census.SLUG / "co-est2019-alldata_MiamiDade_extract.csv"
    ).read_bytes()
    cut = body.rstrip(b"\n")[:-3]  # 2716940 -> 2716: same number of fields, a wrong figure
    with pytest.raises(LayoutError, match="cut short"):
        census.parse(fetched(census.SLUG, cut, content_type="text/csv"), "vintage:2019")


def test_a_whole_speech_page_may_end_in_comments_but_a_cut_one_is_a_layout_error() -> None:
    page = TESTS / "fixtures" / speeches.SLUG / "current_speech_miami_2017-08-16.CONSTRUCTED.html"
    body = page.read_bytes() + b"\n<!--\n     FILE ARCHIVED ON 12:00:00 Aug 17, 2017\n-->\n"
    assert speeches.parse(fetched(speeches.SLUG, body, content_type="text/html"), "speech")
    with pytest.raises(LayoutError, match="ending with </html>"):
        cut = body[: body.index(b"</main>")]
        speeches.parse(fetched(speeches.SLUG, cut, content_type="text/html"), "speech")


# ---- a reader beside the jobs ----------------------------------------------------------

READER = """
import sys, duckdb
for line in sys.stdin:  # one open per line; the test closes stdin to stop
    try:
        with duckdb.connect(sys.argv[1], read_only=True) as con:
            print(con.execute("SELECT count(*) FROM runs").fetchone()[0], flush=True)
    except Exception as exc:
        print("error", repr(exc), file=sys.stderr, flush=True)
        print(-1, flush=True)
"""


class LoopbackRunner(daemon.JobRunner):
    """The daemon's job runner, fetching through the fault matrix's client."""

    def client(self) -> HttpClient:
        return LoopbackClient()


def _job(url: str) -> schedule.Job:
    """One job collecting every protocol of this file, as a cron.yaml entry would."""
    steps = []
    for protocol in PROTOCOLS.values():
        options = protocol.full(url)
        values = {k: v for k, v in vars(options).items() if v is not None}
        steps.append(schedule.Step(protocol.slug, values))
    return schedule.Job("matrix", "@every 1h", "UTC", tuple(steps), False, "test")


class Reader:
    """A second process opening the published snapshot again and again, one open per line
    sent; a thread keeps it asking while the test runs jobs, and records what it saw."""

    def __init__(self, snapshot: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", READER, str(snapshot)],
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.seen: list[tuple[int, bool]] = []  # (runs in the snapshot, a job was running)
        self.job_running = threading.Event()
        self.stop = threading.Event()
        self.answered = threading.Condition()
        self.asking = threading.Thread(target=self._ask, daemon=True)
        self.asking.start()

    def _ask(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        while not self.stop.is_set():
            running = self.job_running.is_set()
            self.proc.stdin.write("?\n")
            self.proc.stdin.flush()
            answer = (int(self.proc.stdout.readline()), running)
            with self.answered:
                self.seen.append(answer)
                self.answered.notify_all()

    def wait_to_see(self, runs: int) -> bool:
        """Until the reader has opened a snapshot with `runs` runs (the bound is for a hang)."""
        with self.answered:
            return self.answered.wait_for(lambda: self.seen[-1][0] == runs, timeout=60)

    def close(self) -> str:
        self.stop.set()
        self.asking.join(timeout=30)
        _, errors = self.proc.communicate(timeout=30)
        return errors


@pytest.fixture
def jobs_beside_a_reader(tmp_path: Path) -> Iterator[tuple[LoopbackRunner, str, FaultPlan]]:
    """The daemon's runner on a warehouse file, and a server answering 503 now and then."""
    db = tmp_path / "warehouse" / "w.duckdb"
    con = warehouse.connect(db)
    faults = {
        n: Fault("status", 503, {"Retry-After": "0"}, _json_error(503)) for n in range(3, 400, 9)
    }
    plan = FaultPlan(faults=faults)
    with serve_faults(protocol_routes(), plan) as url:
        yield LoopbackRunner(con, db), url, plan
    con.close()


JOBS = 3


@pytest.mark.slow
def test_a_reader_reopening_the_snapshot_during_jobs_loses_no_run(
    jobs_beside_a_reader: tuple[LoopbackRunner, str, FaultPlan],
) -> None:
    """The daemon's design: one writer holds the live file and publishes a snapshot after
    every job; a reader process opens the snapshot over and over while jobs run (and some
    requests fail and are retried). Every run is recorded, the reader never fails to open,
    never sees an older snapshot after a newer one, and never half a job."""
    runner, url, plan = jobs_beside_a_reader
    job = _job(url)
    assert runner.run(job).ok  # the first snapshot, for the reader to open
    reader = Reader(daemon.snapshot_path(runner.db))
    reports = []
    for _ in range(JOBS):
        reader.job_running.set()
        reports.append(runner.run(job))
        reader.job_running.clear()
    total = (JOBS + 1) * len(PROTOCOLS)
    assert reader.wait_to_see(total)  # the last job's snapshot reached the reader
    errors = reader.close()
    assert all(report.ok for report in reports) and errors == ""
    statuses = runner.con.execute("SELECT status, count(*) FROM runs GROUP BY ALL").fetchall()
    assert statuses == [("success", total)]  # every run recorded, none left running or failed
    with duckdb.connect(str(daemon.snapshot_path(runner.db)), read_only=True) as snapshot:
        assert snapshot.execute("SELECT count(*) FROM runs").fetchone() == (total,)
    counts = [runs for runs, _ in reader.seen]
    assert counts == sorted(counts) and counts[0] >= len(PROTOCOLS)  # never an older snapshot
    assert all(runs % len(PROTOCOLS) == 0 for runs in counts)  # whole jobs only, never half
    assert [runs for runs, during in reader.seen if during]  # it did read while jobs ran
    assert len(plan.log) > sum(r.requests for report in reports for r in report.results)
