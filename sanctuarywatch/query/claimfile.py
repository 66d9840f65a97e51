"""Claims files: the bundled `data/claims.yaml`, a user's own files, and $SANCTUARYWATCH_CLAIMS.

Why apart: reading and validating claims needs no warehouse; a bad file is refused (file,
line, claim, key) before any check runs, and a user claim never silently replaces a bundled
one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from sanctuarywatch.errors import ConfigError

CLAIMS_ENV = "SANCTUARYWATCH_CLAIMS"
REQUIRED = ("id", "quote", "said_by", "said_on", "article", "stated", "comparison", "checks")


@dataclass
class Claim:
    id: str
    quote: str
    said_by: str
    said_on: date
    article: str
    stated: str
    comparison: str
    checks: list[dict[str, Any]]
    conflicts_with: str | None = None


def load_claims(extra: Iterable[str | os.PathLike[str]] = ()) -> list[Claim]:
    """The bundled claims, then any user files (named, or in $SANCTUARYWATCH_CLAIMS)."""
    files = [
        Path(str(resources.files("sanctuarywatch") / "data" / "claims.yaml")),
        *map(Path, extra),
    ]
    if os.environ.get(CLAIMS_ENV):
        files.append(Path(os.environ[CLAIMS_ENV]))
    claims: dict[str, Claim] = {}
    where: dict[str, Path] = {}
    for path in files:
        for claim in _read(path):
            if claim.id in claims:
                raise ConfigError(
                    f"{path}: claim {claim.id}",
                    f"the id is already used by {where[claim.id]}; "
                    "give your claim an id of its own",
                )
            claims[claim.id], where[claim.id] = claim, path
    return list(claims.values())


def _read(path: Path) -> list[Claim]:
    """A claims file, checked against `schemas.ClaimsFile` before any claim is used: a bad
    value is named (file, line, claim, key, what was expected), never met mid-evaluation."""
    from sanctuarywatch import schemas

    data = schemas.read_yaml(path, "claims")
    schemas.check_claims(path, data)
    return [
        Claim(
            **{key: str(item[key]) for key in REQUIRED if key not in ("said_on", "checks")},
            said_on=date.fromisoformat(str(item["said_on"])),
            checks=item["checks"],
            conflicts_with=item.get("conflicts_with"),
        )
        for item in data["claims"]
    ]
