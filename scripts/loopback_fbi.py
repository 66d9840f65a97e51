"""Loopback routes for the FBI Crime Data Explorer and the Census flat files (real data only).

Same route contract as scripts/loopback.py: route(path, params) -> (status, content_type,
body[, headers]), or None when the path is not ours. What is served, and from where:

    {prefix}/summarized/agency/ILCPD0000/V?from=01-2024&to=12-2024
        the real CDE response in ../shared/data/fbi_cde (refresh 2026-02-15)
    {prefix}/summarized/agency/{ORI}/{offense} for an ORI the CDE does not know
        200 with "actuals": null, the documented answer (CONSTRUCTED from SOURCES.md)
    {prefix}/agency/byStateAbbr/IL
        the real, trimmed Illinois agency list
    anything else under a CDE prefix: 404 (no recording; nothing is made up)

CDE prefixes: /crime/fbi/cde (keyed: no API_KEY answers 403 API_KEY_MISSING, a key starting
with "invalid" 403 API_KEY_INVALID, like api.data.gov), /LATEST (the site's backend), and
variants for the odd cases, all DERIVED from the real response and labelled so in
tests/fixtures/README.md: /shuffled/LATEST (months in a shuffled order), /partial/LATEST
(refresh date moved to 2024-12-10, so December 2024 is partial), /throttled/LATEST (the first
request of each URL answers 429 with Retry-After: 1).

Census: /programs-surveys/popest/datasets/2010-2019/counties/totals/co-est2019-alldata.csv
serves the real Miami-Dade extract; /aff/PEP_2017_PEPANNRSIP.US12A.csv the real vintage-2017
city extract (American FactFinder layout; AFF itself is gone, so the path is ours).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CDE = SHARED_DATA / "fbi_cde"
CENSUS = SHARED_DATA / "census"
KNOWN_ORIS = frozenset({"ILCPD0000", "FL0130000", "FL0130600", "FL0130700", "IL0160000"})
CENSUS_FILES = {
    "/programs-surveys/popest/datasets/2010-2019/counties/totals/co-est2019-alldata.csv": CENSUS
    / "co-est2019-alldata_MiamiDade_extract.csv",
    "/aff/PEP_2017_PEPANNRSIP.US12A.csv": CENSUS / "PEP_2017_PEPANNRSIP.US12A_extract.csv",
}
_CDE_PATH = re.compile(
    r"(?P<prefix>/crime/fbi/cde|(?:/shuffled|/partial|/throttled)?/LATEST)"
    r"/(?:summarized/agency/(?P<ori>[A-Z0-9]+)/(?P<offense>[A-Za-z0-9-]+)"
    r"|agency/byStateAbbr/(?P<state>[A-Z]{2}))"
)

Answer = tuple[int, str, bytes] | tuple[int, str, bytes, dict[str, str]]
Route = Callable[[str, dict[str, str]], Answer | None]
JSON = "application/json"


def _json(status: int, data: Any, headers: dict[str, str] | None = None) -> Answer:
    body = json.dumps(data, indent=1).encode()
    return (status, JSON, body, headers) if headers else (status, JSON, body)


def _no_recording(path: str) -> Answer:
    return _json(404, {"error": True, "message": f"no recording for {path}"})


def chicago_2024() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CDE / "summarized_agency_ILCPD0000_V_2024.json").read_text())
    return data


def unknown_ori_answer() -> dict[str, Any]:
    """The documented answer for an ORI the CDE does not know: 200, actuals null."""
    real = chicago_2024()
    return {
        "offenses": {"rates": None, "actuals": None},
        "tooltips": None,
        "populations": None,
        "cde_properties": real["cde_properties"],
    }


def shuffled(data: dict[str, Any]) -> dict[str, Any]:
    """Every series with its months in a fixed shuffled order (the real API's habit)."""
    rng = random.Random(4)
    for group in data["offenses"].values():
        for name, months in group.items():
            items = list(months.items())
            rng.shuffle(items)
            group[name] = dict(items)
    return data


def partial(data: dict[str, Any]) -> dict[str, Any]:
    data["cde_properties"] = {
        "max_data_date": {"UCR": "12/2024"},
        "last_refresh_date": {"UCR": "12/10/2024"},
    }
    return data


def _key_check(prefix: str, params: dict[str, str]) -> Answer | None:
    if prefix != "/crime/fbi/cde":
        return None
    key = params.get("API_KEY") or params.get("api_key")
    if not key:
        return _json(
            403,
            {
                "error": {
                    "code": "API_KEY_MISSING",
                    "message": "No api_key was supplied. Get one at https://api.data.gov/signup/",
                }
            },
        )
    if key.startswith("invalid"):
        return _json(
            403,
            {
                "error": {
                    "code": "API_KEY_INVALID",
                    "message": "An invalid api_key was supplied. Get one at https://api.data.gov/signup/",
                }
            },
        )
    return None


def _summarized(path: str, ori: str, offense: str, params: dict[str, str]) -> Answer:
    if ori not in KNOWN_ORIS:
        return _json(200, unknown_ori_answer())
    window = (params.get("from"), params.get("to"))
    if (ori, offense, window) != ("ILCPD0000", "V", ("01-2024", "12-2024")):
        return _no_recording(path)
    data = chicago_2024()
    if path.startswith("/shuffled"):
        data = shuffled(data)
    if path.startswith("/partial"):
        data = partial(data)
    return _json(200, data)


def cde_route() -> Route:
    """The CDE under every prefix; /throttled answers 429 once per URL first."""
    throttled: set[str] = set()

    def route(path: str, params: dict[str, str]) -> Answer | None:
        match = _CDE_PATH.fullmatch(path)
        if not match:
            return None
        refused = _key_check(match["prefix"], params)
        if refused:
            return refused
        if path.startswith("/throttled") and path not in throttled:
            throttled.add(path)
            return _json(429, {"error": "Too Many Requests"}, {"Retry-After": "1"})
        if match["state"]:
            if match["state"] != "IL":
                return _no_recording(path)
            return _json(200, json.loads((CDE / "agency_byStateAbbr_IL_trimmed.json").read_text()))
        return _summarized(path, match["ori"], match["offense"], params)

    return route


def census_route(path: str, params: dict[str, str]) -> Answer | None:
    found = CENSUS_FILES.get(path)
    return None if found is None else (200, "text/csv", found.read_bytes())


def fbi_census_routes() -> list[Route]:
    """The routes this module adds to scripts/loopback.py's all_routes()."""
    return [cde_route(), census_route]
