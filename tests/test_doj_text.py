"""DOJ HTML to text: cp1252 repair, whitespace, list items, the duplicated header."""

from __future__ import annotations

from conftest import FIXTURES, load_json

from sanctuarywatch.sources.platforms.justice_gov.text import (
    clean_title,
    html_to_text,
    lines_with_leads,
    repair_cp1252,
)

REAL = load_json(FIXTURES / "us_doj_press_releases" / "api_press_releases_2020-03-15_first40.json")


def test_repairs_cp1252_entities_and_control_characters() -> None:
    assert repair_cp1252("Bell&#146;s") == "Bell\u2019s"
    assert repair_cp1252("President\x92s") == "President\u2019s"
    assert repair_cp1252("&#147;quoted&#148; &#150; &#8217;") == "\u201cquoted\u201d \u2013 &#8217;"


def test_titles_lose_line_breaks_and_double_spaces() -> None:
    raw = REAL["results"][22]["title"]
    assert "\r\n" in raw
    assert clean_title(raw) == (
        "Former Chief Operating Officer Pleads Guilty in $132 Million "
        "Scheme to Defraud Clients of Funds Allegedly Held in Trust"
    )
    assert clean_title(None) is None


def test_list_items_are_kept_one_per_line() -> None:
    html = "<p>The following:</p><ul><li>Chicago</li><li>Cook <b>County</b></li></ul><p>End.</p>"
    assert html_to_text(html) == "The following:\n- Chicago\n- Cook County\nEnd."


def test_real_list_items_survive() -> None:
    text = html_to_text(REAL["results"][14]["body"])
    items = [line for line in text.split("\n") if line.startswith("- ")]
    assert len(items) == REAL["results"][14]["body"].count("<li")


def test_duplicated_header_goes_real_first_paragraph_stays() -> None:
    header = html_to_text(REAL["results"][3]["body"])
    assert header.startswith("WASHINGTON - On Tuesday, March 11, 2014, Director Bray")
    assert "Department of Justice\n" not in header and "Symposium\nWASHINGTON" not in header
    kept = html_to_text(REAL["results"][0]["body"])  # its first paragraph is in presscontenthdr
    assert kept.startswith("WASHINGTON - INTERPOL Washington, the United States National")


def test_no_break_spaces_and_empty_paragraphs_vanish() -> None:
    text = html_to_text(REAL["results"][0]["body"])
    assert "\xa0" not in text and "\n\n" not in text


def test_list_leads() -> None:
    lines = lines_with_leads(
        "Intro.\nMay violate:\n- Chicago\n- New York\nNo evidence:\n- Clark County"
    )
    assert [(line, lead) for line, item, lead in lines if item] == [
        ("Chicago", "May violate:"),
        ("New York", "May violate:"),
        ("Clark County", "No evidence:"),
    ]
