"""Chicago shooting and homicide victims (gumc-mgzr), on CONSTRUCTED rows (no real rows exist
here; see tests/fixtures/README.md): (a) a row field by field, (b) a layout break, (c) recorded
HTTP, (d) idempotence; then the shooting counts of the query helpers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import duckdb
import pytest
from conftest import (
    FIXTURES,
    Twice,
    fetched,
    layout_break,
    load_json,
    versions,
)

from sanctuarywatch.collect.loader import normalise
from sanctuarywatch.collect.run import collect
from sanctuarywatch.http import HttpClient
from sanctuarywatch.load import warehouse
from sanctuarywatch.load.archive import Archive
from sanctuarywatch.sources import Options
from sanctuarywatch.sources import il_chicago_violence_victims as source

FIXTURE = FIXTURES / "il_chicago_violence_victims" / "constructed_rows.json"
ROWS = FIXTURE.read_bytes()
# scripts/loopback.py serves the constructed rows as this dataset (make record)
PORTAL = "http://127.0.0.1:8765/resource/gumc-mgzr.json"


def year_2017(page_size: int | None = None) -> Options:
    """A backfill of 2017 (with an end date: the recorded query names it)."""
    return Options(
        mode="backfill",
        start=date(2017, 1, 1),
        end=date(2018, 1, 1),
        page_size=page_size,
        base_url=PORTAL,
    )


def records() -> list[dict[str, object]]:
    return normalise(source, source.parse(fetched(source.SLUG, ROWS), "rows"), "rows")[
        "il_chicago_violence_victims"
    ].to_pylist()


# --- (a) parse: a saved row, field by field ------------------------------------------------


def test_parse_one_row_field_by_field() -> None:
    """Every field of the first row, each expected value read from the saved rows."""
    raw = load_json(FIXTURE)[0]
    local = datetime.fromisoformat(raw["date"])  # floating: Chicago wall-clock time
    assert records()[0] == {
        "unique_id": raw["unique_id"],
        "case_number": raw["case_number"],
        "occurred_local": local,
        "block": raw["block"],
        "victimization_primary": raw["victimization_primary"],
        "incident_primary": raw["incident_primary"],
        "gunshot_injury": raw["gunshot_injury_i"] == "Y",
        "is_homicide": raw["victimization_primary"] == "HOMICIDE",
        "victimization_iucr_cd": raw["victimization_iucr_cd"],
        "victimization_fbi_cd": raw["victimization_fbi_cd"],
        "zip_code": raw["zip_code"],
        "ward": int(raw["ward"]),
        "community_area": raw["community_area"],
        "area": int(raw["area"]),
        "district": raw["district"].zfill(3),
        "beat": raw["beat"].zfill(4),
        "age": raw["age"],
        "sex": raw["sex"],
        "race": raw["race"],
        "location_description": raw["location_description"],
        "updated": datetime.fromisoformat(raw["updated"]),
        "latitude": float(raw["latitude"]),
        "longitude": float(raw["longitude"]),
        "occurred_at": local.replace(tzinfo=source.TIME_ZONE).astimezone(UTC),
    }


def test_gunshot_flag_keeps_unknown_apart_from_no() -> None:
    assert [r["gunshot_injury"] for r in records()] == [True, True, None, False]


def test_homicides_and_shootings_are_told_apart() -> None:
    assert [r["is_homicide"] for r in records()] == [True, False, False, True]


def test_codes_and_times_are_normalised() -> None:
    first = records()[0]
    assert (first["district"], first["beat"], first["ward"]) == ("007", "0712", 20)
    assert first["occurred_local"] == datetime(2017, 7, 1, 23, 30)
    assert first["occurred_at"].isoformat() == "2017-07-02T04:30:00+00:00"  # type: ignore[union-attr]


# --- (b) layout break: the project's clear error -------------------------------------------


def test_layout_break_a_renamed_column() -> None:
    broken = ROWS.replace(b'"gunshot_injury_i"', b'"gunshot_injury"')
    page = source.parse(fetched(source.SLUG, broken), "rows")
    with layout_break(source.SLUG, "gunshot_injury_i") as caught:
        normalise(source, page, "rows")
    assert "without gunshot_injury_i" in caught.value.found


# --- (c) recorded HTTP: paging through the portal, from the cassette -----------------------


@pytest.mark.vcr
def test_recorded_backfill_pages_through_the_portal(
    con: duckdb.DuckDBPyConnection, archive: Archive
) -> None:
    rows = load_json(FIXTURE)
    with HttpClient() as client:
        result = collect(con, archive, client, source.SLUG, year_2017(page_size=3))
    assert result.requests == 2  # a full page of 3, then the last row
    assert (result.counts.seen, result.counts.new) == (len(rows), len(rows))
    loaded = con.execute(f"SELECT unique_id FROM {source.SLUG} ORDER BY 1").fetchall()
    assert [row[0] for row in loaded] == sorted(row["unique_id"] for row in rows)
    urls = [row[0] for row in con.execute("SELECT url FROM raw_responses").fetchall()]
    assert sorted(url.split("$offset=")[1].split("&")[0] for url in urls) == ["0", "3"]


# --- (d) idempotence: the same load twice writes no new version ----------------------------


@pytest.mark.vcr
def test_idempotent_a_second_run_writes_no_new_version(
    con: duckdb.DuckDBPyConnection, archive: Archive
) -> None:
    options = year_2017()
    with HttpClient() as client:
        first = collect(con, archive, client, source.SLUG, options)
        after_first = versions(con, source.TABLES)
        second = collect(con, archive, client, source.SLUG, options)
    Twice(first, second, after_first, versions(con, source.TABLES)).assert_idempotent()
    assert first.counts.new == len(load_json(FIXTURE))


# --- the query helpers' shooting counts ----------------------------------------------------


def test_shooting_offenses_in_the_query_helpers() -> None:
    """People shot (gunshot flag Y) and those of them killed, as incident_events counts them."""
    con = warehouse.connect(":memory:")
    rows = normalise(source, source.parse(fetched(source.SLUG, ROWS), "rows"), "rows")
    stage = warehouse.Stage(con, source.SLUG, source.TABLES[source.SLUG])
    stage.append(
        rows[source.SLUG],
        {
            "observed_at": datetime(2017, 8, 17, tzinfo=UTC),
            "source": source.SLUG,
            "source_url": "constructed_rows.json",
            "raw_sha256": "0" * 64,
            "run_id": "test",
        },
    )
    stage.merge()
    counted = {
        offense: con.execute(
            "SELECT n FROM incident_count('agency:ILCPD0000', ?, '2000-01-01', '2030-01-01', "
            "'infinity')",
            [offense],
        ).fetchall()[0][0]
        for offense in ("shooting_victim", "shooting_homicide")
    }
    shot = [r for r in records() if r["gunshot_injury"]]
    assert counted == {
        "shooting_victim": len(shot),
        "shooting_homicide": len([r for r in shot if r["is_homicide"]]),
    }
    assert counted["shooting_homicide"] > 0
