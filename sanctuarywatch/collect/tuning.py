"""Memory and DuckDB settings for the length of a load, and the checkpoint after it.

A load runs under its own memory limit, which also sets how many portal pages are
normalised at once; the process asks glibc to hand page bodies back; the run's rows are
checkpointed under the same limit. None of it changes what is loaded, only what it costs
(BENCHMARKS.md has the measurements).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
from typing import Any

import duckdb

from sanctuarywatch.load import sqlnorm

log = logging.getLogger(__name__)
MEMORY_ENV = "SANCTUARYWATCH_LOAD_MEMORY"
DEFAULT_LOAD_MEMORY = "160MB"
_M_MMAP_THRESHOLD, _M_ARENA_MAX = -3, -8  # glibc mallopt parameters
_MIB = {"KiB": 1 / 1024, "MiB": 1, "GiB": 1024, "TiB": 1024 * 1024}


def checkpoint(con: duckdb.DuckDBPyConnection) -> None:
    """Write the run's rows into the file now, under the load's memory limit. Left to the
    connection's close, the checkpoint ran under DuckDB's default limit and rewrote the
    load's row groups with up to 780 MB (1M rows merged in four slices; BENCHMARKS.md). The
    run is committed either way: a checkpoint refused (another connection busy) is not a
    failed run, and DuckDB checkpoints later."""
    try:
        con.execute("CHECKPOINT")
    except duckdb.Error as exc:
        log.warning("checkpoint after the load skipped: %s", str(exc).splitlines()[0])


def load_settings(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Settings for the length of a load; return the values they replace. DuckDB's memory
    limit; insertion order not kept, which lets big inserts stream; UTC, so record hashes
    (which spell out instants) do not depend on the machine's time zone."""
    wanted = {
        "memory_limit": load_memory_limit(),
        "preserve_insertion_order": False,
        "TimeZone": "UTC",
    }
    previous = {
        name: con.execute("SELECT current_setting(?)", [name]).fetchall()[0][0] for name in wanted
    }
    restore(con, wanted)
    return previous


def restore(con: duckdb.DuckDBPyConnection, settings: dict[str, Any]) -> None:
    """SET each setting (after a load: the values `load_settings` replaced)."""
    with contextlib.suppress(duckdb.Error):  # a connection closed under us keeps nothing
        for name, value in settings.items():
            shown = sqlnorm.literal(value) if isinstance(value, str) else value
            con.execute(f"SET {name} = {shown}")


def load_memory_limit() -> str:
    """DuckDB's memory limit during a load ($SANCTUARYWATCH_LOAD_MEMORY, default 160MB).

    A run's rows are staged in Parquet files and merged a slice at a time
    (`warehouse.Stage`), and its new versions go to the file as row groups fill; under the
    limit DuckDB spills the rest to `<warehouse>.tmp` instead of holding it in RAM, so a full
    backfill fits a small machine. The limit also sets how many pages are normalised at once
    (`pages_per_batch`): below 140 MB one page a query, about a quarter slower (BENCHMARKS.md)."""
    return os.environ.get(MEMORY_ENV, DEFAULT_LOAD_MEMORY).replace("'", "")


def malloc_for_pages() -> None:
    """glibc settings for a process that allocates and frees a 12 MB page body again and
    again. Two malloc arenas: the fetch thread and DuckDB's otherwise each get one, and the
    pages freed there stay in the process (a 400k-row load: 428 MB instead of 381 MB peak).
    Bodies over 1 MB always mmapped: glibc otherwise raises that threshold to the size of the
    first body freed, after which bodies come from the heap and their memory is kept (1M-row
    load under 128 MB: peak 274-277 MB instead of 283). Linux/glibc only; elsewhere nothing."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, 1024 * 1024)
        libc.mallopt(_M_ARENA_MAX, 2)


def pages_per_batch(con: duckdb.DuckDBPyConnection) -> int:
    """Portal pages normalised per query: 4, unless the load's memory limit cannot hold as
    many page files read at once as DuckDB has threads.

    DuckDB reads the files of a query in parallel, one file a thread, so on two cores a
    query of four pages costs about half as much a page as one of one page. Each file being
    read takes ~65 MB of DuckDB's memory (a 32 MB read buffer, whatever the file's size, and
    the rows on their way to the Parquet writer); files beyond the thread count wait their
    turn and take nothing. So at 2 threads 140 MB allows 4 pages a query and 128 MB one
    (measured: BENCHMARKS.md).
    """
    limit, threads = con.execute(
        "SELECT current_setting('memory_limit'), current_setting('threads')"
    ).fetchall()[0]
    number, _, unit = str(limit).partition(" ")
    at_once = int(float(number) * _MIB.get(unit, 0) // 70)
    return 4 if at_once >= int(threads) else max(1, min(4, at_once))
