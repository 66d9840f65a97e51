"""Fetch records: what a fetch-only run made, kept in the raw archive beside its bodies.

`collect.fetch_to_archive` fetches a source and writes only to the archive, so many workers
can fetch at once into one archive; `collect.load_from_archive`, the one writer, loads a
fetch into the warehouse later. The loader must know which manifest lines make one complete
fetch and with which options and state it was made (the coverage a run records depends on
them). That is the fetch record, one file per run, beside the archive's usual layout:

    runs/<run_id>.json    source, run_id, options, state, requests, started_at, ended_at, and
                          entries: the run's manifest lines, in fetch order
    state/<slug>.json     the source's state (watermark, complete through) after the newest
                          load; an incremental fetch starts there, so a worker never opens the
                          warehouse (one writer holds it)

A record is renamed into place after every blob and manifest line of its run is on disk, so
it exists only for a complete fetch: a worker killed mid-fetch leaves blobs and manifest
lines (harmless, as for a failed `collect`) and nothing the loader would load. Each record
and state file is written whole and renamed over (one writer per file: a run id is unique,
and state is written by the loader alone), which a bucket gives as a plain PUT.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from dataclasses import dataclass, fields
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sanctuarywatch.errors import ConfigError, LayoutError
from sanctuarywatch.load.archive import Archive, Entry, parse_line
from sanctuarywatch.sources import Options, State

RUNS_DIR = "runs"
STATE_DIR = "state"


@dataclass(frozen=True)
class FetchRecord:
    """One complete fetch: what was asked, from which state, and what came back."""

    source: str
    run_id: str
    options: Options
    state: State
    requests: int
    started_at: datetime
    ended_at: datetime
    entries: tuple[Entry, ...]

    def to_json(self) -> str:
        return json.dumps(
            {
                "source": self.source,
                "run_id": self.run_id,
                "options": options_to_dict(self.options),
                "state": _state_to_dict(self.state),
                "requests": self.requests,
                "started_at": self.started_at.isoformat(),
                "ended_at": self.ended_at.isoformat(),
                "entries": [json.loads(entry.to_json()) for entry in self.entries],
            },
            indent=1,
            sort_keys=True,
        )


def record_path(archive: Archive, run_id: str) -> Path:
    return archive.root / RUNS_DIR / f"{run_id}.json"


def write(archive: Archive, record: FetchRecord) -> Path:
    """Put the record in place (last, by a rename: it marks the fetch complete)."""
    return _replace(record_path(archive, record.run_id), record.to_json())


def read(archive: Archive, run_id: str) -> FetchRecord:
    """A complete fetch's record; a LayoutError when there is none or it is not one."""
    path = record_path(archive, run_id)
    if not path.is_file():
        expected = "the record of a complete fetch"
        raise LayoutError("archive", str(path), expected, "no such file (fetch unfinished?)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = tuple(_entry(path, item) for item in data["entries"])
        return FetchRecord(
            source=data["source"],
            run_id=data["run_id"],
            options=options_from_dict(data["options"]),
            state=_state_from_dict(data["state"]),
            requests=int(data["requests"]),
            started_at=datetime.fromisoformat(data["started_at"]),
            ended_at=datetime.fromisoformat(data["ended_at"]),
            entries=entries,
        )
    except (ValueError, KeyError, TypeError, ConfigError) as exc:
        raise LayoutError("archive", str(path), "a fetch record", repr(exc)[:160]) from None


def run_ids(archive: Archive, source: str | None = None) -> list[str]:
    """Run ids of the complete fetches in the archive (of one source), oldest first."""
    folder = archive.root / RUNS_DIR
    if not folder.is_dir():
        return []
    ids = sorted(path.stem for path in folder.glob("*.json"))  # ids start with the UTC time
    return [run_id for run_id in ids if source is None or f"-{source}-" in run_id]


def read_state(archive: Archive, slug: str) -> State | None:
    """The source's state after the newest load into this archive's warehouse, if any."""
    path = archive.root / STATE_DIR / f"{slug}.json"
    if not path.is_file():
        return None
    try:
        return _state_from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError, AttributeError) as exc:
        raise LayoutError("archive", str(path), "a source state", repr(exc)[:160]) from None


def write_state(archive: Archive, slug: str, state: State) -> Path:
    return _replace(archive.root / STATE_DIR / f"{slug}.json", json.dumps(_state_to_dict(state)))


def options_to_dict(options: Options) -> dict[str, Any]:
    """Options as JSON values: dates as ISO text; anything else in `extra` as its text."""
    data = {f.name: getattr(options, f.name) for f in fields(options)}
    return json.loads(json.dumps(data, default=_iso))  # type: ignore[no-any-return]


def options_from_dict(data: dict[str, Any]) -> Options:
    values = dict(data)
    for key in ("start", "end"):
        if values.get(key):
            values[key] = date.fromisoformat(values[key])
    return Options(**values)


def _iso(value: object) -> str:
    return value.isoformat() if isinstance(value, date | datetime) else str(value)


def _state_to_dict(state: State) -> dict[str, Any]:
    through = state.complete_through
    return {
        "watermark": state.watermark,
        "complete_through": through.isoformat() if through else None,
    }


def _state_from_dict(data: dict[str, Any]) -> State:
    through = data.get("complete_through")
    return State(
        watermark=data.get("watermark"),
        complete_through=datetime.fromisoformat(through) if through else None,
    )


def _entry(path: Path, item: dict[str, Any]) -> Entry:
    entry = parse_line(json.dumps(item).encode())
    if isinstance(entry, str):
        raise LayoutError("archive", str(path), "manifest entries", entry)
    return entry


def _replace(path: Path, text: str) -> Path:
    """Write a whole file under a name no other writer uses, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    unique = f"{socket.gethostname()}-{os.getpid()}-{threading.get_ident()}"
    tmp = path.with_name(f".{path.name}.{unique}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
