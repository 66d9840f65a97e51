"""The raw archive: every response kept exactly as fetched, content-addressed.

Layout of an archive folder (the bundled demo archive has the same layout):

    manifest.jsonl          one JSON line per fetch: source, run_id, kind, url (redacted),
                            status, content_type, fetched_at, sha256, bytes
    blobs/ab/abcdef….zst    the body, zstd-compressed, named by the sha256 of the raw body
                            (archives written before zstd have `….gz` gzip blobs; both read)

Why a folder and not the database: bodies are large, are written before the load's
transaction commits (an orphan blob from a failed load is harmless: it is content-addressed
and deduplicated), and must survive a rebuild of the warehouse from scratch.

Because a rebuild trusts the archive over the warehouse, the archive says when it cannot give
a capture back as written (`scan`, `body`): a blob missing, cut short or holding another
body, a manifest line that is not an entry. Only a last line without its newline is let go:
a kill cut its write short, and its run never committed.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import zstandard

from sanctuarywatch.errors import LayoutError
from sanctuarywatch.http import Fetched, redact_url

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


_SHA256 = re.compile(r"[0-9a-f]{64}")


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


# A manifest line's fields and their JSON types (fetched_at is an ISO string there).
_FIELDS = {
    "source": str,
    "run_id": str,
    "kind": str,
    "url": str,
    "status": int,
    "content_type": str,
    "fetched_at": str,
    "sha256": str,
    "bytes": int,
}


def parse_line(raw: bytes) -> Entry | str:
    """One manifest line as an entry, or why it is not one. Checked field by field: a
    garbled line that still parses as JSON must not replay under a wrong URL or blob name."""
    try:
        data = json.loads(raw.decode("utf-8"))
        wrong = sorted(set(data) ^ set(_FIELDS)) + [
            name for name, kind in _FIELDS.items() if not isinstance(data.get(name), kind)
        ]
        if wrong or not _SHA256.fullmatch(data["sha256"]):
            return f"not a manifest entry (fields wrong: {', '.join(wrong) or 'sha256'})"
        return Entry(**dict(data, fetched_at=datetime.fromisoformat(data["fetched_at"])))
    except (ValueError, TypeError, AttributeError) as exc:
        return f"not a manifest entry ({str(exc).splitlines()[0][:120]})"


@dataclass(frozen=True)
class Damage:
    """A capture the archive cannot give back as written: its run, the file, and why.
    For a manifest line that names no run, the runs of the lines around it."""

    source: str | None
    run_id: str | None
    where: str
    why: str

    def __str__(self) -> str:
        return f"run {self.run_id or '(unknown)'} ({self.source or '?'}): {self.where}: {self.why}"


class DamagedArchiveError(LayoutError):
    """Captures the archive cannot give back as written; `damage` lists each."""

    def __init__(self, damage: Sequence[Damage], doing: str) -> None:
        first = damage[0]
        super().__init__("archive", first.where, "captures readable as written", first.why)
        shown = "; ".join(map(str, damage[:5]))
        more = f"; and {len(damage) - 5} more" if len(damage) > 5 else ""
        self.damage = list(damage)
        self.args = (f"[archive] {doing}: {len(damage)} damaged: {shown}{more}",)


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
        """The stored body, checked against its sha256 (the blob's name)."""
        path = self.blob_path(entry.sha256)
        if not path.exists():
            raise LayoutError("archive", str(path), "a blob for each manifest line", "no such file")
        body = read_blob(path)
        if (found := hashlib.sha256(body).hexdigest()) != entry.sha256:
            expected = "a body whose sha256 is the file's name"
            raise LayoutError("archive", str(path), expected, f"one hashing to {found}")
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
        """Manifest lines in the order they were written; raises on a line that is not one."""
        entries, damage = self.scan()
        if damage:
            raise LayoutError("archive", damage[0].where, "a manifest entry", damage[0].why)
        return iter(entries)

    def scan(self) -> tuple[list[Entry], list[Damage]]:
        """Every manifest line as an entry, and each line that is not one as damage."""
        lines = self._lines()
        parsed = [parse_line(raw) for raw in lines]
        damage = [
            found
            for number, (raw, item) in enumerate(zip(lines, parsed, strict=True), 1)
            if isinstance(item, str)
            for found in self._line_damage(number, raw, item, parsed)
        ]
        return [item for item in parsed if isinstance(item, Entry)], damage

    def _lines(self) -> list[bytes]:
        """The manifest's lines, less a last one cut short (no newline, not an entry)."""
        if not self.manifest.exists():
            return []
        *lines, last = self.manifest.read_bytes().split(b"\n")
        if last and isinstance(parse_line(last), Entry):
            lines.append(last)
        return lines

    def _line_damage(
        self, number: int, raw: bytes, why: str, parsed: list[Entry | str]
    ) -> list[Damage]:
        """A bad line's damage, for the run it names, else for the runs of the entries
        around it: the lines of a run are written together, so one of them lost a page, and
        skipping both is safer than replaying a run with a page missing."""
        where = f"{self.manifest}:{number}"
        text = raw.decode("utf-8", "replace")
        runs = {e.run_id: e.source for e in parsed if isinstance(e, Entry)}
        if (run_id := _legible_run_id(text)) in runs:  # a legible id of a run that exists
            return [Damage(runs[run_id], run_id, where, why)]
        around = [_nearest(reversed(parsed[: number - 1])), _nearest(parsed[number:])]
        found = {e.run_id: e.source for e in around if e is not None}
        return [Damage(source, run_id, where, why) for run_id, source in found.items()] or [
            Damage(None, None, where, why)
        ]


def _legible_run_id(text: str) -> str | None:
    """The run id, if still legible in a garbled manifest line."""
    match = re.search(r'"run_id":\s*"([^"\\]+)"', text)
    return match[1] if match else None


def _nearest(items: Iterable[Entry | str]) -> Entry | None:
    return next((item for item in items if isinstance(item, Entry)), None)


ARCHIVE_TIME_HEADER = "X-Archive-Fetched-At"
CITED_AS_HEADER = "X-Archive-Cited-As"


class ArchiveTransport(httpx.BaseTransport):
    """An httpx transport that answers from an archive instead of the network.

    The demo and offline re-runs use it so that recorded responses flow through exactly the
    code a live run uses (paging, parsing, loading). Requests are matched on the redacted URL;
    a request the archive never saw gets a 404 naming it. Responses carry the original fetch
    time, so replaying a capture does not pretend to be a new observation.
    """

    replays_archive = True

    def __init__(self, *archives: Archive, cited_as: Mapping[str, str] | None = None) -> None:
        """`cited_as` maps the prefix of URLs as recorded (a loopback server standing in for
        an upstream) to the upstream URL it stands for: responses then carry the upstream
        URL (`CITED_AS_HEADER`), so what is stored cites the publisher, and requests made to
        the upstream URL are answered from the recording."""
        self.entries: dict[str, tuple[Archive, Entry]] = {}
        self.cited_as = dict(cited_as or {})
        for archive in archives:
            for entry in archive.entries():
                self.entries[redact_url(entry.url)] = (archive, entry)

    def cite(self, recorded: str) -> str:
        """The upstream URL a recorded one stands for (itself when none is known)."""
        return _swap_prefix(recorded, self.cited_as)

    def _recorded(self, url: str) -> str:
        return _swap_prefix(url, {cited: recorded for recorded, cited in self.cited_as.items()})

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = redact_url(request.url)
        found = self.entries.get(url) or self.entries.get(self._recorded(url))
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
                CITED_AS_HEADER: self.cite(entry.url),
            },
        )


def _swap_prefix(url: str, prefixes: Mapping[str, str]) -> str:
    for old, new in prefixes.items():
        if url.startswith(old):
            return new + url[len(old) :]
    return url
