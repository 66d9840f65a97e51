"""Benchmarks: sanctuarywatch's Chicago collector against the script a user would write
(httpx paging + read_json per page), the read_json ceiling and dlt.

    python benchmarks/run.py [--rows 100000 --rows 1000000 --rows 8000000] [--rounds 5]

Each size runs in rounds: every contender loads the same rows once a round, in turn, into a
new database, and the table gives the median with min-max over the rounds (ratios are taken
within a round, so a slow spell of a shared machine falls on both sides).

Every measured load runs in its own subprocess against one loopback server (this process),
so peak memory is that subprocess's own peak RSS, and all contenders read the same bytes.
Sizes above --ceiling-max / --dlt-max skip read_json / dlt (at 8M the ceiling needs 3.7 GB of
page files; dlt loads ~400 rows/s on the 2-core benchmark machine, so 1M rows would take 40 min).
Temporary files go to benchmarks/_data/ (gitignored) and are removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
PAGE = 20_000  # the Chicago source's own page size (DEFAULT_PAGE_SIZE), for every contender
RESOURCE = "/resource/ijzp-q8t2.json"


# ---- children: each prints one JSON line with its figures and its own peak RSS ----------


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_collect(db: str, url: str, mode: str) -> dict[str, Any]:
    """The collector end to end, exactly as a user runs it (HTTP, archive, parse, load), with
    the source's own page size."""
    from sanctuarywatch.collect.run import collect
    from sanctuarywatch.http import HttpClient, HttpSettings
    from sanctuarywatch.load import warehouse
    from sanctuarywatch.load.archive import Archive
    from sanctuarywatch.sources import Options

    options = Options(mode=mode, base_url=url + RESOURCE, extra={"all_crimes": True})
    con = warehouse.connect(db)
    started = time.perf_counter()
    with HttpClient(HttpSettings()) as client:
        # No politeness on loopback, as for every other contender: a source asks for its
        # upstream's rate (the Chicago portal: 5 requests/s) and `set_rate` keeps the lower of
        # that and the configured one, which put a 0.2 s floor under every page here (10 s a
        # million rows: most of what the collector's time used to be), not the engine's speed.
        client.set_rate = lambda host, rate: None  # type: ignore[method-assign]
        result = collect(con, Archive.beside(db), client, "il_chicago_crimes", options)
        seconds = time.perf_counter() - started
        received = client.bytes_received
    con.close()
    return {
        "seconds": seconds,
        "rows": result.counts.seen,
        "written": result.counts.written,
        "requests": result.requests,
        "bytes": received,
        "peak_mb": _peak_mb(),
    }


def child_read_json(db: str, pages: str) -> dict[str, Any]:
    """The ceiling: DuckDB reading the same page files straight into a table."""
    import duckdb

    con = duckdb.connect(db)
    started = time.perf_counter()
    con.execute("CREATE TABLE crimes AS SELECT * FROM read_json(?, format = 'array')", [pages])
    seconds = time.perf_counter() - started
    rows = con.execute("SELECT count(*) FROM crimes").fetchone()[0]  # type: ignore[index]
    con.close()
    return {"seconds": seconds, "rows": rows, "peak_mb": _peak_mb()}


def child_naive(db: str, url: str) -> dict[str, Any]:
    """The script a user would write: page the endpoint with httpx and insert each page
    with DuckDB's read_json into one table (no versions, no archive, no provenance)."""
    import tempfile

    import duckdb
    import httpx

    con = duckdb.connect(db)
    con.execute("SET enable_progress_bar = false")
    offset = 0
    started = time.perf_counter()
    with httpx.Client(base_url=url, timeout=120) as client, tempfile.TemporaryDirectory() as tmp:
        page_file = Path(tmp) / "page.json"
        while True:
            params = {"$order": ":id", "$limit": PAGE, "$offset": offset}
            response = client.get(RESOURCE, params=params)
            response.raise_for_status()
            if response.content.strip() == b"[]":  # past the last row
                break
            page_file.write_bytes(response.content)
            read = f"SELECT * FROM read_json('{page_file}', format = 'array')"
            if offset == 0:
                con.execute(f"CREATE TABLE crimes AS {read}")
            else:
                con.execute(f"INSERT INTO crimes BY NAME {read}")
            offset += PAGE
    rows = con.execute("SELECT count(*) FROM crimes").fetchone()[0]  # type: ignore[index]
    seconds = time.perf_counter() - started
    con.close()
    return {"seconds": seconds, "rows": rows, "peak_mb": _peak_mb()}


def child_dlt(db: str, url: str) -> dict[str, Any]:
    """The peer: dlt's REST API source paging the same endpoint into DuckDB, configured as
    dlt's performance guide advises for a large source: pages yielded whole (the REST source
    does), Parquet as the loader file format (DuckDB loads it natively), extract files rotated
    so the normalize stage runs in parallel, one normalize worker a core, and in-memory
    buffers bounded (https://dlthub.com/docs/reference/performance)."""
    os.environ["RUNTIME__LOG_LEVEL"] = "WARNING"
    os.environ["DATA_WRITER__BUFFER_MAX_ITEMS"] = str(PAGE)
    os.environ["DATA_WRITER__FILE_MAX_ITEMS"] = str(5 * PAGE)
    os.environ["NORMALIZE__WORKERS"] = str(os.cpu_count() or 1)
    os.environ["LOAD__WORKERS"] = str(os.cpu_count() or 1)
    import dlt
    from dlt.sources.rest_api import rest_api_source

    source = rest_api_source(
        {
            "client": {"base_url": url},
            "resources": [
                {
                    "name": "crimes",
                    "endpoint": {
                        "path": RESOURCE.lstrip("/"),
                        "params": {"$order": ":id", "$select": "*, :id, :updated_at"},
                        "data_selector": "$",
                        "paginator": {
                            "type": "offset",
                            "limit": PAGE,
                            "offset_param": "$offset",
                            "limit_param": "$limit",
                            "total_path": None,
                        },
                    },
                }
            ],
        }
    )
    pipeline = dlt.pipeline(
        pipeline_name="bench",
        destination=dlt.destinations.duckdb(db),
        dataset_name="peer",
        pipelines_dir=str(Path(db).parent / "dlt"),
    )
    started = time.perf_counter()
    pipeline.run(source, loader_file_format="parquet")
    seconds = time.perf_counter() - started
    with pipeline.sql_client() as client:
        rows = client.execute_sql("SELECT count(*) FROM crimes")[0][0]
    return {"seconds": seconds, "rows": rows, "peak_mb": _peak_mb()}


def child_queries(db: str, repeats: int) -> dict[str, Any]:
    """Median and p95 of each query helper (and the claims ledger, if there is one)."""
    from datetime import date

    from sanctuarywatch.load import warehouse
    from sanctuarywatch.query import helpers

    con = warehouse.connect(db)  # writable: the ledger records its evaluations
    out: dict[str, Any] = {}
    windows = [(f"{year}-01-01", f"{year + 1}-01-01") for year in range(2001, 2018)]
    measured = {
        "chicago_homicide_victims(murder, 1 year)": lambda i: con.execute(
            "SELECT chicago_homicide_victims(?, ?, 'murder')", list(windows[i % 17])
        ).fetchall(),
        "chicago_homicide_victims(homicide, 2001-2017)": lambda i: con.execute(
            "SELECT chicago_homicide_victims('2001-01-01', '2018-01-01', 'homicide')"
        ).fetchall(),
        "helpers.count(murder, 1 year; with evidence)": lambda i: helpers.count(
            con,
            "agency:ILCPD0000",
            "murder",
            date(2001 + i % 17, 1, 1),
            date(2002 + i % 17, 1, 1),
        ),
    }
    ledger = _ledger()
    if ledger:
        measured["claims ledger (whole)"] = lambda i: ledger(con)
    for name, run in measured.items():
        run(0)  # warm: the first query pays for loading column segments
        times = []
        for i in range(repeats):
            started = time.perf_counter()
            run(i)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        out[name] = {
            "median_ms": statistics.median(times),
            "p95_ms": times[min(len(times), math.ceil(len(times) * 0.95)) - 1],
        }
    con.close()
    return out


def _ledger() -> Any:
    """The claims ledger's evaluation function, when another area has shipped one."""
    try:
        from sanctuarywatch.query import claims
    except ImportError:
        return None
    for name in ("evaluate_all", "evaluate", "ledger", "run"):
        if callable(getattr(claims, name, None)):
            return getattr(claims, name)
    return None


def child_snapshot(db: str) -> dict[str, Any]:
    """Publishing the readers' snapshot (the daemon's publisher, else checkpoint + copy)."""
    from sanctuarywatch.load import warehouse

    con = warehouse.connect(db)
    try:
        from sanctuarywatch.scheduling.daemon import publish_snapshot

        how = "daemon.publish_snapshot"
        seconds = publish_snapshot(con, db)
    except ImportError:
        how = "CHECKPOINT + copy"
        started = time.perf_counter()
        con.execute("CHECKPOINT")
        shutil.copyfile(db, db + ".snapshot")
        seconds = time.perf_counter() - started
    con.close()
    return {"seconds": seconds, "how": how, "mb": Path(db).stat().st_size / 2**20}


CHILDREN = {
    "collect": child_collect,
    "naive": child_naive,
    "read_json": child_read_json,
    "dlt": child_dlt,
    "queries": child_queries,
    "snapshot": child_snapshot,
}
LOADERS = ("collect", "naive", "read_json", "dlt")  # each measured once a round, interleaved


def spawn(kind: str, *args: object) -> dict[str, Any]:
    """Run one child and return its figures (its stderr goes to ours)."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        kind,
        *(str(a) for a in args),
    ]
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@contextmanager
def busy() -> Iterator[None]:
    """One CPU-bound process beside the measurement: "the machine busy"."""
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        burner.kill()
        burner.wait()


# ---- the parent: serve, run each contender, print the table -------------------------------


def bench_size(total: int, ceiling: bool, peer: bool, rounds: int, repeats: int) -> dict[str, Any]:
    """`rounds` rounds, each loading the same rows once with every contender, in turn (so a
    slow spell of a shared machine falls on all of them), each into a new empty database."""
    from loopback import serve
    from scaled import ScaledDataset, scaled_route

    work = DATA / f"rows_{total}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    dataset = ScaledDataset(total)
    log: list[tuple[str, int]] = []
    out: dict[str, Any] = {"rows": total, "rounds": rounds, "runs": {k: [] for k in LOADERS}}
    if ceiling:  # the same page files for the ceiling and, served from disk, the others
        out["page_bytes"] = dataset.save(work / "pages", PAGE)
    with serve(scaled_route(dataset, log)) as url:
        for number in range(rounds):
            print(f"#   round {number + 1} of {rounds}", file=sys.stderr, flush=True)
            if number:  # the last round's collector warehouse stays for the reruns below
                shutil.rmtree(work / "collect", ignore_errors=True)
            for kind in LOADERS:
                if (kind == "read_json" and not ceiling) or (kind == "dlt" and not peer):
                    continue
                folder = work / kind
                folder.mkdir(exist_ok=True)
                db = str(folder / f"{kind}.duckdb")
                if kind == "collect":
                    figures = spawn("collect", db, url, "backfill")
                elif kind == "read_json":
                    figures = spawn("read_json", db, str(work / "pages" / "*.json"))
                else:
                    figures = spawn(kind, db, url)
                out["runs"][kind].append(figures)
                if kind != "collect":
                    shutil.rmtree(folder, ignore_errors=True)
        db = str(work / "collect" / "collect.duckdb")
        out["rerun"] = []
        for _ in range(rounds):
            log.clear()
            rerun = spawn("collect", db, url, "incremental")
            rerun["server_requests"], rerun["server_bytes"] = len(log), sum(n for _, n in log)
            out["rerun"].append(rerun)
        out["queries"] = spawn("queries", db, repeats)
        with busy():
            out["queries_busy"] = spawn("queries", db, repeats)
        out["snapshot"] = spawn("snapshot", db)
        out["db_mb"] = Path(db).stat().st_size / 2**20
    shutil.rmtree(work, ignore_errors=True)
    return out


def spread(values: list[float], fmt: str = ",.0f") -> str:
    """Median, with min-max when there is more than one run."""
    if not values:
        raise KeyError("not run")
    middle = format(statistics.median(values), fmt)
    if len(values) == 1:
        return middle
    return f"{middle} ({format(min(values), fmt)}-{format(max(values), fmt)})"


def rates(result: dict[str, Any], kind: str) -> list[float]:
    return [float(r["rows"]) / float(r["seconds"]) for r in result["runs"][kind]]


def ratios(result: dict[str, Any], kind: str, other: str) -> list[float]:
    """Per round: the collector's rate over the other's, measured in the same round."""
    return [a / b for a, b in zip(rates(result, kind), rates(result, other), strict=True)]


def table(results: list[dict[str, Any]]) -> str:
    """The results as a Markdown table (printed, and pasted into BENCHMARKS.md)."""
    lines = [
        "| measure | " + " | ".join(f"{r['rows']:,} rows" for r in results) + " |",
        "|---|" + "---|" * len(results),
    ]

    def row(label: str, cell: Any) -> None:
        cells = []
        for r in results:
            try:
                cells.append(cell(r))
            except (KeyError, ValueError):
                cells.append("not run")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    row("rounds (runs of each contender)", lambda r: str(r["rounds"]))
    for kind, label in (
        ("collect", "collector"),
        ("naive", "naive script (httpx + read_json per page)"),
        ("read_json", "read_json ceiling"),
        ("dlt", "dlt"),
    ):
        row(f"{label} rows/s", lambda r, k=kind: spread(rates(r, k)))
        row(
            f"{label} seconds",
            lambda r, k=kind: spread([x["seconds"] for x in r["runs"][k]], ".1f"),
        )
        row(
            f"{label} peak RSS (MB)",
            lambda r, k=kind: spread([x["peak_mb"] for x in r["runs"][k]]),
        )
    row("collector / naive script", lambda r: spread(ratios(r, "collect", "naive"), ".2f"))
    row("collector / ceiling", lambda r: spread(ratios(r, "collect", "read_json"), ".2f"))
    row("collector / dlt", lambda r: spread(ratios(r, "collect", "dlt"), ".2f"))
    row("no-change rerun: seconds", lambda r: spread([x["seconds"] for x in r["rerun"]], ".2f"))
    row("no-change rerun: requests", lambda r: str(r["rerun"][-1]["requests"]))
    row("no-change rerun: bytes", lambda r: f"{r['rerun'][-1]['bytes']:,}")
    row("no-change rerun: rows re-read", lambda r: f"{r['rerun'][-1]['rows']:,}")
    row("no-change rerun: rows written", lambda r: str(r["rerun"][-1]["written"]))
    for name in results[-1]["queries"]:
        row(f"{name} median / p95 (ms)", lambda r, n=name: _latency(r["queries"][n]))
        row(
            f"{name}, one busy core beside, median / p95 (ms)",
            lambda r, n=name: _latency(r["queries_busy"][n]),
        )
    row(
        "snapshot publish (s)", lambda r: f"{r['snapshot']['seconds']:.2f} ({r['snapshot']['how']})"
    )
    row("warehouse file (MB)", lambda r: f"{r['db_mb']:.0f}")
    return "\n".join(lines)


def _latency(figures: dict[str, float]) -> str:
    return f"{figures['median_ms']:.1f} / {figures['p95_ms']:.1f}"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def main() -> int:
    sys.path[:0] = [str(HERE), str(HERE.parent / "scripts")]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, action="append")
    parser.add_argument(
        "--ceiling-max",
        type=int,
        default=1_000_000,
        help="largest size at which the read_json ceiling is also run",
    )
    parser.add_argument(
        "--dlt-max",
        type=int,
        default=100_000,
        help="largest size at which dlt is also run (it is slow)",
    )
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument(
        "--rounds", type=int, default=5, help="runs of each contender at each size (median)"
    )
    parser.add_argument(
        "--big-rounds",
        type=int,
        default=3,
        help="rounds at sizes above --ceiling-max (8M rows: ~2 minutes a run)",
    )
    parser.add_argument("--json", help="also write the raw figures here")
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        call_args: list[Any] = [int(a) if a.isdigit() else a for a in rest]
        print(json.dumps(CHILDREN[kind](*call_args)))
        return 0
    results = []
    for total in args.rows or [100_000, 1_000_000, 8_000_000]:
        print(f"# {total:,} rows ...", file=sys.stderr, flush=True)
        big = total > args.ceiling_max
        rounds = args.big_rounds if big else args.rounds
        results.append(bench_size(total, not big, total <= args.dlt_max, rounds, args.repeats))
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    import duckdb

    print(f"machine: {machine()}; DuckDB {duckdb.__version__}\n")
    print(table(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
