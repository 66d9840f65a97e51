"""The fault matrix's protocol-shaped faults for the DOJ, FBI CDE and Census upstreams.

scripts/loopback_faults.py injects the faults every protocol shares (statuses, stalls, resets,
truncated bodies, HTML pages with 200, a page served twice). What differs per protocol is what
a renamed field or an empty page looks like: a key inside the DOJ envelope's `results`, a
member of the CDE's `offenses`, a column of a Census CSV header, a class in justice.gov's
HTML. Those are body edits, given to loopback_faults as `Fault("edit", edit=...)`; they are
built here so the generic server stays protocol-free.

`protocol_routes()` serves the three upstreams at once (the paths of scripts/loopback_doj.py
and scripts/loopback_fbi.py), with the real data those modules serve.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from loopback import Route, combine
from loopback_doj import doj_route
from loopback_fbi import fbi_census_routes

Edit = Callable[[bytes], bytes]
# What a proxy or CDN in front of an API answers when the origin is down, with status 200
# (seen from many hosts; the shape, not one site's page).
PROXY_ERROR_PAGE = (
    b"<!DOCTYPE html><html><head><title>Service Unavailable</title></head><body>"
    b"<h1>Service Unavailable</h1><p>The server is temporarily unable to service your "
    b"request. Please try again later.</p></body></html>"
)
_LISTING_ROW = re.compile(rb'<div class="views-row">.*?</div>', re.S)


def protocol_routes() -> Route:
    """The DOJ news API and speech pages, the CDE (keyed and site prefixes) and the Census."""
    return combine(doj_route(), *fbi_census_routes())


def renamed_json_key(old: str, new: str) -> Edit:
    """Rename a key wherever it occurs in a JSON document (the upstream renamed a field)."""

    def rename(value: Any) -> Any:
        if isinstance(value, dict):
            return {(new if k == old else k): rename(v) for k, v in value.items()}
        if isinstance(value, list):
            return [rename(v) for v in value]
        return value

    return lambda body: json.dumps(rename(json.loads(body))).encode()


def emptied_doj_results(body: bytes) -> bytes:
    """A news API page with no records, its envelope (count, page) unchanged."""
    data = json.loads(body)
    data["results"] = []
    return json.dumps(data).encode()


def renamed_csv_column(old: str, new: str) -> Edit:
    """Rename one column of a CSV header (a Census file re-issued with another name)."""

    def rename(body: bytes) -> bytes:
        header, newline, rest = body.partition(b"\n")
        names = [new.encode() if name == old.encode() else name for name in header.split(b",")]
        return b",".join(names) + newline + rest

    return rename


def replaced(old: bytes, new: bytes) -> Edit:
    """Replace markup in an HTML page (a class renamed by a redesign)."""
    return lambda body: body.replace(old, new)


def emptied_listing(body: bytes) -> bytes:
    """A speech listing page with its layout but no items (what the end of the list shows)."""
    return _LISTING_ROW.sub(b"", body)
