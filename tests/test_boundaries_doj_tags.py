"""DOJ relevance topics, one by one (issue 17): each topic tags a text that mentions it and
nothing else, and the topics that make a document sanctuary-related do so alone (a release
or speech about detainers only is sanctuary-related; one about Byrne JAG only is not).
"""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any

import pytest
from conftest import FIXTURES, fetched, load_json

from sanctuarywatch.sources import us_doj_press_releases as releases
from sanctuarywatch.sources import us_doj_speeches as speeches
from sanctuarywatch.sources.platforms.justice_gov.tags import TOPICS, topic_tags

ONLY = {
    "sanctuary": "The city is a sanctuary jurisdiction.",
    "section_1373": "The city must certify compliance with 8 U.S.C. 1373 by Friday.",
    "detainer": "The jail ignored an immigration detainer for the defendant.",
    "byrne_jag": "The county receives an Edward Byrne Memorial Justice Assistance Grant.",
    "public_safety_partnership": "The city joins the Public Safety Partnership.",
}
RELATED = {"sanctuary": True, "section_1373": True, "detainer": True}


def test_every_topic_has_a_text_of_its_own() -> None:
    assert [tag for tag, _, _ in TOPICS] == list(ONLY)


@pytest.mark.parametrize("tag", ONLY)
def test_a_text_about_one_topic_is_tagged_with_it_alone(tag: str) -> None:
    tags = topic_tags("d", "A title", ONLY[tag])
    assert [(t["tag"], t["matches"]) for t in tags] == [(tag, 1)]
    assert tags[0]["first_context"] == ONLY[tag]


@pytest.mark.parametrize(
    "text",
    [
        "Detainers were lodged with the county.",
        "ICE issued a DETAINER.",
        "Two detainer requests and one more detainer.",
    ],
)
def test_detainer_in_any_case_and_number(text: str) -> None:
    tags = topic_tags("d", "", text)
    assert [t["tag"] for t in tags] == ["detainer"]
    assert tags[0]["reason"].startswith("mentions immigration detainers (")


def test_a_word_that_only_contains_detainer_is_not_one() -> None:
    assert topic_tags("d", "", "The detainee was released; detainment ended.") == []


def test_the_title_counts_as_a_mention() -> None:
    tags = topic_tags("d", "County ignores detainer", "The jail released him.")
    assert [(t["tag"], t["first_context"]) for t in tags] == [
        ("detainer", "County ignores detainer")
    ]


def _release(title: str, body: str) -> dict[str, Any]:
    page = load_json(FIXTURES / releases.SLUG / "api_press_releases_2020-03-15_first40.json")
    record = copy.deepcopy(page["results"][0])
    record.update(title=title, body=f"<p>{body}</p>", topic=[], component=[])
    return page | {"results": [record]}


@pytest.mark.parametrize("tag", ONLY)
def test_a_release_about_one_topic_is_sanctuary_related_when_that_topic_is(tag: str) -> None:
    data = _release("Justice Department news", ONLY[tag])
    page = fetched(releases.SLUG, _json(data), url="https://www.justice.gov/api/v1/x.json")
    tables = releases.normalize(releases.parse(page, releases.KIND), releases.KIND)
    (release,) = tables["us_doj_press_releases"]
    assert release["sanctuary_related"] is RELATED.get(tag, False)
    assert [t["tag"] for t in tables["us_doj_release_tags"]] == [tag]


@pytest.mark.parametrize("tag", ONLY)
def test_a_speech_about_one_topic_is_sanctuary_related_when_that_topic_is(tag: str) -> None:
    row = {
        "url": "https://www.justice.gov/opa/speech/x",
        "layout": "current",
        "title": "Remarks",
        "date": date(2017, 8, 16),
        "as_prepared": True,
        "body_text": ONLY[tag],
    }
    tables = speeches.normalize([row], "speech")
    assert tables["us_doj_speeches"][0]["sanctuary_related"] is RELATED.get(tag, False)
    assert [t["tag"] for t in tables["us_doj_speech_tags"]] == [tag]


def _json(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()
