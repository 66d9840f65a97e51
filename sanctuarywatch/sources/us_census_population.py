"""U.S. Census Bureau population estimates for states, counties and places, by vintage.

Publisher: U.S. Census Bureau, Population Estimates Program (PEP).
URL: https://www2.census.gov/programs-surveys/popest/datasets/2010-2019/counties/totals/co-est2019-alldata.csv
     and .../cities/totals/sub-est2019_all.csv (flat files, one per vintage)
Cadence: yearly (a new vintage each spring); each vintage revises every earlier year.

Notes (dated):
- The vintage is part of every figure: Miami-Dade County 2017 is 2,713,295 in vintage 2019;
  Chicago city 2017 is 2,716,450 in vintage 2017 (CLAIMS.md).
- Two layouts are read, told apart by their header: the flat files (SUMLEV, STATE, COUNTY,
  PLACE, CTYNAME or NAME, STNAME, CENSUS2010POP, ESTIMATESBASE2010, POPESTIMATEyyyy), and the
  American FactFinder export PEP_2017_PEPANNRSIP.US12A (Target Geo Id2, "Population Estimate
  (as of July 1) - yyyy"; its "Geography" header repeats, so columns are read by position).
  AFF was retired in 2020; the real extract in the project's data is in that layout.
- Only states (040), counties (050) and incorporated places (162) are kept; the files' county
  parts of places (157) would double-count.
- Files re-saved by other tools drop zero padding (SUMLEV "50", COUNTY "86"): padded here.
- co-est2019-alldata.csv is Latin-1 (Doña Ana County); other files are ASCII or UTF-8.
- The sub-est layout is implemented from its documented columns; no real copy was available
  (2026), so only the co-est and AFF layouts are tested on real rows.
- Options: extra["files"] = [{"url": ..., "vintage": 2019}, ...]; base_url re-roots the
  default files' paths (the demo serves them from the loopback server).
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any
from urllib.parse import urlsplit

from sanctuarywatch.errors import LayoutError, RecordError
from sanctuarywatch.http import Fetched, HttpClient
from sanctuarywatch.sources import Options, Page, PageIterator, State

SLUG = "us_census_population"
PUBLISHER = "U.S. Census Bureau, Population Estimates Program"
URL = "https://www2.census.gov/programs-surveys/popest/datasets/"
FORMAT = "CSV flat files"
CADENCE = "yearly (one vintage a year)"
TABLES = {"us_census_population": ("geo_id", "vintage", "measure", "year")}
REQUESTS_PER_SECOND = 1.0
_DATASETS = "https://www2.census.gov/programs-surveys/popest/datasets"
DEFAULT_FILES = (
    {"url": f"{_DATASETS}/2010-2019/counties/totals/co-est2019-alldata.csv", "vintage": 2019},
    {"url": f"{_DATASETS}/2010-2019/cities/totals/sub-est2019_all.csv", "vintage": 2019},
    {"url": f"{_DATASETS}/2010-2017/cities/totals/sub-est2017_all.csv", "vintage": 2017},
)
GEO_TYPES = {"040": "state", "050": "county", "162": "place"}
AFF_ESTIMATE = re.compile(r"Population Estimate \(as of July 1\) - (\d{4})$")
FLAT_ESTIMATE = re.compile(r"POPESTIMATE(\d{4})$")
FLAT_GEO = frozenset({"SUMLEV", "STATE", "COUNTY", "STNAME"})  # the geography of co- and sub-est
FIXED = {
    "CENSUS2010POP": ("census", 2010),
    "ESTIMATESBASE2010": ("estimates_base", 2010),
    "April 1, 2010 - Census": ("census", 2010),
    "April 1, 2010 - Estimates Base": ("estimates_base", 2010),
}


def fetch(client: HttpClient, options: Options, state: State) -> PageIterator:
    """One request per configured file; every file is a whole vintage."""
    for item in options.extra.get("files", DEFAULT_FILES):
        url = str(item["url"])
        if options.base_url:
            url = options.base_url.rstrip("/") + urlsplit(url).path
        kind = f"vintage:{int(item['vintage'])}"
        fetched = client.get(SLUG, url)
        yield Page(kind, fetched, parse(fetched, kind))


def parse(fetched: Fetched, kind: str) -> list[dict[str, Any]]:
    """The file's rows as dicts; repeated header names get a .N suffix, like pandas does."""
    try:
        text = fetched.body.decode("utf-8")
    except UnicodeDecodeError:
        text = fetched.body.decode("latin-1")
    try:
        lines = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:  # e.g. a bare CR inside a field (found by fuzzing)
        raise LayoutError(SLUG, fetched.url, "a CSV file", f"unreadable CSV ({exc})") from None
    if not lines:
        raise LayoutError(SLUG, fetched.url, "a CSV with a header", "an empty file")
    header = _unique(lines[0])
    if not (set(header) >= FLAT_GEO or "Target Geo Id2" in header):
        expected = f"the columns {', '.join(sorted(FLAT_GEO))}, or Target Geo Id2"
        raise LayoutError(SLUG, fetched.url, expected, str(header[:8]))
    if not any(AFF_ESTIMATE.match(h) or FLAT_ESTIMATE.match(h) for h in header):
        raise LayoutError(SLUG, fetched.url, "population estimate columns", str(header[:12]))
    return _rows(fetched.url, header, lines[1:], text)


def _rows(url: str, header: list[str], lines: list[list[str]], text: str) -> list[dict[str, Any]]:
    """Rows as dicts, once the file is known to be whole: a file cut short mid-row had too few
    fields (a ValueError escaped), and one cut inside its last value parsed into a wrong
    figure (both found by the fault matrix, 2026-11). The Census's files end with a line
    break."""
    short = next((n for n, line in enumerate(lines, 2) if line and len(line) != len(header)), 0)
    if short or not text.endswith(("\n", "\r")):
        found = f"line {short} with another number of fields" if short else "no final line break"
        raise LayoutError(
            SLUG, url, f"{len(header)} fields a row, a whole file", f"{found}: cut short?"
        )
    return [dict(zip(header, line, strict=True)) for line in lines if line]


def _unique(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in header:
        out.append(f"{name}.{seen[name]}" if name in seen else name)
        seen[name] = seen.get(name, 0) + 1
    return out


def normalize(rows: list[dict[str, Any]], kind: str) -> dict[str, list[dict[str, Any]]]:
    vintage = int(kind.removeprefix("vintage:"))
    records = []
    for row in rows:
        geo = _geo(row)
        if geo is not None:
            records += [geo | figure | {"vintage": vintage} for figure in _figures(row)]
    return {"us_census_population": records}


def _geo(row: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return _aff_geo(row) if "Target Geo Id2" in row else _flat_geo(row)
    except KeyError as exc:
        key = row.get("NAME") or row.get("CTYNAME") or row.get("Target Geo Id2")
        raise RecordError(SLUG, "geography columns", str(key), f"no column {exc}") from None


def _flat_geo(row: dict[str, Any]) -> dict[str, Any] | None:
    """Geography of a flat-file row (co-est or sub-est), or None for levels not kept."""
    level = row["SUMLEV"].zfill(3)
    if level not in GEO_TYPES:
        return None
    # COUNTY and PLACE are read, never defaulted: a file with the column renamed gave every
    # county the code 000 (found by the fault matrix, 2026-11). co-est has no PLACE column.
    state, county = row["STATE"].zfill(2), row["COUNTY"].zfill(3)
    place = row["PLACE"].zfill(5) if level == "162" else "00000"
    local = row.get("NAME") or row.get("CTYNAME") or ""
    code = {"040": state, "050": state + county, "162": state + place}[level]
    name = row["STNAME"] if level == "040" else f"{local}, {row['STNAME']}"
    return {
        "geo_id": f"{level[:2]}00000US{code}",
        "geo_type": GEO_TYPES[level],
        "name": name,
        "state_fips": state,
        "county_fips": county if level == "050" else None,
        "place_fips": place if level == "162" else None,
    }


def _aff_geo(row: dict[str, Any]) -> dict[str, Any] | None:
    """Geography of an American FactFinder row: places by Target Geo Id (1620000US...)."""
    target, code = row["Target Geo Id"], row["Target Geo Id2"]
    if not target.startswith("162") or len(code) != 7:
        return None
    names = [value for key, value in row.items() if key.startswith("Geography")]
    return {
        "geo_id": f"1600000US{code}",
        "geo_type": "place",
        "name": names[-1],
        "state_fips": code[:2],
        "county_fips": None,
        "place_fips": code[2:],
    }


def _figures(row: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for column, value in row.items():
        match = AFF_ESTIMATE.match(column) or FLAT_ESTIMATE.match(column)
        measure, year = ("estimate", int(match.group(1))) if match else FIXED.get(column, (None, 0))
        if measure:
            out.append({"measure": measure, "year": year, "population": _population(value, column)})
    return out


def _population(value: str, column: str) -> int | None:
    """A count, or None for the Census's notes in place of numbers ("(X)", "A")."""
    cleaned = value.replace(",", "").strip()
    if cleaned.isdigit():
        return int(cleaned)
    if cleaned in ("", "(X)", "A", "X", "N"):
        return None
    raise RecordError(SLUG, column, value, "not a population count")


def advance(
    state: State, page: Page, records: dict[str, list[dict[str, Any]]], options: Options
) -> State:
    """Watermark: the newest vintage loaded."""
    vintages = [r["vintage"] for r in records.get("us_census_population", [])]
    newest = max([*vintages, int(state.watermark or 0)])
    return State(watermark=str(newest) if newest else None, complete_through=state.complete_through)
