"""Numbers stated in a sentence: "$481,347", "433 people", "17 percent", "more than three
times", "Oct. 27, 2017", each with its value, unit and hedge ("more than", "nearly").

Why: the claims ledger checks what officials said against the data, and what they said is a
number with a unit and a hedge in a sentence. Patterns are tried in order (dates, money,
percent, multiples, counts); a span taken by an earlier pattern is not read again, so the
"27" and "2017" of "Oct. 27, 2017" are not also counts.

Skipped on purpose: statute sections ("8 U.S.C. 1373", "Section 1373"), release numbers
("17-436"), and digits inside names ("MS-13", "COVID-19", "1031TG").
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

_MONTH_NAMES = "jan feb mar apr may jun jul aug sep oct nov dec"
_WORD_NUMBERS = (
    "two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
)
MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES.split(), start=1)}
WORDS = {w: i for i, w in enumerate(_WORD_NUMBERS.split(), start=2)}
STOP_WORDS = frozenset(
    re.findall(
        r"\S+",
        "and or to of in on at the a an by for from as than that was were is are with",
    )
)
SCALE = {"thousand": 1e3, "million": 1e6, "billion": 1e9}
_HEDGE = (
    r"(?:(?P<hedge>more than|less than|fewer than|nearly|almost|about|over|upwards of|"
    r"at least|approximately|roughly|barely|up to)\s+)?"
)
_MONTH = (
    r"(?P<month>Jan(?:uary|\.)?|Feb(?:ruary|\.)?|Mar(?:ch|\.)?|Apr(?:il|\.)?|May|"
    r"June?|July?|Aug(?:ust|\.)?|Sept?(?:ember|\.)?|Oct(?:ober|\.)?|Nov(?:ember|\.)?|"
    r"Dec(?:ember|\.)?)"
)
_NUM = r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
_SCALE = r"(?:\s(?P<scale>thousand|million|billion))?"
_EDGE = r"(?<![\w\-/.$§])"
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("date", re.compile(rf"\b{_MONTH}\s(?P<day>\d{{1,2}}),\s(?P<year>\d{{4}})\b")),
    ("month", re.compile(rf"\b{_MONTH}\s(?P<year>\d{{4}})\b")),
    ("USD", re.compile(rf"{_HEDGE}\${_NUM}{_SCALE}")),
    ("percent", re.compile(rf"{_HEDGE}{_EDGE}{_NUM}\s?(?:percent\b|%)")),
    ("times", re.compile(rf"{_HEDGE}\b(?P<word>{'|'.join(WORDS)}|\d+)\stimes\b", re.I)),
    (
        "skip",
        re.compile(r"(?:\b\d+\s*)?(?:U\.?S\.?C\.?|[Ss]ection|§)\s*§?\s*\d+|\b\d{2}-\d{3,4}\b"),
    ),
    (
        "count",
        re.compile(
            rf"{_HEDGE}(?:{_EDGE}{_NUM}{_SCALE}|\b(?P<word>{'|'.join(WORDS)})\b)"
            r"(?![\w\-%])(?:\s(?P<unit>(?-i:[a-z][a-z\-]*[a-z])))?",
            re.I,
        ),
    ),
)


def stated_numbers(sentence: str) -> list[dict[str, Any]]:
    """The numbers of one sentence, in reading order."""
    taken: list[tuple[int, int]] = []
    found: list[tuple[int, dict[str, Any]]] = []
    for unit, pattern in PATTERNS:
        for match in pattern.finditer(sentence):
            span = match.span()
            if any(span[0] < end and start < span[1] for start, end in taken):
                continue
            taken.append(span)
            row = _row(unit, match)
            if row is not None:
                found.append((span[0], row))
    return [row for _, row in sorted(found, key=lambda item: item[0])]


def _row(unit: str, match: re.Match[str]) -> dict[str, Any] | None:
    if unit == "skip":
        return None
    groups = match.groupdict()
    row: dict[str, Any] = {
        "stated": match.group(0),
        "value": None,
        "unit": unit,
        "hedge": (groups.get("hedge") or "").lower() or None,
        "date_value": None,
    }
    if unit in ("date", "month"):
        row["date_value"] = _date(groups["month"], groups.get("day") or "1", groups["year"])
        row["unit"] = "date" if unit == "date" else "month"
        return row if row["date_value"] else None
    row["value"] = _value(groups)
    if unit == "count":
        return _count(row, groups)
    return row


def _count(row: dict[str, Any], groups: dict[str, Any]) -> dict[str, Any] | None:
    """A bare number: its unit is the word after it; a lone 19xx/20xx is a year."""
    word = groups.get("unit") or ""
    if word in STOP_WORDS:
        row["stated"] = row["stated"][: -len(word)].rstrip()
        word = ""
    if groups.get("word") and not word:
        return None  # "two" with no noun after it is prose, not a figure
    if re.fullmatch(r"(?:199|20[0-3])\d", groups.get("num") or ""):
        row["stated"] = groups["num"]
        row["unit"] = "year"  # "2015 levels", "In 2012": a year, not a count of 2,015
        return row
    row["unit"] = word or None
    return row


def _value(groups: dict[str, Any]) -> float:
    if groups.get("word"):
        word = groups["word"].lower()
        return float(WORDS.get(word) or int(word))
    number = float(groups["num"].replace(",", ""))
    return number * SCALE.get(groups.get("scale") or "", 1.0)


def _date(month: str, day: str, year: str) -> date | None:
    try:
        return datetime(int(year), MONTHS[month[:3].lower()], int(day)).date()
    except ValueError:
        return None
