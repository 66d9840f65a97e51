"""DOJ tagging: the jurisdiction registry, qualifiers, sentences, stated numbers."""

from __future__ import annotations

from datetime import date

import duckdb

from sanctuarywatch import registry
from sanctuarywatch.sources.platforms.justice_gov.numbers import stated_numbers
from sanctuarywatch.sources.platforms.justice_gov.tags import (
    jurisdiction_mentions,
    sentences,
    topic_tags,
)


def doj_names(text: str) -> list[str | None]:
    """The DOJ name (registry doj_name) of each jurisdiction the text names, in order."""
    by_id = {j.jurisdiction_id: j.doj_name for j in registry.doj_jurisdictions()}
    return [by_id[m["jurisdiction_id"]] for m in jurisdiction_mentions("d", text)]


def test_the_tagger_reads_the_registry_the_warehouse_applies(
    con: duckdb.DuckDBPyConnection,
) -> None:
    sql = con.execute(
        "SELECT jurisdiction_id, name, kind, state, aliases FROM us_doj_jurisdictions ORDER BY 1"
    ).fetchall()
    python = sorted(
        (j.jurisdiction_id, j.doj_name, j.kind, j.state, "; ".join(j.doj_aliases))
        for j in registry.doj_jurisdictions()
    )
    assert sql == python
    names = {row[1] for row in sql}
    assert {
        "Cook County",
        "Miami-Dade County",
        "Clark County",
        "State of Connecticut",
        "Chicago",
        "Milwaukee County",
        "Stockton",
        "San Bernardino",
    } <= names


def test_state_after_a_place_is_a_qualifier() -> None:
    text = "Letters went to Chicago, Illinois; Cook County, Illinois; and the State of Illinois."
    assert doj_names(text) == ["Chicago", "Cook County", "State of Illinois"]


def test_new_york_in_a_series_is_the_city_and_miami_dade_is_not_miami() -> None:
    text = "The cities are Chicago, New Orleans, New York and Philadelphia. Miami-Dade complied."
    assert doj_names(text) == [
        "Chicago",
        "New Orleans",
        "New York City",
        "Philadelphia",
        "Miami-Dade County",
    ]


def test_sentences_do_not_split_at_abbreviations() -> None:
    line = "They have until Oct. 27, 2017 to reply. Acting U.S. Attorney John B. Doe said so."
    assert sentences(line) == [
        "They have until Oct. 27, 2017 to reply.",
        "Acting U.S. Attorney John B. Doe said so.",
    ]


def test_topic_reasons() -> None:
    text = "It is funded through the Edward Byrne Memorial Justice Assistance Grant Program."
    tags = topic_tags("d", "Public Safety Partnership sites", text)
    assert [(t["tag"], t["matches"]) for t in tags] == [
        ("byrne_jag", 1),
        ("public_safety_partnership", 1),
    ]
    assert tags[1]["first_context"] == "Public Safety Partnership sites"


def test_stated_numbers_with_units() -> None:
    found = stated_numbers(
        "Miami-Dade is eligible for FY 2016 Byrne JAG grant funding in the "
        "amount of $481,347, and 17 percent more by Oct. 27, 2017."
    )
    assert [(n["stated"], n["value"], n["unit"]) for n in found] == [
        ("2016", 2016.0, "year"),
        ("$481,347", 481347.0, "USD"),
        ("17 percent", 17.0, "percent"),
        ("Oct. 27, 2017", None, "date"),
    ]
    assert found[-1]["date_value"] == date(2017, 10, 27)


def test_statute_and_names_are_not_numbers() -> None:
    found = stated_numbers("Under 8 U.S.C. § 1373 and Section 1373, 11 MS-13 members, 17-436.")
    assert [(n["stated"], n["unit"]) for n in found] == [("11", None)]
