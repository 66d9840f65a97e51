"""Chicago shooting and homicide victims (gumc-mgzr), on CONSTRUCTED rows (no real rows exist
here; see tests/fixtures/README.md)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from conftest import FIXTURES, fetched

from sanctuarywatch.errors import LayoutError
from sanctuarywatch.load import warehouse
from sanctuarywatch.sources import il_chicago_violence_victims as source

ROWS = (FIXTURES / "il_chicago_violence_victims" / "constructed_rows.json").read_bytes()


def records() -> list[dict[str, object]]:
    return source.normalize(source.parse(fetched(source.SLUG, ROWS), "rows"), "rows")[
        "il_chicago_violence_victims"
    ].to_pylist()


def test_gunshot_flag_keeps_unknown_apart_from_no() -> None:
    assert [r["gunshot_injury"] for r in records()] == [True, True, None, False]


def test_homicides_and_shootings_are_told_apart() -> None:
    assert [r["is_homicide"] for r in records()] == [True, False, False, True]


def test_codes_and_times_are_normalised() -> None:
    first = records()[0]
    assert (first["district"], first["beat"], first["ward"]) == ("007", "0712", 20)
    assert first["occurred_local"] == datetime(2017, 7, 1, 23, 30)
    assert first["occurred_at"].isoformat() == "2017-07-02T04:30:00+00:00"  # type: ignore[union-attr]


def test_a_renamed_column_is_a_layout_error() -> None:
    broken = ROWS.replace(b'"gunshot_injury_i"', b'"gunshot_injury"')
    page = source.parse(fetched(source.SLUG, broken), "rows")
    with pytest.raises(LayoutError, match="without gunshot_injury_i"):
        source.normalize(page, "rows")


def test_shooting_offenses_in_the_query_helpers() -> None:
    """People shot (gunshot flag Y) and those of them killed, as incident_events counts them."""
    con = warehouse.connect(":memory:")
    rows = source.normalize(source.parse(fetched(source.SLUG, ROWS), "rows"), "rows")
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
