"""Fetching ahead of the load: the source's pages in a worker thread, their raw responses
written to the archive by another, so the load never waits on the network or the disk.

Neither thread touches the warehouse; the load (one connection, one thread) stays the only
writer.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from sanctuarywatch.http import Fetched
from sanctuarywatch.load.archive import Archive, Entry
from sanctuarywatch.sources import Page

_END = object()


class Writer:
    """Writes raw responses to the archive in a worker thread (zstd releases the GIL), in
    fetch order; `wait` returns once all are written, or raises the first failure."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sanctuarywatch-archive")
        self.pending: list[Future[None]] = []

    def put(self, fetched: Fetched, run_id: str, kind: str) -> Entry:
        entry = self.archive.entry(fetched, run_id, kind)
        self.pending.append(self.pool.submit(self.archive.store, entry, fetched.body))
        return entry

    def wait(self) -> None:
        for future in self.pending:
            future.result()
        self.pending.clear()

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def archived(pages: Iterator[Page], writer: Writer, run_id: str) -> Iterator[tuple[Page, Entry]]:
    """Each page with its archive entry, handed on without its body.

    Runs in the fetch worker (see `ahead`); the writer stores the body beside it. The page
    file has the rows, and bodies held until their page was loaded (the loop's page, the
    page waiting in the hand-off) were ~20 MB of a load's peak memory (BENCHMARKS.md).
    """
    for page in pages:
        entry = writer.put(page.fetched, run_id, page.kind)
        light = page._replace(fetched=replace(page.fetched, body=b""))
        del page  # not kept while the next page downloads
        yield light, entry


@contextlib.contextmanager
def ahead(pages: Iterator[Any]) -> Iterator[Iterator[Any]]:
    """The source's pages, fetched one ahead in a worker thread.

    While DuckDB normalises and stages page N, the worker is already downloading and parsing
    page N+1 (both release the GIL); with the archive writer, a 400k-row load went from 14.5 s
    to 10.8 s (BENCHMARKS.md). The worker never touches the warehouse; its errors are raised
    here, in order. On leaving early the worker stops after its current request.
    """
    handoff: queue.Queue[Any] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def offer(item: Any) -> bool:
        while not stop.is_set():
            with contextlib.suppress(queue.Full):
                handoff.put(item, timeout=0.1)
                return True
        return False

    def work() -> None:
        try:
            for page in pages:
                if not offer(page):
                    return
            offer(_END)
        except BaseException as exc:  # handed to the consumer, raised there
            offer(exc)

    def consume() -> Iterator[Any]:
        while (item := handoff.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item

    worker = threading.Thread(target=work, name="sanctuarywatch-fetch", daemon=True)
    worker.start()
    try:
        yield consume()
    finally:
        stop.set()
