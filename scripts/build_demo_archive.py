"""Record the bundled demo archive: run the real collectors against the loopback server.

    python scripts/build_demo_archive.py [SLUG ...]     (make demo-archive: every source)

The server (scripts/loopback.py) serves the real rows from ../shared/data in the upstream's
shape on 127.0.0.1:8765; every response the collectors get is stored, as fetched, in
sanctuarywatch/data/demo_archive/<slug>/. Re-running replaces the named sources' folders only.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loopback

from sanctuarywatch.collect.run import collect
from sanctuarywatch.http import HttpClient
from sanctuarywatch.load import warehouse
from sanctuarywatch.load.archive import Archive
from sanctuarywatch.present import demo

TARGET = Path(__file__).resolve().parents[1] / "sanctuarywatch" / "data" / "demo_archive"


def main(slugs: list[str]) -> None:
    steps = [step for step in demo.PLAN if not slugs or step.slug in slugs]
    for slug in {step.slug for step in steps}:
        shutil.rmtree(TARGET / slug, ignore_errors=True)
    con: duckdb.DuckDBPyConnection = warehouse.connect(":memory:")
    with loopback.serve(loopback.all_routes(), port=8765), HttpClient() as client:
        for step in steps:
            archive = Archive(TARGET / step.slug)
            result = collect(con, archive, client, step.slug, step.options, job="record")
            print(f"{step.slug}: {result.requests} responses, {result.counts.seen} rows")


if __name__ == "__main__":
    main(sys.argv[1:])
