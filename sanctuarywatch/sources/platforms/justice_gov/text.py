"""Justice Department HTML to clean text, keeping what the claims ledger needs.

Why not `get_text()`: the lists of jurisdictions in DOJ releases live in `<ul><li>` items, and a
scraper that keeps only paragraph text silently loses them (the stored text of the Oct 12,
2017 release lost all three lists). So every list item becomes its own line starting "- ".

Dated quirks (records of 2009-2014 as served by the news API in 2020):
- Teasers carry Windows-1252 numeric entities (`&#146;` for a right quote) and titles carry the
  raw C1 control characters (U+0092) that a cp1252 byte became after a wrong decode.
- Titles contain `\\r\\n` and double spaces; bodies contain `\\xa0`.
- Older bodies repeat the page header inside the body: "USDOJ: ... Updates", "Department of
  Justice", a sub-header with the office, "FOR IMMEDIATE RELEASE", the date and the title, in
  `presscontent*` wrappers. `presscontenthdr` sometimes holds the real first paragraph, so only
  the header parts (sub-header, date, title) and the known stock lines are dropped.
"""

from __future__ import annotations

import re
import warnings

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, Tag

_CP1252_ENTITY = re.compile(r"&#(1[2-5]\d);")
_C1_CHAR = re.compile("[\x80-\x9f]")
_SPACE = re.compile(r"[ \t\r\n\f\v\xa0\u2009\u200b]+")
HEADER_CLASSES = ("presscontentsubhdr", "presscontentdatecontainer", "presscontenttitle")
STOCK_HEADER_LINES = re.compile(r"^(USDOJ:.*|Department of Justice|FOR IMMEDIATE RELEASE)$")
BLOCK_TAGS = (
    "p",
    "div",
    "br",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "table",
    "ul",
    "ol",
    "blockquote",
    "section",
    "article",
)


def _cp1252(code: int) -> str:
    try:
        return bytes([code]).decode("cp1252")
    except UnicodeDecodeError:  # 0x81, 0x8d, 0x8f, 0x90, 0x9d are unassigned in cp1252
        return ""


def repair_cp1252(text: str) -> str:
    """`&#146;` and a raw U+0092 both mean the cp1252 byte 0x92: a right single quote."""
    text = _CP1252_ENTITY.sub(lambda m: _cp1252(int(m.group(1))), text)
    return _C1_CHAR.sub(lambda m: _cp1252(ord(m.group(0))), text)


def collapse(text: str) -> str:
    """Whitespace runs (including `\\r\\n` and no-break spaces) to one space, trimmed."""
    return _SPACE.sub(" ", text).strip()


def clean_title(title: str | None) -> str | None:
    return collapse(repair_cp1252(title)) if title is not None else None


def html_to_text(html: str | None) -> str:
    """Body HTML as lines of text: one per paragraph or block, "- " before each list item."""
    if not html:
        return ""
    with warnings.catch_warnings():  # a one-line teaser can look like a file name to bs4
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(repair_cp1252(html), "lxml")
    for node in soup.find_all(["script", "style", "noscript"]):
        node.decompose()
    _drop_repeated_header(soup)
    for item in soup.find_all("li"):
        item.insert_before("\n- ")
        item.insert_after("\n")
    for block in soup.find_all(BLOCK_TAGS):
        block.insert_before("\n")
        block.insert_after("\n")
    lines = (collapse(line) for line in soup.get_text().split("\n"))
    kept = [line for line in lines if line and line != "-"]
    return "\n".join(_drop_stock_lines(kept))


def _drop_repeated_header(soup: BeautifulSoup) -> None:
    for name in HEADER_CLASSES:
        for node in soup.find_all(class_=name):
            if isinstance(node, Tag):
                node.decompose()


def _drop_stock_lines(lines: list[str]) -> list[str]:
    """Stock header lines only at the top: the same words later in a body are content."""
    start = 0
    while start < len(lines) and STOCK_HEADER_LINES.match(lines[start]):
        start += 1
    return lines[start:]


def lines_with_leads(text: str) -> list[tuple[str, bool, str | None]]:
    """(line, is_list_item, lead) for each line; a list item's lead is the line introducing it.

    The lead says which list an item is in: the Oct 12, 2017 release names jurisdictions in
    three lists whose meaning ("may violate", "no evidence", "previously cleared") is only in
    the sentence before each list.
    """
    out: list[tuple[str, bool, str | None]] = []
    lead: str | None = None
    for line in text.split("\n"):
        if line.startswith("- "):
            out.append((line[2:], True, lead))
        else:
            out.append((line, False, None))
            lead = line
    return out
