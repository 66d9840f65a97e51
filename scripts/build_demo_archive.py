"""Record the bundled demo archive: run the real collectors against the loopback server.

    python scripts/build_demo_archive.py     (make demo-archive)

The server (scripts/loopback.py) serves the real rows from ../shared/data in the upstream's
shape on 127.0.0.1:8765; every response the collectors get is stored, as fetched, in
sanctuarywatch/data/demo_archive/. Re-running it replaces the archive.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loopback  # noqa: E402

from sanctuarywatch import demo, warehouse  # noqa: E402
from sanctuarywatch.archive import Archive  # noqa: E402
from sanctuarywatch.collect import collect  # noqa: E402
from sanctuarywatch.http import HttpClient  # noqa: E402

TARGET = Path(__file__).resolve().parents[1] / "sanctuarywatch" / "data" / "demo_archive"


def main() -> None:
    route = loopback.socrata_route({"ijzp-q8t2": loopback.SodaDataset(loopback.soda_rows())})
    for path in (TARGET / "blobs", TARGET / "manifest.jsonl"):
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    archive = Archive(TARGET)
    con: duckdb.DuckDBPyConnection = warehouse.connect(":memory:")
    with loopback.serve(route, port=8765), HttpClient() as client:
        for step in demo.PLAN:
            result = collect(con, archive, client, step.slug, step.options, job="record")
            print(f"{step.slug}: {result.requests} responses, {result.counts.seen} rows")


if __name__ == "__main__":
    main()
