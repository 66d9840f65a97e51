"""Numbers stated in a sentence: "$481,347", "433 people", "17 percent", "more than three
times", "over nine million", "Oct. 27, 2017", each with its value, unit and hedge ("more than",
"nearly").

Why: the claims ledger checks what officials said against the data, and what they said is a
number with a unit and a hedge in a sentence. Patterns are tried in order (malformed figures,
dates, money, percent, multiples, identifiers, counts); a span taken by an earlier pattern is
not read again, so the "27" and "2017" of "Oct. 27, 2017" are not also counts.

- Scale words multiply the value and stay in the stated text: "over nine million" is 9,000,000.
- A count's unit is a noun after it, never an adjective: in "53 separate charges" it is
  "charges"; "four angry" has none. A plural noun up to three words on wins, else the first word
  that is not an adjective. Dollars and money nouns ("a 250,000 fine") make the unit USD.
- A malformed figure ("$250,00") is no number: neither 250 nor 0.

Skipped on purpose: statute sections ("8 U.S.C. 1373", "Section 1373"), form, rule and case
numbers ("Form 1099", "a 1099", "Rule 11", "No. 4471"), release numbers ("17-436"), and
digits inside names ("MS-13", "COVID-19", "1031TG").
"""

from __future__ import annotations

import re
from datetime import date, datetime
from itertools import takewhile
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
        "and or to of in on at the a an by for from as than that was were is are with be been "
        "have has had will would can could may might should it its their his her our your they "
        "he she we you them who which whom whose this these those there",
    )
)
SCALE = {"hundred": 1e2, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
IRREGULAR_PLURALS = frozenset({"people", "men", "women", "children", "feet", "teeth"})
NOT_PLURAL = frozenset({"has", "does", "its", "his", "this", "thus", "yes", "whereas", "news"})
ADJECTIVES = frozenset(
    re.findall(
        r"\S+",
        "angry other new old young more less few many several same such big small large high "
        "low major minor key top full true false good bad best worst only single sworn known "
        "own prior former further whole entire foreign main civil maximum minimum",
    )
)
ADJECTIVE_ENDINGS = tuple(
    re.findall(r"\S+", "ous ful ive ic able ible less al ary ent ant ate ed ing ish est ly")
)
MONEY_NOUNS = frozenset(
    re.findall(
        r"\S+",
        "dollar dollars fine penalty forfeiture restitution judgment judgement settlement "
        "bond bail grant award payment bribe ransom",
    )
)
IDENTIFIER_NOUNS = frozenset({"form"})  # "the 1099 form": a form's number, not 1,099 forms
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
_SCALE = rf"(?:\s(?P<scale>(?:{'|'.join(SCALE)})(?:\s(?:thousand|million|billion))?))?"
_EDGE = r"(?<![\w\-/.$§])"
_END = r"(?!\d|,\d|\.\d)"
_MALFORMED = rf"(?<![\w,.])\$?(?!\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?{_END})\d+(?:,\d+)+(?:\.\d+)?"
_LABEL = (
    r"\b(?:[Ff]orms?|[Tt]itle|[Cc]hapter|[Rr]ule|Article|Part|Order|Proposition|Exhibit|"
    r"Counts?|[Uu]nit|Room|Suite|Box|Route|Highway|Interstate|Flight|Nos?\.)"
)
_WORD_UNIT = r"(?-i:[a-z][a-z\-]*[a-z])"
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("skip", re.compile(_MALFORMED)),
    ("date", re.compile(rf"\b{_MONTH}\s(?P<day>\d{{1,2}}),\s(?P<year>\d{{4}})\b")),
    ("month", re.compile(rf"\b{_MONTH}\s(?P<year>\d{{4}})\b")),
    ("USD", re.compile(rf"{_HEDGE}\${_NUM}{_SCALE}", re.I)),
    ("percent", re.compile(rf"{_HEDGE}{_EDGE}{_NUM}\s?(?:percent\b|%)")),
    ("times", re.compile(rf"{_HEDGE}\b(?P<word>{'|'.join(WORDS)}|\d+)\stimes\b", re.I)),
    (
        "skip",
        re.compile(
            r"(?:\b\d+\s*)?(?:U\.?S\.?C\.?|[Ss]ection|§)\s*§?\s*\d+|\b\d{2}-\d{3,4}\b"
            rf"|{_LABEL}\s*\d+"
        ),
    ),
    (
        "count",
        re.compile(
            rf"{_HEDGE}(?:{_EDGE}{_NUM}|\b(?P<word>{'|'.join(WORDS)})\b){_SCALE}"
            rf"(?![\w\-%])(?=(?P<tail>(?:\s{_WORD_UNIT}){{0,3}}))",
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
        return _count(row, groups, match.string[: match.start()])
    return row


def _count(row: dict[str, Any], groups: dict[str, Any], before: str) -> dict[str, Any] | None:
    """A bare number: its unit is a noun after it; a lone 19xx/20xx is a year."""
    words = groups["tail"].split()
    unit, used = _unit(words)
    if groups.get("word") and not (unit or groups["scale"]):
        return None  # "two" with no noun after it is prose, not a figure
    if unit in IDENTIFIER_NOUNS or (not unit and re.search(r"\ban?\s$", before)):
        return None  # "the 1099 form", "issued a 1099": a form's number
    if re.fullmatch(r"(?:199|20[0-3])\d", groups.get("num") or "") and not groups["scale"]:
        row["unit"] = "year"  # "2015 levels", "In 2012": a year, not a count of 2,015
        return row
    row["stated"] = " ".join([row["stated"], *words[:used]])
    row["unit"] = "USD" if unit in MONEY_NOUNS else unit
    return row


def _unit(words: list[str]) -> tuple[str | None, int]:
    """The noun among the words after a number, and how many words up to it."""
    words = list(takewhile(lambda w: w.lower() not in STOP_WORDS and w not in WORDS, words))
    for i, word in enumerate(words):
        if word in IRREGULAR_PLURALS or _regular_plural(word):
            return word, i + 1
    for i, word in enumerate(words):
        if not _adjective(word):
            return word, i + 1
    return None, 0


def _regular_plural(word: str) -> bool:
    return word.endswith("s") and not word.endswith(("ss", "us", "is")) and word not in NOT_PLURAL


def _adjective(word: str) -> bool:
    """Adjectives do not inflect, so only singular words get here; endings are a rough guess."""
    return word in ADJECTIVES or (len(word) > 4 and word.endswith(ADJECTIVE_ENDINGS))


def _value(groups: dict[str, Any]) -> float:
    if groups.get("word"):
        word = groups["word"].lower()
        number = float(WORDS.get(word) or int(word))
    else:
        number = float(groups["num"].replace(",", ""))
    for word in (groups.get("scale") or "").lower().split():  # "six hundred thousand"
        number *= SCALE[word]
    return number


def _date(month: str, day: str, year: str) -> date | None:
    try:
        return datetime(int(year), MONTHS[month[:3].lower()], int(day)).date()
    except ValueError:
        return None
