"""Benchmark: many agencies fetched by parallel workers into one raw archive, then one loader.

    python benchmarks/fetch_workers.py [--agencies 50] [--workers 4] [--runs 5]

What the Dagster definitions split apart (issue 22), measured without Dagster's own costs:
`collect.fetch_to_archive` per agency (one partition each) in worker processes that share one
archive folder, then `collect.load_from_archive` for every fetch in one process (the single
writer). The source is us_ucr_agency_monthly: each agency's monthly file is one request, and
the politeness delay between two requests to a host (the source's REQUESTS_PER_SECOND, or
--delay) is kept by each worker's client, so W workers ask the host W times as often. The
loopback server serves each agency one of the five real Kaplan extracts in
../shared/data/ucr_monthly with its ORI column rewritten to the agency's (DERIVED: real lines,
made-up agencies, for volume only).

Each run measures, in this order or the reverse (alternating): the contender, one worker
fetching every agency; then W workers, each a process with its own client fetching every
W-th agency. Each fetch is loaded into a fresh warehouse after it (`load`: wall-clock of the
loading process, start and schema included; `load_in_child`: the loads alone; `claims_once`:
the one re-evaluation after them). Fetch times are wall-clock from the parent, process starts
included. Prints a JSON summary (medians, min-max, the machine).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "scripts"))
UCR = HERE.parents[1] / "shared" / "data" / "ucr_monthly"
PREFIX = "/jacobkap/crimedatatool_helper/bench/data/offenses_monthly/"
SLUG = "us_ucr_agency_monthly"


def ori(number: int) -> str:
    return f"BM{number:05d}00"  # nine characters; the file's ORI column holds the first seven


def agency_file(number: int) -> str:
    return f"Bench_Agency_{number:05d}"


def bodies(agencies: int) -> dict[str, bytes]:
    """Each agency's file: a real extract (in turn) with the ORI column set to its own."""
    extracts = sorted(UCR.glob("*.csv"))
    served = {}
    for number in range(agencies):
        rows = list(csv.reader(io.StringIO(extracts[number % len(extracts)].read_text())))
        column = rows[0].index("ORI")
        for row in rows[1:]:
            row[column] = ori(number)[:7]
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows)
        served[f"{PREFIX}{agency_file(number)}.csv"] = out.getvalue().encode()
    return served


def child_fetch(archive: str, url: str, numbers: list[int], delay: float) -> dict[str, Any]:
    """One worker: one client (its politeness holds across its agencies), one fetch each."""
    from sanctuarywatch.collect.run import fetch_to_archive
    from sanctuarywatch.http import HttpClient
    from sanctuarywatch.load.archive import Archive
    from sanctuarywatch.sources import Options

    started = time.perf_counter()
    with HttpClient() as client:
        for number in numbers:
            agencies = {ori(number): {"file": agency_file(number), "ref": "bench"}}
            options = Options(mode="backfill", base_url=url, extra={"agencies": agencies})
            rate = 1 / delay if delay else None
            fetch_to_archive(Archive(archive), client, SLUG, options, requests_per_second=rate)
        requests = client.requests_made
    return {"seconds": time.perf_counter() - started, "requests": requests}


def child_load(archive: str, db: str, each: bool) -> dict[str, Any]:
    """The one writer, as the Dagster assets run it: every complete fetch in the archive
    loaded one by one (warehouse/<slug>, claims left), then the claims the loads touched
    re-evaluated once and recorded (claims_ledger). `each`: the claims after every load
    instead, as `collect` does."""
    from sanctuarywatch.collect import fetchlog
    from sanctuarywatch.collect.run import load_from_archive
    from sanctuarywatch.load import warehouse
    from sanctuarywatch.load.archive import Archive
    from sanctuarywatch.query import claims
    from sanctuarywatch.scheduling.runner import load_and_reevaluate

    con = warehouse.connect(db)
    started = time.perf_counter()
    rows = loads = 0
    run_ids = fetchlog.run_ids(Archive(archive), SLUG)
    for run_id in run_ids:
        load = load_and_reevaluate if each else load_from_archive
        result = load(con, Archive(archive), run_id, job="bench")
        rows, loads = rows + result.counts.seen, loads + 1
    loaded = time.perf_counter()
    if not each:
        con.execute("BEGIN")
        claims.reevaluate_after_load(con, {SLUG}, run_ids[-1])
        con.execute("COMMIT")
    finished = time.perf_counter()
    con.close()
    return {"seconds": loaded - started, "claims": finished - loaded, "rows": rows, "loads": loads}


def run_child(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, __file__, "--child", *args], stdout=subprocess.PIPE, text=True
    )


def answer(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, _ = process.communicate()
    if process.returncode:
        raise SystemExit(f"child failed ({process.returncode})")
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def measure(
    url: str, agencies: int, workers: int, delay: float, scratch: Path, each: bool = False
) -> dict[str, float]:
    """Fetch every agency with `workers` processes into a fresh archive, then load it all."""
    folder = Path(tempfile.mkdtemp(dir=scratch))
    archive, db = folder / "raw", folder / "warehouse.duckdb"
    shares = [list(range(agencies))[w::workers] for w in range(workers)]
    started = time.perf_counter()
    children = [
        run_child(["fetch", str(archive), url, json.dumps(share), str(delay)]) for share in shares
    ]
    fetched = [answer(child) for child in children]
    fetch_seconds = time.perf_counter() - started
    assert sum(f["requests"] for f in fetched) == agencies
    started = time.perf_counter()
    loaded = answer(run_child(["load", str(archive), str(db), "each" if each else "once"]))
    load_seconds = time.perf_counter() - started
    assert loaded["loads"] == agencies
    shutil.rmtree(folder)
    return {
        "fetch": fetch_seconds,
        "load": load_seconds,
        "load_in_child": loaded["seconds"],
        "claims_once": loaded["claims"],
        "rows": loaded["rows"],
    }


def summary(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 2),
        "min": round(min(values), 2),
        "max": round(max(values), 2),
    }


def machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agencies", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds; 0: the source's own")
    parser.add_argument(
        "--claims-per-load", action="store_true", help="re-evaluate claims after every load"
    )
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        kind, archive, *rest = args.child
        if kind == "fetch":
            result = child_fetch(archive, rest[0], json.loads(rest[1]), float(rest[2]))
        else:
            result = child_load(archive, rest[0], rest[1] == "each")
        print(json.dumps(result))
        return
    from loopback import serve

    served = bodies(args.agencies)

    def route(path: str, params: dict[str, str]) -> tuple[int, str, bytes] | None:
        body = served.get(path)
        return (200, "text/plain; charset=utf-8", body) if body else None

    measured = ("fetch", "load", "load_in_child", "claims_once")
    times = {w: {name: list[float]() for name in measured} for w in (1, args.workers)}
    rows = set()
    scratch = Path(tempfile.mkdtemp(prefix="sanctuarywatch-bench-"))
    with serve(route) as url:
        for number in range(args.runs):
            order = (1, args.workers) if number % 2 == 0 else (args.workers, 1)
            for workers in order:
                found = measure(
                    url, args.agencies, workers, args.delay, scratch, args.claims_per_load
                )
                for name in measured:
                    times[workers][name].append(found[name])
                rows.add(found["rows"])
                print(f"run {number + 1} workers={workers}: {found}", file=sys.stderr)
    shutil.rmtree(scratch)
    from sanctuarywatch.sources import us_ucr_agency_monthly

    report = {
        "machine": machine(),
        "delay_seconds": args.delay or 1 / us_ucr_agency_monthly.REQUESTS_PER_SECOND,
        "claims": "after every load" if args.claims_per_load else "once, after the loads",
        "agencies": args.agencies,
        "runs": args.runs,
        "rows_loaded": sorted(rows),
        **{
            f"workers_{w}": {name: summary(v) for name, v in found.items()}
            for w, found in times.items()
        },
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
