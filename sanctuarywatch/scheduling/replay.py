"""Replaying a recorded archive instead of going online (`--replay`, $SANCTUARYWATCH_REPLAY).

`--replay bundled` answers from the demo's recorded archive: each source is collected with
the options the demo recorded it with, and a source it never recorded is skipped, saying so.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sanctuarywatch.errors import ConfigError
from sanctuarywatch.load.archive import Archive
from sanctuarywatch.sources import Options

REPLAY_ENV = "SANCTUARYWATCH_REPLAY"


def replay_archives(spec: str | None) -> list[Archive] | None:
    """Archives to answer requests from instead of the network: 'bundled' (the demo
    archive), a folder with a manifest, or a folder of such folders. None: go online."""
    spec = spec or os.environ.get(REPLAY_ENV) or None
    if spec is None:
        return None
    if spec == "bundled":
        root = Path(str(resources.files("sanctuarywatch") / "data" / "demo_archive"))
    else:
        root = Path(spec)
    if (root / "manifest.jsonl").is_file():
        return [Archive(root)]
    found = [Archive(p) for p in sorted(root.glob("*")) if (p / "manifest.jsonl").is_file()]
    if not found:
        raise ConfigError(str(root), "no recorded archive here (expected manifest.jsonl)")
    return found


@dataclass(frozen=True)
class Recording:
    """What a recorded archive can answer: the options each source was collected with when
    it was recorded (only those requests are in it) and the upstream URLs its recording
    host stands for."""

    options: Mapping[str, Options]
    cited_as: Mapping[str, str]

    def reason(self, source: str) -> str:
        recorded = ", ".join(sorted(self.options))
        return f"the replayed archive never recorded {source} (it holds {recorded})"


def recording(spec: str | None) -> Recording | None:
    """For `--replay bundled`: the demo's plan. A job's own options (incremental, today's
    dates) would ask for requests the demo never made, so each source is replayed with the
    options it was recorded with. Any other archive: None (the job's options as written)."""
    if (spec or os.environ.get(REPLAY_ENV)) != "bundled":
        return None
    from sanctuarywatch.present import demo

    return Recording({step.slug: step.options for step in demo.PLAN}, demo.CITED_AS)
