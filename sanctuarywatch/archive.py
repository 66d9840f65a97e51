"""The raw archive: every response kept exactly as fetched, content-addressed.

Layout of an archive folder (the bundled demo archive has the same layout):

    manifest.jsonl          one JSON line per fetch: source, run_id, kind, url (redacted),
                            status, content_type, fetched_at, sha256, bytes
    blobs/ab/abcdef….zst    the body, zstd-compressed, named by the sha256 of the raw body
                            (archives written before zstd have `….gz` gzip blobs; both read)

Why a folder and not the database: bodies are large, are written before the load's
transaction commits (an orphan blob from a failed load is harmless: it is content-addressed
and deduplicated), and must survive a rebuild of the warehouse from scratch.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import zstandard

from .errors import LayoutError
from .http import Fetched, redact_url

ARCHIVE_ENV = "SANCTUARYWATCH_ARCHIVE"
# zstd level 1: a 12 MB portal page (20,000 rows) compresses in 26 ms to 1.25 MB; gzip level
# 1 took 97 ms for 1.88 MB, and compressing was the largest single cost of a load after
# DuckDB's own work (BENCHMARKS.md).
COMPRESS_LEVEL = 1
# Blob file suffixes, newest first: what is written, then what older archives hold.
_DECOMPRESS = {
    ".zst": lambda data: zstandard.ZstdDecompressor().decompress(data),
    ".gz": gzip.decompress,
}


def read_blob(path: Path) -> bytes:
    """A stored blob's body, whichever compression its suffix says."""
    try:
        return _DECOMPRESS[path.suffix](path.read_bytes())
    except (OSError, EOFError, zstandard.ZstdError) as exc:
        raise LayoutError("archive", str(path), "a readable compressed blob", str(exc)) from None


@dataclass(frozen=True)
class Entry:
    """One manifest line: a fetch, without its body."""

    source: str
    run_id: str
    kind: str
    url: str
    status: int
    content_type: str
    fetched_at: datetime
    sha256: str
    bytes: int

    def to_json(self) -> str:
        data = dict(self.__dict__, fetched_at=self.fetched_at.isoformat())
        return json.dumps(data, sort_keys=True)


class Archive:
    """A folder of raw responses plus the manifest that says what each one was."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.manifest = self.root / "manifest.jsonl"

    @classmethod
    def beside(cls, db_file: str | os.PathLike[str]) -> Archive:
        """The archive that goes with a warehouse file: $SANCTUARYWATCH_ARCHIVE or <dir>/raw."""
        override = os.environ.get(ARCHIVE_ENV)
        return cls(override if override else Path(db_file).parent / "raw")

    def blob_path(self, sha256: str) -> Path:
        """Where a body is stored: the existing blob, else where a new one is written."""
        stem = self.root / "blobs" / sha256[:2] / sha256
        for suffix in _DECOMPRESS:
            if (path := stem.with_suffix(suffix)).exists():
                return path
        return stem.with_suffix(next(iter(_DECOMPRESS)))

    @staticmethod
    def entry(fetched: Fetched, run_id: str, kind: str) -> Entry:
        """The manifest line for a fetch (hashing only; nothing written)."""
        return Entry(
            source=fetched.source,
            run_id=run_id,
            kind=kind,
            url=fetched.url,
            status=fetched.status,
            content_type=fetched.content_type,
            fetched_at=fetched.fetched_at,
            sha256=hashlib.sha256(fetched.body).hexdigest(),
            bytes=len(fetched.body),
        )

    def store(self, entry: Entry, body: bytes) -> None:
        """Write the blob (unless that content is stored already), then the manifest line.
        Safe to run in a worker thread; manifest lines of one writer stay in order."""
        path = self.blob_path(entry.sha256)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".tmp{os.getpid()}-{threading.get_ident()}")
            tmp.write_bytes(zstandard.ZstdCompressor(level=COMPRESS_LEVEL).compress(body))
            tmp.replace(path)
        self.root.mkdir(parents=True, exist_ok=True)
        with self.manifest.open("a", encoding="utf-8") as out:
            out.write(entry.to_json() + "\n")

    def body(self, entry: Entry) -> bytes:
        """The stored body, checked against its sha256."""
        path = self.blob_path(entry.sha256)
        body = read_blob(path)
        if hashlib.sha256(body).hexdigest() != entry.sha256:
            raise LayoutError("archive", str(path), f"sha256 {entry.sha256}", "a different body")
        return body

    def fetched(self, entry: Entry) -> Fetched:
        """Rebuild the Fetched a parser saw, from the archive alone."""
        return Fetched(
            source=entry.source,
            url=entry.url,
            status=entry.status,
            content_type=entry.content_type,
            body=self.body(entry),
            fetched_at=entry.fetched_at,
        )

    def entries(self) -> Iterator[Entry]:
        """Manifest lines in the order they were written; a torn last line is skipped."""
        if not self.manifest.exists():
            return
        with self.manifest.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                try:
                    data = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short by a kill; its run never committed
                try:
                    data["fetched_at"] = datetime.fromisoformat(data["fetched_at"])
                    yield Entry(**data)
                except (KeyError, TypeError, ValueError) as exc:
                    raise LayoutError(
                        "archive", f"{self.manifest}:{number}", "a manifest entry", repr(exc)
                    ) from None


ARCHIVE_TIME_HEADER = "X-Archive-Fetched-At"


class ArchiveTransport(httpx.BaseTransport):
    """An httpx transport that answers from an archive instead of the network.

    The demo and offline re-runs use it so that recorded responses flow through exactly the
    code a live run uses (paging, parsing, loading). Requests are matched on the redacted URL;
    a request the archive never saw gets a 404 naming it. Responses carry the original fetch
    time, so replaying a capture does not pretend to be a new observation.
    """

    replays_archive = True

    def __init__(self, *archives: Archive) -> None:
        self.entries: dict[str, tuple[Archive, Entry]] = {}
        for archive in archives:
            for entry in archive.entries():
                self.entries[redact_url(entry.url)] = (archive, entry)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        found = self.entries.get(redact_url(request.url))
        if found is None:
            body = json.dumps(
                {"error": True, "message": f"not in the archive: {redact_url(request.url)}"}
            )
            return httpx.Response(
                404, content=body.encode(), headers={"content-type": "application/json"}
            )
        archive, entry = found
        return httpx.Response(
            entry.status,
            content=archive.body(entry),
            headers={
                "content-type": entry.content_type,
                ARCHIVE_TIME_HEADER: entry.fetched_at.isoformat(),
            },
        )
