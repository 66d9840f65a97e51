"""FBI UCR Return A: monthly offenses known and cleared per police agency (Kaplan's files).

Publisher: FBI Uniform Crime Reporting Program (Return A master file), compiled per agency by
Jacob Kaplan (the data behind crimedatatool.com; openICPSR 100707 "Offenses Known and
Clearances by Arrest").
URL: https://raw.githubusercontent.com/jacobkap/crimedatatool_helper/{ref}/data/offenses_monthly/{file}.csv
     where {file} is <State>_<Agency_name> (Florida_Miami-dade_County_Police_Department) and
     {ref} a branch (master) or commit. One CSV per agency, every month since 1960.
Cadence: yearly (Kaplan rebuilds the compilation when the FBI releases a year); the whole
     file is read each run, so a rebuilt year becomes new versions.

Agencies (jobs/ucr.yaml): Miami-Dade PD FL0130000, Miami PD FL0130600, Chicago PD ILCPD0000,
Baltimore PD MDBPD0000, New Orleans PD LANPD0000. Vintage: Kaplan's 1960-2023 build, files at
commits 05e5a7b07ab3 (MDPD, Baltimore) and 155973023a21 (Miami, Chicago, New Orleans).

Notes (dated, from ../shared/data/ucr_monthly/README.md, 2026-12):
- `year` is the first day of the reporting month; `ORI` has 7 characters (FL01300): the job
  names the 9-character ORI (FL0130000) and a file whose ORI is not its first 7 is refused.
- Some months are served twice as byte-identical lines (2018 in the Chicago, Baltimore and
  New Orleans files): they are deduplicated on (ORI, month); two different lines for one
  month are a layout error, never a silent choice.
- A zero is not always a zero: MDPD sends annual totals only (Jan-Nov 0 or blank card status,
  December holds the year), Miami PD half-years in 2014-2016 (June and December). Counts are
  stored as served, with the card status; warehouse/044 detects each agency-year's reporting
  pattern and the helpers never sum months that were not reported as months.
- Negative counts are the agency's adjustments and stay as published; a blank count is NULL.
- Options: extra["agencies"] = {ORI: file} or {ORI: {file:, ref:}}; extra["ref"] (default
  master); base_url replaces https://raw.githubusercontent.com (the demo's loopback server).
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import date, datetime
from typing import Any

from sanctuarywatch.errors import ConfigError, LayoutError, RecordError
from sanctuarywatch.http import Fetched, HttpClient
from sanctuarywatch.sources import Options, Page, PageIterator, State

SLUG = "us_ucr_agency_monthly"
PUBLISHER = "FBI Uniform Crime Reporting Program (Return A), per-agency files by Jacob Kaplan"
HOST = "https://raw.githubusercontent.com"
URL = f"{HOST}/jacobkap/crimedatatool_helper/{{ref}}/data/offenses_monthly/{{file}}.csv"
FORMAT = "CSV, one file per agency"
CADENCE = "yearly (a rebuilt compilation); whole file each run"
TABLES = {SLUG: ("ori", "month", "offense")}
REQUESTS_PER_SECOND = 4.0  # a CDN; five files a run
DEFAULT_REF = "master"
# project offense <- Kaplan's column stem (actual_<stem>, tot_clr_<stem>, clr_18_, unfound_)
OFFENSES = {
    "murder": "murder",  # murder and non-negligent manslaughter
    "manslaughter": "manslaughter",  # manslaughter by negligence
    "rape": "rape_total",
    "robbery": "robbery_total",
    "aggravated_assault": "assault_aggravated",
    "simple_assault": "assault_simple",
    "burglary": "burg_total",
    "theft": "theft_total",
    "motor_vehicle_theft": "mtr_veh_theft_total",
    "violent_crime": "index_violent",
    "property_crime": "index_property",
    "index_crime": "index_total",
    "all_crimes": "all_crimes",
}
COUNTS = {
    "actual": "actual",
    "cleared": "tot_clr",
    "cleared_under_18": "clr_18",
    "unfounded": "unfound",
}
CARDS = ("card_actual_type", "card_actual_pt", "card_tot_clr_type")
COLUMNS = tuple(f"{prefix}_{stem}" for prefix in COUNTS.values() for stem in OFFENSES.values())
REQUIRED = ("agency", "year", "state", "population", "ORI", *CARDS, *COLUMNS)
log = logging.getLogger(__name__)


def fetch(client: HttpClient, options: Options, state: State) -> PageIterator:
    """One request per configured agency: its whole file."""
    for ori, (file, ref) in agencies(options).items():
        root = (options.base_url or HOST).rstrip("/")
        url = URL.replace(HOST, root).format(ref=ref, file=file)
        fetched = client.get(SLUG, url)
        kind = f"monthly:{ori}"
        yield Page(kind, fetched, parse(fetched, kind))


def agencies(options: Options) -> dict[str, tuple[str, str]]:
    """ORI -> (file, ref) from extra["agencies"]; a job must name them (no agency is built in)."""
    configured = options.extra.get("agencies")
    if not isinstance(configured, dict) or not configured:
        raise ConfigError(SLUG, "extra.agencies: expected a mapping of 9-character ORI to file")
    ref = str(options.extra.get("ref", DEFAULT_REF))
    found = {}
    for ori, entry in configured.items():
        spec = entry if isinstance(entry, dict) else {"file": entry}
        if len(str(ori)) != 9 or not spec.get("file"):
            raise ConfigError(SLUG, f"extra.agencies.{ori}: expected a 9-character ORI and a file")
        found[str(ori)] = (str(spec["file"]), str(spec.get("ref", ref)))
    return found


def parse(fetched: Fetched, kind: str) -> list[dict[str, str]]:
    """The file's rows as dicts, byte-identical repeats of a month dropped; the ORI checked."""
    try:
        text = fetched.body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LayoutError(SLUG, fetched.url, "a UTF-8 CSV file", str(exc)) from None
    try:
        return _unique_months(fetched, csv.DictReader(io.StringIO(text)), kind)
    except csv.Error as exc:  # e.g. a bare CR inside a field (found by fuzzing)
        raise LayoutError(SLUG, fetched.url, "a CSV file", f"unreadable CSV ({exc})") from None


def _unique_months(
    fetched: Fetched, reader: csv.DictReader[str], kind: str
) -> list[dict[str, str]]:
    missing = [name for name in REQUIRED if name not in (reader.fieldnames or [])]
    if missing:
        raise LayoutError(
            SLUG, fetched.url, "Kaplan's offenses_monthly columns", f"no {missing[:5]}"
        )
    expected = kind.partition(":")[2][:7]
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for number, row in enumerate(reader, 2):
        if None in row or None in row.values():
            raise LayoutError(
                SLUG, fetched.url, f"{len(reader.fieldnames or [])} fields", f"line {number}"
            )
        if expected and row["ORI"] != expected:
            raise LayoutError(SLUG, fetched.url, f"rows of ORI {expected}", f"ORI {row['ORI']!r}")
        key = (row["ORI"], row["year"])
        if key in rows and rows[key] != row:
            raise LayoutError(SLUG, fetched.url, "one line per month", f"two different {key}")
        rows[key] = row
    duplicates = reader.line_num - 1 - len(rows)
    if duplicates:
        log.info("%s: %d byte-identical repeated lines dropped", fetched.url, duplicates)
    return list(rows.values())


def normalize(rows: list[dict[str, str]], kind: str) -> dict[str, list[dict[str, Any]]]:
    ori = kind.partition(":")[2]
    return {SLUG: [rec for row in rows for rec in records(row, ori)]}


def records(row: dict[str, str], ori: str) -> list[dict[str, Any]]:
    """One record per offense of a month row, with the month's card status and population."""
    key = f"{row.get('ORI')}/{row.get('year')}"
    try:
        base = {
            "ori": ori or f"{row['ORI']}00",
            "month": date.fromisoformat(row["year"]),
            "agency_name": row["agency"],
            "state": row["state"],
            "population": _count(row["population"]),
            **{card: row[card].strip() or None for card in CARDS},
        }
        return [
            base
            | {"offense": offense}
            | {name: _count(row[f"{prefix}_{stem}"]) for name, prefix in COUNTS.items()}
            for offense, stem in OFFENSES.items()
        ]
    except (KeyError, ValueError) as exc:
        raise RecordError(SLUG, "offenses_monthly", key, repr(exc)) from None


def _count(value: str) -> int | None:
    """Whole numbers as served (negative adjustments too); blank is NULL, never zero."""
    text = value.strip()
    if not text or text.upper() == "NA":
        return None
    number = float(text)
    if number != int(number):
        raise ValueError(f"not a whole number: {value!r}")
    return int(number)


def advance(
    state: State, page: Page, records: dict[str, list[dict[str, Any]]], options: Options
) -> State:
    """Watermark and complete-through: the newest month in the files read so far."""
    months = [r["month"] for r in records.get(SLUG, [])]
    newest = max(
        [*months, *([date.fromisoformat(state.watermark)] if state.watermark else [])], default=None
    )
    if newest is None:
        return state
    end = date(newest.year + newest.month // 12, newest.month % 12 + 1, 1)
    return State(
        watermark=newest.isoformat(), complete_through=datetime.combine(end, datetime.min.time())
    )
