"""DOJ stated numbers: scale words, malformed figures, units that are nouns, identifiers.

Each sentence here is made up for the test.
"""

from __future__ import annotations

from typing import Any

import pytest

from sanctuarywatch.sources.platforms.justice_gov.numbers import stated_numbers


def figures(sentence: str) -> list[tuple[Any, ...]]:
    return [(n["stated"], n["value"], n["unit"]) for n in stated_numbers(sentence)]


def test_a_word_number_keeps_its_scale() -> None:
    found = stated_numbers("The scheme cost taxpayers over nine million.")
    assert [(n["stated"], n["value"], n["unit"], n["hedge"]) for n in found] == [
        ("over nine million", 9_000_000, None, "over"),
    ]


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Nearly two million people voted.", ("Nearly two million people", 2_000_000, "people")),
        ("It paid 1.5 billion dollars.", ("1.5 billion dollars", 1_500_000_000, "USD")),
        ("It sought $3 million in damages.", ("$3 million", 3_000_000, "USD")),
        ("Some 12 thousand aliens were removed.", ("12 thousand aliens", 12_000, "aliens")),
    ],
)
def test_scale_words_multiply_and_stay_in_the_stated_text(
    sentence: str, expected: tuple[Any, ...]
) -> None:
    assert figures(sentence) == [expected]


@pytest.mark.parametrize(
    "sentence",
    [
        "He faces a $250,00 fine and probation.",
        "The grant was 1,000,00 in total.",
        "They owed $12,5 each.",
    ],
)
def test_a_malformed_figure_is_no_number(sentence: str) -> None:
    assert figures(sentence) == []


def test_a_fine_without_a_dollar_sign_is_still_dollars() -> None:
    assert figures("Each count carries a 250,000 fine.") == [("250,000 fine", 250_000, "USD")]
    assert figures("She agreed to a 40,000 civil penalty.") == [
        ("40,000 civil penalty", 40_000, "USD")
    ]


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("The jury saw four angry men leave.", [("four angry men", 4, "men")]),
        ("The indictment lists 53 separate charges.", [("53 separate charges", 53, "charges")]),
        ("He faced 53 separate, unrelated counts.", [("53", 53, None)]),
        ("Agents arrested 13 gang members on Friday.", [("13 gang members", 13, "members")]),
        ("Police found 4300 shooting victims.", [("4300 shooting victims", 4300, "victims")]),
        (
            "The county honored 433 detainers and 12 more.",
            [
                ("433 detainers", 433, "detainers"),
                ("12", 12, None),
            ],
        ),
        ("Of those, 17 were violent.", [("17", 17, None)]),
    ],
)
def test_the_unit_is_a_noun_never_an_adjective(
    sentence: str, expected: list[tuple[Any, ...]]
) -> None:
    assert figures(sentence) == expected


def test_four_angry_without_a_noun_is_not_a_figure() -> None:
    assert figures("All four were angry, and four angry.") == []


def test_later_numbers_survive_a_unit_search() -> None:
    assert figures("It named seven jurisdictions and two cities.") == [
        ("seven jurisdictions", 7, "jurisdictions"),
        ("two cities", 2, "cities"),
    ]


@pytest.mark.parametrize(
    "sentence",
    [
        "He filed a false Form 1099 for the year.",
        "She never issued a 1099 to the workers.",
        "The 1099 form was never filed.",
        "Under Title 8 and Rule 11, the motion failed.",
        "See Case No. 4471 in the docket.",
    ],
)
def test_form_and_rule_numbers_are_not_quantities(sentence: str) -> None:
    assert figures(sentence) == []


def test_a_year_is_a_year_not_a_count() -> None:
    assert figures("In 2017 the city changed its policy.") == [("2017", 2017, "year")]
