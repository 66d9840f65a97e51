"""Tagging DOJ texts: what they are about, which jurisdictions they name, which numbers they state.

Why here and pure: tags are derived from the cleaned text only, so `normalize` can produce them
without a database, `rebuild` reproduces them from the raw archive, and the claims ledger can
quote the exact sentence (or list item) behind every tag, mention and number.

- Relevance tags: one row per document and topic with the reason (pattern, words matched, the
  first sentence) and how often it matched.
- Jurisdictions: matched against JURISDICTIONS (the same rows as the SQL table
  `us_doj_jurisdictions`; a test keeps the two equal). Aliases are case-sensitive proper names,
  longest first. A state name right after "<Place>, " is a qualifier ("Cook County, Illinois"),
  not a mention of the state. Bare "New York" is the city, as in the 2017 DOJ lists.
- Numbers: money, percentages, "N times", dates, and counts with the word after them as unit.
  Statute sections (8 U.S.C. 1373), release numbers (17-436) and names like MS-13 are skipped.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from .doj_numbers import stated_numbers
from .doj_text import lines_with_leads


class Jurisdiction(NamedTuple):
    jurisdiction_id: str
    name: str
    kind: str  # state | county | city
    state: str
    aliases: tuple[str, ...]


def _j(jid: str, name: str, kind: str, state: str, *aliases: str) -> Jurisdiction:
    return Jurisdiction(jid, name, kind, state, (name, *aliases))


JURISDICTIONS: tuple[Jurisdiction, ...] = (
    _j("ca", "State of California", "state", "CA", "state of California", "California"),
    _j("ct", "State of Connecticut", "state", "CT", "state of Connecticut", "Connecticut"),
    _j("fl", "State of Florida", "state", "FL", "Florida"),
    _j("il", "State of Illinois", "state", "IL", "state of Illinois", "Illinois"),
    _j("nv", "State of Nevada", "state", "NV", "Nevada"),
    _j("ny", "State of New York", "state", "NY", "New York State", "state of New York"),
    _j("or", "State of Oregon", "state", "OR", "state of Oregon", "Oregon"),
    _j("vt", "State of Vermont", "state", "VT", "state of Vermont", "Vermont"),
    _j("wi", "State of Wisconsin", "state", "WI", "Wisconsin"),
    _j("il-cook-county", "Cook County", "county", "IL"),
    _j("fl-miami-dade-county", "Miami-Dade County", "county", "FL", "Miami-Dade"),
    _j("nv-clark-county", "Clark County", "county", "NV"),
    _j("wi-milwaukee-county", "Milwaukee County", "county", "WI"),
    _j("nm-bernalillo-county", "Bernalillo County", "county", "NM"),
    _j("ny-westchester-county", "Westchester County", "county", "NY"),
    _j("ca-san-francisco", "City and County of San Francisco", "county", "CA", "San Francisco"),
    _j("co-denver", "City and County of Denver", "county", "CO", "Denver"),
    _j("il-chicago", "Chicago", "city", "IL", "City of Chicago"),
    _j("la-new-orleans", "New Orleans", "city", "LA", "City of New Orleans"),
    _j("ny-new-york-city", "New York City", "city", "NY", "City of New York", "New York"),
    _j("pa-philadelphia", "Philadelphia", "city", "PA", "City of Philadelphia"),
    _j("md-baltimore", "Baltimore", "city", "MD"),
    _j("nm-albuquerque", "Albuquerque", "city", "NM"),
    _j("ca-stockton", "Stockton", "city", "CA"),
    _j("ca-san-bernardino", "San Bernardino", "city", "CA"),
    _j("ca-los-angeles", "Los Angeles", "city", "CA", "City of Los Angeles"),
    _j("fl-miami", "Miami", "city", "FL", "City of Miami"),
    _j("mi-lansing", "Lansing", "city", "MI"),
    _j("wa-seattle", "Seattle", "city", "WA"),
)

STATE_NAMES = frozenset(
    {
        "California",
        "Connecticut",
        "Florida",
        "Illinois",
        "Nevada",
        "New York",
        "Oregon",
        "Vermont",
        "Wisconsin",
        "Louisiana",
        "Pennsylvania",
        "Maryland",
        "New Mexico",
        "Michigan",
        "Washington",
        "Colorado",
        "Texas",
        "Virginia",
        "Ohio",
        "Kentucky",
    }
)
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
_TOPIC_RES = tuple((tag, label, re.compile(rx, re.I)) for tag, label, rx in TOPICS)
_ALIASES = sorted(
    ((alias, j) for j in JURISDICTIONS for alias in j.aliases), key=lambda a: -len(a[0])
)
_ALIAS_RE = re.compile("|".join(rf"(?<![\w-]){re.escape(alias)}(?![\w-])" for alias, _ in _ALIASES))
_BY_ALIAS = {alias: j for alias, j in _ALIASES}
_QUALIFIER_BEFORE = re.compile(r"[A-Z][\w.'-]*,\s$")
_QUALIFIER_AFTER = re.compile(r"^(?:$|\s*[;/).:]|,\s*[a-z])")
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
    for context in contexts(text):
        sentence = context["context"]
        for match in _ALIAS_RE.finditer(sentence):
            if _is_qualifier(sentence, match):
                continue
            found = _BY_ALIAS[match.group(0)]
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


def _is_qualifier(sentence: str, match: re.Match[str]) -> bool:
    """ "Cook County, Illinois": the state after a place's comma qualifies it."""
    if match.group(0) not in STATE_NAMES:
        return False
    before, after = sentence[: match.start()], sentence[match.end() :]
    return bool(_QUALIFIER_BEFORE.search(before)) and bool(_QUALIFIER_AFTER.match(after))


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
