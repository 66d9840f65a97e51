"""DOJ jurisdiction mentions: qualifiers and neighbours decide which place a name is.

Each sentence here is made up for the test. A name that could be another place maps to nothing
rather than to the wrong jurisdiction. Jurisdictions are named here as DOJ documents name them
(the registry's doj_name), which the tagger's ids stand for.
"""

from __future__ import annotations

import pytest

from sanctuarywatch import registry
from sanctuarywatch.sources.platforms.justice_gov.tags import jurisdiction_mentions

DOJ_NAMES = {j.jurisdiction_id: j.doj_name for j in registry.doj_jurisdictions()}


def named(text: str) -> list[str | None]:
    """The DOJ name of each jurisdiction the text names, in order."""
    return [DOJ_NAMES[m["jurisdiction_id"]] for m in jurisdiction_mentions("d", text)]


@pytest.mark.parametrize(
    "text",
    [
        "A grand jury in New York returned the indictment on Tuesday.",
        "Agents of the HSI New York office seized the painting.",
        "The defendant moved to New York after the fraud came to light.",
        "Trade between New York and New Jersey ports was affected.",
    ],
)
def test_bare_new_york_is_nothing(text: str) -> None:
    assert named(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "The charges were filed in the Southern District of New York.",
        "The judge sits in the Eastern District of New York, in Brooklyn.",
        "The New York County District Attorney's Office assisted.",
    ],
)
def test_new_york_district_or_county_is_not_the_city(text: str) -> None:
    assert named(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The mayor of New York City spoke first.", ["New York City"]),
        ("Letters went to the City of New York on Monday.", ["New York City"]),
        ("The hearing was held in New York, N.Y., last week.", ["New York City"]),
        ("Officials from the city of New York attended.", ["New York City"]),
        ("Lawyers for New York, New York, filed a reply.", ["New York City"]),
        (
            "Chicago, New York and Philadelphia received letters.",
            ["Chicago", "New York City", "Philadelphia"],
        ),
        (
            "The shootings in New York and Los Angeles fell.",
            ["New York City", "Los Angeles"],
        ),
    ],
)
def test_new_york_is_the_city_when_the_text_says_so(text: str, expected: list[str]) -> None:
    assert named(text) == expected


def test_new_york_in_a_list_of_cities_is_the_city_alone_it_is_nothing() -> None:
    cities = "Letters went to:\n- Baltimore\n- New York\n- Seattle"
    assert named(cities) == ["Baltimore", "New York City", "Seattle"]
    states = "Letters went to:\n- New York\n- State of Vermont"
    assert named(states) == ["State of Vermont"]


def test_new_york_state_only_where_the_text_says_state() -> None:
    text = "The State of New York sued, and New York State police helped."
    assert named(text) == ["State of New York", "State of New York"]


@pytest.mark.parametrize(
    "text",
    [
        "The police chief of East Chicago, Ind., resigned.",
        "A warehouse in East Chicago burned down.",
        "Two officers from West Chicago testified.",
        "The couple lived in Lansing, Ill., for a decade.",
        "The plant in Miami, Okla., closed in March.",
    ],
)
def test_other_places_named_like_registry_cities(text: str) -> None:
    assert named(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "The council of North Miami voted on Monday.",
        "Deputies searched a house in South Miami.",
        "The hotel was in Miami Beach, near the water.",
        "A clinic in Miami Gardens billed Medicare.",
    ],
)
def test_miami_with_a_neighbouring_word_is_another_city(text: str) -> None:
    assert named(text) == []


def test_miami_with_its_own_state_is_miami() -> None:
    assert named("The clinic in Miami, Fla., billed Medicare.") == ["Miami"]
    assert named("The clinic in Miami, Florida, billed Medicare.") == ["Miami"]


def test_a_state_name_qualified_by_another_state_is_a_town() -> None:
    assert named("The bank in Oregon, Ohio, was robbed twice.") == []
    assert named("He was arrested near Oregon, Ohio.") == []


def test_a_list_of_states_is_not_read_as_qualifiers() -> None:
    text = "The grants went to the states of Illinois, Oregon, and Vermont."
    assert named(text) == ["State of Illinois", "State of Oregon", "State of Vermont"]


@pytest.mark.parametrize(
    "text",
    [
        "The U.S. Attorney for the Northern District of Illinois announced the plea.",
        "The case was heard in the District of Oregon.",
        "Prosecutors in the Middle District of Florida filed the case.",
    ],
)
def test_a_federal_district_is_not_the_state(text: str) -> None:
    assert named(text) == []


def test_a_county_not_in_the_registry_is_not_the_city() -> None:
    assert named("Baltimore County police and Los Angeles County deputies met.") == []
    assert named("Cook County, Illinois, and Baltimore signed.") == [
        "Cook County",
        "Baltimore",
    ]


def test_a_registry_county_qualified_by_another_state_is_another_county() -> None:
    assert named("The sheriff of Clark County, Ohio, retired.") == []
    assert named("The sheriff of Clark County, Nevada, retired.") == ["Clark County"]
