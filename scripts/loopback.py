"""A loopback server that speaks the upstreams' protocols with the real data in ../shared/data.

Live sources cannot be reached from this workplace, so cassettes, the bundled demo archive
and the benchmarks are recorded against this server on 127.0.0.1. It serves:

    /resource/ijzp-q8t2.json   Socrata SODA 2.x over the real Chicago homicide rows
                               (the 2001-2017 CSV re-shaped to SODA JSON: DERIVED, see
                               tests/fixtures/README.md), with $where/$order/$limit/$offset/$select
    /resource/gumc-mgzr.json   the victims dataset's CONSTRUCTED rows (tests/fixtures), likewise

The SoQL it understands is the subset sanctuarywatch sends: comparisons joined by AND (one
may be a parenthesised OR of comparisons) on fields and on the system fields :id and
:updated_at. Anything else answers 400 like Socrata.
"""

from __future__ import annotations

import contextlib
import csv
import json
import re
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

SHARED = Path(__file__).resolve().parents[2] / "shared"
CHICAGO_CSV = SHARED / "data" / "chicago" / "homicide_victims_2001_2017.csv"
_COMPARISON = re.compile(r"^\s*(:?[a-z_]+)\s*(>=|<=|=|<|>)\s*'([^']*)'\s*$")


def soda_rows(csv_path: Path = CHICAGO_CSV) -> list[dict[str, Any]]:
    """The pandas-resaved portal CSV as the SODA JSON rows the portal would serve."""
    with csv_path.open(newline="", encoding="utf-8") as handle:
        return [_soda_row(row) for row in csv.DictReader(handle)]


def _whole(value: str) -> str:
    return str(int(float(value))) if value else ""


def _iso(value: str) -> str:
    return datetime.strptime(value, "%m/%d/%Y %I:%M:%S %p").strftime("%Y-%m-%dT%H:%M:%S.000")


def _soda_row(row: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row["ID"],
        "case_number": row["Case Number"],
        "date": _iso(row["Date"]),
        "block": row["Block"],
        "iucr": row["IUCR"],
        "primary_type": row["Primary Type"],
        "description": row["Description"],
        "location_description": row["Location Description"],
        "arrest": row["Arrest"] == "True",
        "domestic": row["Domestic"] == "True",
        "beat": row["Beat"].zfill(4) if row["Beat"] else "",
        "district": _whole(row["District"]).zfill(3) if row["District"] else "",
        "ward": _whole(row["Ward"]),
        "community_area": _whole(row["Community Area"]),
        "fbi_code": row["FBI Code"],
        "x_coordinate": _whole(row["X Coordinate"]),
        "y_coordinate": _whole(row["Y Coordinate"]),
        "year": row["Year"],
        "updated_on": _iso(row["Updated On"]),
        "latitude": row["Latitude"],
        "longitude": row["Longitude"],
    }
    if row["Latitude"] and row["Longitude"]:
        out["location"] = {
            "type": "Point",
            "coordinates": [float(row["Longitude"]), float(row["Latitude"])],
        }
    # Socrata leaves out empty values.
    out = {k: v for k, v in out.items() if v != ""}
    out[":id"] = f"row-{int(row['ID']):08d}"
    out[":updated_at"] = out["updated_on"] + "Z"
    return out


class SodaDataset:
    """Rows of one dataset and the subset of SoQL needed to page through them."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows

    def query(self, params: dict[str, str]) -> list[dict[str, Any]]:
        rows = [row for row in self.rows if _matches(row, params.get("$where", ""))]
        order = [name.strip() for name in params.get("$order", ":id").split(",")]
        rows.sort(key=lambda row: tuple(str(row.get(name, "")) for name in order))
        offset, limit = int(params.get("$offset", 0)), int(params.get("$limit", 1000))
        selected = rows[offset : offset + limit]
        system = ":id" in params.get("$select", "")
        return [
            {k: v for k, v in row.items() if system or not k.startswith(":")} for row in selected
        ]


def _matches(row: dict[str, Any], where: str) -> bool:
    """Clauses joined by AND; a clause may be a parenthesised OR of comparisons."""
    if not where:
        return True
    for clause in re.split(r"\s+AND\s+(?![^()]*\))", where):
        clause = clause.strip()
        if clause.startswith("(") and clause.endswith(")"):
            options = re.split(r"\s+OR\s+", clause[1:-1])
            if not any(_compare(row, option) for option in options):
                return False
        elif not _compare(row, clause):
            return False
    return True


def _compare(row: dict[str, Any], clause: str) -> bool:
    match = _COMPARISON.match(clause)
    if not match:
        raise ValueError(f"unsupported SoQL clause: {clause!r}")
    name, op, value = match.groups()
    have = str(row.get(name, "")).rstrip("Z")
    return {
        "=": have == value,
        ">=": have >= value,
        "<=": have <= value,
        "<": have < value,
        ">": have > value,
    }[op]


Answer = tuple[int, str, bytes] | tuple[int, str, bytes, dict[str, str]]
Route = Callable[[str, dict[str, str]], Answer | None]  # None: not mine, try the next route
NOT_FOUND: Answer = (404, "application/json", b'{"error":true,"message":"Not found"}')


def socrata_route(datasets: dict[str, SodaDataset]) -> Route:
    def route(path: str, params: dict[str, str]) -> Answer | None:
        match = re.fullmatch(r"/resource/([a-z0-9]{4}-[a-z0-9]{4})\.json", path)
        if not match or match.group(1) not in datasets:
            return None
        try:
            rows = datasets[match.group(1)].query(params)
        except ValueError as exc:
            body = {"code": "query.compiler.malformed", "error": True, "message": str(exc)}
            return 400, "application/json", json.dumps(body).encode()
        return 200, "application/json;charset=utf-8", json.dumps(rows, indent=1).encode()

    return route


VICTIMS = (
    Path(__file__).resolve().parents[1]
    / "tests"
    / "fixtures"
    / "il_chicago_violence_victims"
    / "constructed_rows.json"
)


def chicago_route() -> Route:
    """The Chicago portal as recorded for the demo and the cassettes: the crimes rows, and the
    victims dataset's CONSTRUCTED rows (tests/fixtures/il_chicago_violence_victims)."""
    victims = json.loads(VICTIMS.read_text(encoding="utf-8"))
    return socrata_route({"ijzp-q8t2": SodaDataset(soda_rows()), "gumc-mgzr": SodaDataset(victims)})


def combine(*routes: Route) -> Route:
    """The first route that answers a path wins; none answering is a 404."""

    def route(path: str, params: dict[str, str]) -> Answer:
        for candidate in routes:
            answer = candidate(path, params)
            if answer is not None:
                return answer
        return NOT_FOUND

    return route


class _Handler(BaseHTTPRequestHandler):
    route: Route

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        answer = self.route(parts.path, params) or NOT_FOUND
        status, content_type, body = answer[:3]
        headers = answer[3] if len(answer) > 3 else {}  # type: ignore[misc]
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serve(route: Route, port: int = 0) -> Iterator[str]:
    """Serve `route` on 127.0.0.1 in a thread; yield the base URL."""
    handler = type("Handler", (_Handler,), {"route": staticmethod(route)})
    with running(handler, port) as url:
        yield url


@contextlib.contextmanager
def running(handler: type[BaseHTTPRequestHandler], port: int = 0) -> Iterator[str]:
    """A threaded server for `handler` on 127.0.0.1 (port 0: any free one); yield its base
    URL, shut it down after."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    # a short poll: shutdown() waits up to one interval, and the fault matrix starts hundreds
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def all_routes() -> Route:
    """Every upstream this server imitates. Each area adds its route here."""
    from loopback_doj import doj_route  # scripts/ is on sys.path wherever this runs
    from loopback_fbi import fbi_census_routes
    from loopback_ucr import ucr_route

    return combine(chicago_route(), *fbi_census_routes(), doj_route(), ucr_route)


REVISED_ID = "23330"  # a 2017 victim row whose record the "revised" portal re-classifies


def chicago_2016_2017_route(revised: bool = False) -> Route:
    """The portal holding only the 2016-2017 rows (small cassettes); `revised`: after an
    upstream revision that re-classifies one 2017 murder as second-degree.

    Recorded on ports 8767 (as is) and 8766 (revised), so tests can load the original, then the
    revision, and query both.
    """
    rows = [dict(row) for row in soda_rows() if row["year"] in ("2016", "2017")]
    for row in rows if revised else []:
        if row["id"] == REVISED_ID:
            row.update(
                iucr="0130",
                description="SECOND DEGREE MURDER",
                updated_on="2026-11-01T09:30:00.000",
                **{":updated_at": "2026-11-01T14:30:00.000Z"},
            )
    return socrata_route({"ijzp-q8t2": SodaDataset(rows)})
