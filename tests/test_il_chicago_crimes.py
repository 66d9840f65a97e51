"""Chicago crimes (ijzp-q8t2), in the shape of every source's tests: (a) saved real rows parsed
field by field, and both CSV dialects; (b) layout breaks; (c) recorded HTTP, paging through the
portal; (d) idempotence, the same load twice; then how a load is batched."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import httpx
import pytest
from conftest import FIXTURES, SHARED_DATA, fetched, layout_break, load_json

from sanctuarywatch.collect.loader import normalise
from sanctuarywatch.collect.run import collect
from sanctuarywatch.collect.tuning import MEMORY_ENV, pages_per_batch
from sanctuarywatch.errors import LayoutError
from sanctuarywatch.http import HttpClient
from sanctuarywatch.load import warehouse
from sanctuarywatch.load.archive import Archive
from sanctuarywatch.load.warehouse import Stage
from sanctuarywatch.sources import Options
from sanctuarywatch.sources import il_chicago_crimes as source
from sanctuarywatch.sources.platforms import socrata

HERE = FIXTURES / "il_chicago_crimes"
PORTAL = "http://127.0.0.1:8765/resource/ijzp-q8t2.json"
PORTAL_2016_2017 = "http://127.0.0.1:8767/resource/ijzp-q8t2.json"
REVISED_PORTAL = "http://127.0.0.1:8766/resource/ijzp-q8t2.json"
WINDOW = dict(mode="backfill", start=date(2016, 1, 1), end=date(2018, 1, 1), page_size=500)


@pytest.fixture(params=[None, 3], ids=["one slice", "slices of 3 rows, a page a query"])
def slices(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Loads merged at the end of the run, and in slices of a few rows as a big load is,
    under a memory limit that normalises one page per query."""
    if request.param:
        monkeypatch.setattr(Stage, "FLUSH_ROWS", request.param)
        monkeypatch.setenv(MEMORY_ENV, "100MB")


# --- (a) parse: saved real rows, field by field --------------------------------------------


def test_parse_one_real_soda_row_field_by_field() -> None:
    """Every field of one real row, each expected value read from the saved page itself."""
    raw = load_json(HERE / "soda_sample_rows_real.json")[2]
    page = fetched(source.SLUG, (HERE / "soda_sample_rows_real.json").read_bytes())
    records = normalise(source, source.parse(page, "rows"), "rows")["il_chicago_crimes"]
    local = datetime.fromisoformat(raw["date"])  # floating: Chicago wall-clock time
    assert raw["primary_type"] != "HOMICIDE" and "ward" not in raw and ":updated_at" not in raw
    assert records.to_pylist()[2] == {
        "id": int(raw["id"]),
        "case_number": raw["case_number"],
        "occurred_local": local,
        "occurred_at": local.replace(tzinfo=source.TIME_ZONE).astimezone(UTC),
        "block": raw["block"],
        "iucr": raw["iucr"],
        "primary_type": raw["primary_type"],
        "description": raw["description"],
        "location_description": raw["location_description"],
        "arrest": raw["arrest"],
        "domestic": raw["domestic"],
        "beat": raw["beat"],
        "district": raw["district"],
        "ward": None,  # the portal leaves empty values out
        "community_area": raw.get("community_area"),
        "fbi_code": raw["fbi_code"],
        "x_coordinate": float(raw["x_coordinate"]),
        "y_coordinate": float(raw["y_coordinate"]),
        "year": int(raw["year"]),
        "updated_on": datetime.fromisoformat(raw["updated_on"]),
        "latitude": float(raw["latitude"]),
        "longitude": float(raw["longitude"]),
        "offense_class": None,  # not a homicide
        "portal_updated_at": None,  # saved without the system fields
    }


def test_parse_portal_csv_dialect() -> None:
    rows = socrata.parse_csv(
        source.SLUG, "portal csv", (HERE / "portal_csv_sample_lines_real.csv").read_bytes()
    )
    records = normalise(source, rows, "rows")["il_chicago_crimes"].to_pylist()
    murder = records[1]
    assert murder["occurred_local"] == datetime(2019, 5, 26, 2, 11)
    assert (murder["arrest"], murder["beat"], murder["district"]) == (False, "1233", "012")
    assert murder["offense_class"] == "murder"
    assert records[0]["latitude"] is None and records[0]["offense_class"] is None
    assert records[2]["location_description"] == 'CTA "L" PLATFORM'


def test_parse_pandas_csv_dialect() -> None:
    rows = socrata.parse_csv(
        source.SLUG, "pandas csv", (HERE / "homicide_victims_pandas_first59.csv").read_bytes()
    )
    first = normalise(source, rows, "rows")["il_chicago_crimes"].to_pylist()[0]
    assert (first["beat"], first["district"], first["ward"]) == ("1821", "018", None)
    assert first["arrest"] is True and first["domestic"] is True
    assert first["occurred_local"] == datetime(2003, 5, 20, 3, 15)


def test_both_dialects_normalise_to_the_same_records() -> None:
    """The pandas-resaved CSV and the SODA JSON of the same rows give identical records."""
    csv_rows = socrata.parse_csv(
        source.SLUG,
        "csv",
        (SHARED_DATA / "chicago" / "homicide_victims_2001_2017.csv").read_bytes(),
    )
    by_id = {
        r["id"]: r for r in normalise(source, csv_rows, "rows")["il_chicago_crimes"].to_pylist()
    }
    json_rows = load_json(SHARED_DATA / "chicago" / "soda_homicides_2016_2017.DERIVED.json")
    json_records = normalise(source, json_rows, "rows")["il_chicago_crimes"].to_pylist()
    assert len(json_records) == 1458
    assert all(by_id[r["id"]] == r for r in json_records)


@pytest.mark.parametrize(
    ("iucr", "primary_type", "expected"),
    [
        ("0110", "HOMICIDE", "murder"),
        ("0130", "HOMICIDE", "homicide_other"),
        ("0142", "HOMICIDE", "homicide_other"),
        ("0486", "BATTERY", None),
    ],
)
def test_murder_and_homicide_stay_distinguishable(
    iucr: str, primary_type: str, expected: str | None
) -> None:
    row = {"id": "1", "date": "2017-01-01T00:00:00", "iucr": iucr, "primary_type": primary_type}
    assert normalise(source, [row], "rows")["il_chicago_crimes"]["offense_class"][0].as_py() == (
        expected
    )


@pytest.mark.parametrize(
    "spelling",
    [
        lambda rows: json.dumps(rows, separators=(",", ":")),  # as the portal sends it
        lambda rows: json.dumps(rows, indent=2),  # '":id": ' with a space
        lambda rows: json.dumps([r | {"description": ":id"} for r in rows]),  # a value ":id"
        lambda rows: json.dumps([r | {"block": '":id":'} for r in rows]),  # quotes escaped
    ],
    ids=["compact", "indented", "value :id", "escaped key in a value"],
)
def test_rows_are_counted_by_their_id_keys_however_spelt(spelling: object) -> None:
    rows = [
        row | {":id": f"row-{i}"}  # the system field the collector asks for
        for i, row in enumerate(load_json(HERE / "soda_sample_rows_real.json"))
    ]
    body = spelling(rows)  # type: ignore[operator]
    page = socrata.read_page(fetched(source.SLUG, body, url=PORTAL), source.FIELDS, counted=True)
    assert page.num_rows == len(rows) and len(rows) > 1


# --- (b) layout break: the project's clear error -------------------------------------------


def _rows_with(**changes: object) -> bytes:
    rows = load_json(HERE / "soda_sample_rows_real.json")
    for row in rows:
        row.update(changes)
    return json.dumps(rows).encode()


@pytest.mark.parametrize(
    ("body", "content_type", "expected", "found"),
    [
        (
            _rows_with(primary_type=None).replace(b'"primary_type"', b'"primary_typ"'),
            "application/json",
            "primary_type in every row",
            "without primary_type",
        ),
        (
            b"<html><head><title>Service Unavailable</title></head></html>",
            "text/html",
            "a JSON array of rows",
            "Service Unavailable",
        ),
        (b'[{"id": "1", "date": ', "application/json", "a JSON array of objects", "invalid JSON"),
        (
            b'{"code": "query.compiler.malformed", "error": true, "message": "bad $where"}',
            "application/json",
            "a JSON array of rows",
            "bad $where",
        ),
    ],
    ids=["renamed field", "HTML", "cut-off JSON", "an error object"],
)
def test_layout_break_is_a_clear_error(
    body: bytes, content_type: str, expected: str, found: str
) -> None:
    """Whether parsing the bytes or normalising the rows finds it."""
    page = fetched(source.SLUG, body, url=PORTAL, content_type=content_type)
    with layout_break(source.SLUG, expected) as caught:
        normalise(source, source.parse(page, "rows"), "rows")
    assert found in caught.value.found and caught.value.where == PORTAL


def _warehouse_state(con: duckdb.DuckDBPyConnection) -> tuple[object, ...]:
    return (
        con.execute(
            "SELECT count(*), sum(hash(record_hash)) FROM il_chicago_crimes_versions"
        ).fetchone(),
        con.execute("SELECT count(*) FROM raw_responses").fetchone(),
        con.execute("SELECT * FROM source_state").fetchall(),
    )


@pytest.mark.usefixtures("slices")
def test_a_bad_second_page_leaves_the_warehouse_as_it_was(
    con: duckdb.DuckDBPyConnection, archive: Archive
) -> None:
    rows = json.loads((HERE / "soda_sample_rows_real.json").read_bytes())
    good = json.dumps([row | {":id": f"row-{n}"} for n, row in enumerate(rows)]).encode()
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url)
        if len(calls) == 1:
            return httpx.Response(200, content=good, headers={"content-type": "application/json"})
        return httpx.Response(
            200, content=b"<html><title>Oops</title></html>", headers={"content-type": "text/html"}
        )

    before = _warehouse_state(con)
    with HttpClient(transport=httpx.MockTransport(handler)) as client, pytest.raises(LayoutError):
        collect(
            con,
            archive,
            client,
            source.SLUG,
            Options(mode="backfill", page_size=5, base_url=PORTAL),
        )
    assert len(calls) == 2  # pages are fetched one ahead, but nothing after the failure
    for worker in [t for t in threading.enumerate() if t.name == "sanctuarywatch-fetch"]:
        worker.join(timeout=5)
        assert not worker.is_alive()
    assert _warehouse_state(con) == before
    run = con.execute("SELECT status, error FROM runs").fetchone()
    assert run is not None and run[0] == "failed" and "Oops" in run[1]


# --- (c) recorded HTTP: paging through the portal, from the cassette -----------------------


def _murders(con: duckdb.DuckDBPyConnection, year: int) -> int:
    row = con.execute(
        "SELECT chicago_homicide_victims(?, ?, 'murder')", [f"{year}-01-01", f"{year}-08-17"]
    ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.vcr(cassette="test_backfill_pages_through_the_portal")
@pytest.mark.usefixtures("slices")
def test_recorded_backfill_pages_through_the_portal(archive: Archive, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    con = warehouse.connect(db)
    con.execute("SET TimeZone = 'America/Chicago'")  # a user's own session setting
    with HttpClient() as client:
        result = collect(con, archive, client, source.SLUG, Options(base_url=PORTAL, **WINDOW))  # type: ignore[arg-type]
    assert con.execute("SELECT current_setting('TimeZone')").fetchone() == ("America/Chicago",)
    wal = db.with_name(db.name + ".wal")
    assert not wal.exists() or wal.stat().st_size == 0  # checkpointed under the load's limit
    assert result.requests == 3  # 1,458 rows at 500 a page
    assert (result.counts.seen, result.counts.new) == (1458, 1458)
    assert (_murders(con, 2017), _murders(con, 2016)) == (447, 456)
    pages = con.execute("SELECT count(DISTINCT sha256), count(*) FROM raw_responses").fetchone()
    assert pages == (3, 3)
    urls = [row[0] for row in con.execute("SELECT url FROM raw_responses").fetchall()]
    assert sorted(url.split("$offset=")[1].split("&")[0] for url in urls) == ["0", "1000", "500"]


# --- (d) idempotence: the same load twice writes no new version ----------------------------


@pytest.mark.vcr(
    cassette="test_same_load_twice_changes_nothing_then_a_revision_is_kept_beside_the_old_version"
)
@pytest.mark.usefixtures("slices")
def test_idempotent_same_load_twice_then_a_revision_is_kept_beside_the_old_version(
    con: duckdb.DuckDBPyConnection, archive: Archive
) -> None:
    everything = Options(
        mode="backfill", end=date(2018, 1, 1), page_size=1000, base_url=PORTAL_2016_2017
    )
    with HttpClient() as client:
        first = collect(con, archive, client, source.SLUG, everything)
        loaded = con.execute("SELECT now()").fetchone()[0]  # type: ignore[index]
        state = _warehouse_state(con)
        twice = collect(con, archive, client, source.SLUG, everything)
        assert (first.counts.new, twice.counts.written, twice.counts.unchanged) == (1458, 0, 1458)
        assert _warehouse_state(con)[0] == state[0]
        again = collect(con, archive, client, source.SLUG, Options(base_url=PORTAL_2016_2017))
        assert again.requests == 1 and again.counts.written == 0 and again.counts.seen > 0
        revised = collect(con, archive, client, source.SLUG, Options(base_url=REVISED_PORTAL))
    assert (revised.counts.changed, revised.counts.new) == (1, 0)
    assert _murders(con, 2017) == 446
    versions = con.execute(
        "SELECT iucr, valid_to IS NULL FROM il_chicago_crimes_versions WHERE id = 23330 ORDER BY "
        "valid_from"
    ).fetchall()
    assert versions == [("0110", False), ("0130", True)]
    as_of = con.execute(
        "SELECT count(*) FROM il_chicago_crimes_as_of(?) WHERE offense_class = 'murder' "
        "AND occurred_local >= '2017-01-01' AND occurred_local < '2017-08-17'",
        [loaded],
    ).fetchone()
    assert as_of == (447,)


# --- how a load of this source is batched (the run's memory tuning) ------------------------


@pytest.mark.parametrize(
    ("threads", "limit", "pages"),
    [
        (2, "100MB", 1),
        (2, "128MB", 1),  # one file read at a time: one page a query
        (2, "160MB", 4),  # a file a thread: four a query, two read at once
        (2, "8GB", 4),
        (8, "256MB", 3),  # fewer files at once than threads: as many as fit
    ],
)
def test_pages_per_query_follow_the_memory_limit(threads: int, limit: str, pages: int) -> None:
    with duckdb.connect() as con:
        con.execute(f"SET threads = {threads}")
        con.execute(f"SET memory_limit = '{limit}'")
        assert pages_per_batch(con) == pages
