"""The SQL normaliser's value rules (sqlnorm), through the Chicago crimes record."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import duckdb
import pytest
from conftest import fetched

from sanctuarywatch.errors import LayoutError, RecordError
from sanctuarywatch.sources import il_chicago_crimes as source

BASE = {"id": "7", "date": "2017-07-04T21:15:00.000", "iucr": "0110", "primary_type": "HOMICIDE"}


def one(**fields: Any) -> dict[str, Any]:
    """The record made from one portal row (BASE with `fields` changed)."""
    table = source.NORMALIZER.records([BASE | fields])
    return table.to_pylist()[0]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("ward", "12.5", "ward: not a whole number: 12.5"),
        ("ward", "twelve", "ward: not a whole number: twelve"),
        ("arrest", "maybe", "arrest: not a boolean: maybe"),
        ("updated_on", "yesterday", "updated_on: not a timestamp: yesterday"),
        ("x_coordinate", "east", "x_coordinate: not a number: east"),
        ("date", "0-1-1", "date: not a timestamp: 0-1-1"),
        ("date", "", "no date"),
        ("date", "  ", "no date"),
    ],
)
def test_a_value_that_cannot_be_read_is_an_error_naming_row_field_and_value(
    field: str, value: str, problem: str
) -> None:
    with pytest.raises(RecordError) as caught:
        one(**{field: value})
    assert (caught.value.key, caught.value.detail) == ("7", problem)
    assert source.SLUG in str(caught.value)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"ward": "18.0"}, {"ward": 18}),
        ({"ward": " 18 "}, {"ward": 18}),
        ({"ward": "nan"}, {"ward": None}),
        ({"ward": "   "}, {"ward": None}),
        ({"arrest": "True", "domestic": "N"}, {"arrest": True, "domestic": False}),
        ({"arrest": "unknown"}, {"arrest": None}),
        ({"beat": "221.0", "district": "7"}, {"beat": "0221", "district": "007"}),
        ({"iucr": "110"}, {"iucr": "0110", "offense_class": "murder"}),
        ({"date": "07/04/2017 09:15:00 PM"}, {"occurred_local": datetime(2017, 7, 4, 21, 15)}),
        (
            {":updated_at": "2023-05-20T16:45:25.000Z"},
            {"portal_updated_at": datetime(2023, 5, 20, 16, 45, 25)},
        ),
        (
            {"location": {"type": "Point", "coordinates": [-87.6, 41.8]}},
            {"latitude": 41.8, "longitude": -87.6},
        ),
        (
            {"latitude": "41.9", "longitude": "-87.7", "location": "(41.9, -87.7)"},
            {"latitude": 41.9},
        ),
    ],
)
def test_value_rules(fields: dict[str, Any], expected: dict[str, Any]) -> None:
    record = one(**fields)
    assert {name: record[name] for name in expected} == expected


def test_the_hour_that_happens_twice_is_read_as_its_first_occurrence() -> None:
    """01:30 on 5 Nov 2017 happened in CDT and again in CST; like zoneinfo (fold=0), the
    first (06:30 UTC), so records normalised before the SQL normaliser hash alike."""
    assert one(date="2017-11-05T01:30:00")["occurred_at"] == datetime(
        2017, 11, 5, 6, 30, tzinfo=UTC
    )
    assert one(date="2017-03-12T02:30:00")["occurred_at"] == datetime(
        2017, 3, 12, 8, 30, tzinfo=UTC
    )


def test_a_json_page_and_the_same_rows_as_dicts_give_the_same_records() -> None:
    rows = [
        BASE,
        BASE | {"id": "8", "arrest": True, "ward": 3, "location": {"coordinates": [1, 2]}},
    ]
    page = source.parse(fetched(source.SLUG, json.dumps(rows).encode()), "rows")
    from_json = source.NORMALIZER.records(page).to_pylist()
    from_dicts = source.NORMALIZER.records(rows).to_pylist()
    assert from_json == from_dicts and from_json[1]["arrest"] is True


def test_fields_missing_from_every_row_are_a_layout_error() -> None:
    body = json.dumps([{k: v for k, v in BASE.items() if k != "iucr"}]).encode()
    page = source.parse(fetched(source.SLUG, body), "rows")
    with pytest.raises(LayoutError, match="1 of 1 rows without iucr"):
        source.NORMALIZER.records(page)


def test_page_files_are_removed_when_closed_or_dropped(tmp_path: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    page = source.parse(fetched(source.SLUG, json.dumps([BASE]).encode()), "rows")
    assert source.NORMALIZER.records(page).num_rows == 1
    page.close()
    broken = source.parse(fetched(source.SLUG, b"[{"), "rows")
    with pytest.raises(LayoutError, match="invalid JSON"):
        source.NORMALIZER.records(broken)
    del broken
    assert list(tmp_path.iterdir()) == []


def test_a_bad_row_is_named_by_the_lowest_key_of_the_bad_rows() -> None:
    rows = [BASE | {"id": "9", "ward": "x"}, BASE | {"id": "8", "ward": "y"}, BASE]
    with pytest.raises(RecordError) as caught:
        source.NORMALIZER.records(rows)
    assert (caught.value.key, caught.value.detail) == ("8", "ward: not a whole number: y")


def test_a_page_is_normalised_inside_the_given_connection() -> None:
    """The load path: records land in a temp table of the warehouse's own connection."""
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        page = source.NORMALIZER.into(con, [BASE, BASE | {"id": "8"}], "page_x")
        assert len(page) == 2
        assert page.max("occurred_local") == datetime(2017, 7, 4, 21, 15)
        assert con.execute("SELECT sum(id) FROM page_x").fetchall() == [(15,)]


def test_running_out_of_memory_is_not_blamed_on_the_page() -> None:
    page = source.parse(fetched(source.SLUG, json.dumps([BASE]).encode()), "rows")
    with duckdb.connect() as con:
        con.execute("SET memory_limit = '1MB'")
        with pytest.raises(duckdb.OutOfMemoryException):
            source.NORMALIZER.into(con, page, "page_x")
