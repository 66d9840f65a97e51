"""Tagging DOJ texts: what they are about, which jurisdictions they name, which numbers they state.

Why here and pure: tags are derived from the cleaned text only, so `normalize` can produce them
without a database, `rebuild` reproduces them from the raw archive, and the claims ledger can
quote the exact sentence (or list item) behind every tag, mention and number.

- Relevance tags: one row per document and topic with the reason (pattern, words matched, the
  first sentence) and how often it matched.
- Jurisdictions: matched against the jurisdiction registry (`sanctuarywatch.registry`, one id
  per jurisdiction for the tagger, the helpers and the claims: `place:1714000` is Chicago).
  Aliases are case-sensitive proper names, longest first. No match beats a wrong one, so the
  words around a name can veto it:
  - a state name right after "<Place>, " is a qualifier ("Cook County, Illinois"), not a mention
    of the state, unless it continues a list ("Illinois, Oregon, and Vermont");
  - a qualifier naming another state makes it another place ("East Chicago, Ind.", "Lansing,
    Ill.", "Oregon, Ohio", "Clark County, Ohio");
  - a word before or after can make it another place ("North Miami", "West Chicago", "Miami
    Beach", "Baltimore County", "Oregon City", "Northern District of Illinois");
  - a bare "New York" is the city only when the text says so ("New York, N.Y.", "the city of
    New York", next to a registry city as in "Chicago, New York and Philadelphia", or in a list
    with one, as in the 2017 DOJ lists); otherwise it may be the state, a federal district or a
    county (issue 19: at least 22 of 40 were not the city), so it names nothing.
- Numbers: see `doj_numbers`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from sanctuarywatch.registry import Jurisdiction, doj_jurisdictions
from sanctuarywatch.sources.platforms.justice_gov.numbers import stated_numbers
from sanctuarywatch.sources.platforms.justice_gov.text import lines_with_leads

STATES: dict[str, str] = dict(
    re.findall(
        r"([A-Z][\w ]*?) ([A-Z]{2})(?:;|$)",
        "Alabama AL;Alaska AK;Arizona AZ;Arkansas AR;California CA;Colorado CO;Connecticut CT;"
        "Delaware DE;District of Columbia DC;Florida FL;Georgia GA;Hawaii HI;Idaho ID;"
        "Illinois IL;Indiana IN;Iowa IA;Kansas KS;Kentucky KY;Louisiana LA;Maine ME;"
        "Maryland MD;Massachusetts MA;Michigan MI;Minnesota MN;Mississippi MS;Missouri MO;"
        "Montana MT;Nebraska NE;Nevada NV;New Hampshire NH;New Jersey NJ;New Mexico NM;"
        "New York NY;North Carolina NC;North Dakota ND;Ohio OH;Oklahoma OK;Oregon OR;"
        "Pennsylvania PA;Rhode Island RI;South Carolina SC;South Dakota SD;Tennessee TN;"
        "Texas TX;Utah UT;Vermont VT;Virginia VA;Washington WA;West Virginia WV;Wisconsin WI;"
        "Wyoming WY",
    )
)
# AP-style abbreviations ("East Chicago, Ind.") and USPS codes: always a qualifier after ", "
STATE_ABBREVIATIONS: dict[str, str] = {
    **dict(
        re.findall(
            r"(\S+)=([A-Z]{2})",
            "Ala.=AL Ariz.=AZ Ark.=AR Calif.=CA Colo.=CO Conn.=CT Del.=DE D.C.=DC Fla.=FL "
            "Ga.=GA Ill.=IL Ind.=IN Kan.=KS Ky.=KY La.=LA Md.=MD Mass.=MA Mich.=MI Minn.=MN "
            "Miss.=MS Mo.=MO Mont.=MT Neb.=NE Nev.=NV N.H.=NH N.J.=NJ N.M.=NM N.Y.=NY N.C.=NC "
            "N.D.=ND Okla.=OK Ore.=OR Pa.=PA R.I.=RI S.C.=SC S.D.=SD Tenn.=TN Tex.=TX Vt.=VT "
            "Va.=VA Wash.=WA W.Va.=WV Wis.=WI Wyo.=WY",
        )
    ),
    **{code: code for code in STATES.values()},
}
STATE_NAMES = frozenset(STATES)
TOPICS: tuple[tuple[str, str, str], ...] = (
    ("sanctuary", "sanctuary jurisdictions", r"\bsanctuary\b"),
    (
        "section_1373",
        "8 U.S.C. 1373",
        r"8\s*U\.?\s?S\.?\s?C\.?\s*(?:§+\s*)?1373|\b[Ss]ection\s*(?:§\s*)?1373",
    ),
    ("detainer", "immigration detainers", r"\bdetainers?\b"),
    (
        "byrne_jag",
        "Byrne JAG grants and their conditions",
        r"\bByrne\b[\w\s]{0,40}?(?:Justice Assistance Grant|JAG)|\bJAG\b",
    ),
    (
        "public_safety_partnership",
        "the Public Safety Partnership",
        r"Public Safety Partnership|\bPSP\b",
    ),
)


def _any_of(names: Iterable[str]) -> str:
    """A regex alternation of literal names, longest first."""
    return "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))


_TOPIC_RES = tuple((tag, label, re.compile(rx, re.I)) for tag, label, rx in TOPICS)


@dataclass(frozen=True)
class _Names:
    """The registry's names as patterns, built on first use (the registry is read then)."""

    by_alias: dict[str, Jurisdiction]
    alias: re.Pattern[str]
    place_before: re.Pattern[str]
    city_before: re.Pattern[str]
    city_after: re.Pattern[str]
    city_item: re.Pattern[str]


def _is_city(j: Jurisdiction) -> bool:
    return j.kind == "place" or (j.doj_name or "").startswith("City and County")


@cache
def _names() -> _Names:
    """Every alias the tagger matches, longest first, and the cities among them (a bare "New
    York" is never one of the cities that make a neighbour the city)."""
    by_alias = {alias: j for j in doj_jurisdictions() for alias in j.doj_aliases}
    ordered = sorted(by_alias, key=len, reverse=True)
    cities = _any_of(a for a in ordered if a != "New York" and _is_city(by_alias[a]))
    return _Names(
        by_alias,
        re.compile("|".join(rf"(?<![\w-]){re.escape(alias)}(?![\w-])" for alias in ordered)),
        re.compile(rf"(?<![\w-])(?P<place>{_any_of([*by_alias, *STATES])}),\s$"),
        re.compile(
            rf"(?:\b[Cc]it(?:y|ies) (?:of|like|such as|including)"
            rf"|(?<![\w-])(?:{cities}),?(?: and| or)?)\s$"
        ),
        re.compile(rf"^,?(?: and| or)?\s(?:{cities})(?![\w-])"),
        re.compile(rf"(?:{cities})(?:,\s.*)?"),
    )


_QUALIFIER_BEFORE = re.compile(r"[A-Z][\w.'-]*,\s$")
_PAIR_END = re.compile(r"^(?:$|\s*[;/).:!?\"\u201d]|\s[-\u2013\u2014]|,\s*[a-z])")
_PAIR_END_STRICT = re.compile(  # ", and" closes a list, not "Oregon, Ohio"
    r"^(?:$|\s*[;/).:!?\"\u201d]|\s[-\u2013\u2014]|,\s*(?!(?:and|or)\b)[a-z])"
)
_STATE_AFTER = re.compile(rf",\s(?P<state>{_any_of([*STATES, *STATE_ABBREVIATIONS])})(?![\w-])")
_OTHER_PLACE_BEFORE = re.compile(
    r"(?:\b(?:North|South|East|West|Northern|Southern|Eastern|Western|Central|Greater)"
    r"|\bDistricts? of)\s$"
)
_OTHER_PLACE_AFTER = re.compile(
    r"^\s(?:County|Parish|Township|Beach|Gardens|Lakes|Springs|Shores|Heights|Hills)\b"
)
_ABBREVIATIONS = frozenset(
    re.findall(
        r"\S+",
        "U.S Mr Mrs Ms Dr No St Jr Sr Gen Lt Sgt Inc Corp Co Jan Feb Mar Apr Jun Jul Aug "
        "Sep Sept Oct Nov Dec Va Fla Ill Calif Mass Wash D.C v vs a.m p.m e.g i.e U.S.C Ga "
        "Ala Ariz Md Pa N.Y N.J Tenn Tex Wis Mich Minn Colo Conn Ky La Mo Nev Okla Ore",
    )
)
_SENTENCE_END = re.compile(r"[.!?][”\"’)]*\s+(?=[“\"‘(]?[A-Z0-9$])")  # noqa: RUF001


def sentences(line: str) -> list[str]:
    """A paragraph split into sentences, not at abbreviations ("Oct. 27", "U.S. Attorney")."""
    out, start = [], 0
    for match in _SENTENCE_END.finditer(line):
        words = line[start : match.start()].split()
        last = words[-1] if words else ""
        if last in _ABBREVIATIONS or re.fullmatch(r"(?:[A-Z]\.)*[A-Z]", last):
            continue
        out.append(line[start : match.end()].strip())
        start = match.end()
    tail = line[start:].strip()
    return [*out, tail] if tail else out


def contexts(text: str) -> list[dict[str, Any]]:
    """Every sentence and list item of a text, with the line introducing each list item."""
    out: list[dict[str, Any]] = []
    for line, is_item, lead in lines_with_leads(text):
        parts = [line] if is_item else sentences(line)
        kind = "list_item" if is_item else "sentence"
        out.extend({"context": part, "context_kind": kind, "list_lead": lead} for part in parts)
    return out


def topic_tags(doc_id: str, title: str, text: str) -> list[dict[str, Any]]:
    """One row per relevance topic found in the title or text, with the reason."""
    pieces = [title, *(c["context"] for c in contexts(text))]
    rows = []
    for tag, label, pattern in _TOPIC_RES:
        hits = [(piece, m.group(0)) for piece in pieces for m in pattern.finditer(piece)]
        if hits:
            first, words = hits[0]
            rows.append(
                {
                    "doc_id": doc_id,
                    "tag": tag,
                    "matches": len(hits),
                    "reason": f"mentions {label} ({words!r}, {len(hits)} time(s))",
                    "first_context": first,
                }
            )
    return rows


def jurisdiction_mentions(doc_id: str, text: str) -> list[dict[str, Any]]:
    """Each jurisdiction named, in order, with the sentence or list item naming it."""
    rows: list[dict[str, Any]] = []
    found_contexts = contexts(text)
    lists = _list_items(found_contexts)
    for context in found_contexts:
        sentence = context["context"]
        is_item = context["context_kind"] == "list_item"
        siblings = lists[context["list_lead"]] if is_item else []
        for match in _names().alias.finditer(sentence):
            found = _resolve(sentence, match, siblings)
            if found is None:
                continue
            rows.append(
                {
                    "doc_id": doc_id,
                    "ordinal": len(rows) + 1,
                    "jurisdiction_id": found.jurisdiction_id,
                    "matched": match.group(0),
                    **context,
                }
            )
    return rows


def _list_items(found_contexts: list[dict[str, Any]]) -> dict[str | None, list[str]]:
    """The items of each list by its lead: a bare "New York" among cities is the city."""
    lists: dict[str | None, list[str]] = {}
    for context in found_contexts:
        if context["context_kind"] == "list_item":
            lists.setdefault(context["list_lead"], []).append(context["context"])
    return lists


def _resolve(sentence: str, match: re.Match[str], siblings: list[str]) -> Jurisdiction | None:
    """The jurisdiction a name stands for here, or None when the words around it make it
    another place ("East Chicago", "Miami Beach", "District of Oregon", "Lansing, Ill.",
    "Oregon, Ohio", "New York County") or leave it open (a bare "New York")."""
    name, found = match.group(0), _names().by_alias[match.group(0)]
    before, after = sentence[: match.start()], sentence[match.end() :]
    if _is_qualifier(name, before, after) or _OTHER_PLACE_BEFORE.search(before):
        return None
    if _OTHER_PLACE_AFTER.match(after) or (found.kind == "state" and after.startswith(" City")):
        return None
    state = _state_after(after)
    if state not in (None, found.state):
        return None
    if name == "New York" and not (state or _city_context(before, after, siblings)):
        return None
    return found


def _is_qualifier(name: str, before: str, after: str) -> bool:
    """ "Cook County, Illinois": the state after a place's comma qualifies it. After another
    state or a place in another state, ", and" ends a list instead ("Illinois, Oregon, and")."""
    if name not in STATE_NAMES or not _QUALIFIER_BEFORE.search(before):
        return False
    place = _names().place_before.search(before)
    lenient = place is None or _state_of(place.group("place")) == STATES[name]
    return bool((_PAIR_END if lenient else _PAIR_END_STRICT).match(after))


def _state_of(place: str) -> str:
    return STATES.get(place) or _names().by_alias[place].state or ""


def _state_after(after: str) -> str | None:
    """The state qualifying a place ("Miami, Fla.", "Oregon, Ohio"), if one follows it."""
    match = _STATE_AFTER.match(after)
    if match is None:
        return None
    name = match.group("state")
    if name in STATE_ABBREVIATIONS:
        return STATE_ABBREVIATIONS[name]
    return STATES[name] if _PAIR_END_STRICT.match(after[match.end() :]) else None


def _city_context(before: str, after: str, siblings: list[str]) -> bool:
    """ "the city of New York", "Chicago, New York and Philadelphia", a list of cities."""
    return bool(
        _names().city_before.search(before)
        or _names().city_after.match(after)
        or any(_names().city_item.fullmatch(item) for item in siblings)
    )


def number_rows(doc_id: str, text: str) -> list[dict[str, Any]]:
    """Every number stated, with unit and sentence, numbered in reading order."""
    rows: list[dict[str, Any]] = []
    for context in contexts(text):
        for number in stated_numbers(context["context"]):
            rows.append({"doc_id": doc_id, "ordinal": len(rows) + 1, **number, **context})
    return rows


def tag_all(doc_id: str, title: str, text: str) -> dict[str, list[dict[str, Any]]]:
    """Tags, jurisdiction mentions and stated numbers of one document."""
    return {
        "tags": topic_tags(doc_id, title, text),
        "mentions": jurisdiction_mentions(doc_id, text),
        "numbers": number_rows(doc_id, text),
    }
