"""The demo: build the warehouse from the bundled recorded archive, through the live collectors.

The archive in `sanctuarywatch/data/demo_archive/` was recorded by `scripts/build_demo_archive.py`
against the loopback server (`scripts/loopback.py`) serving the real rows in ../shared/data;
its README says where every figure came from. Replaying it goes through the same HTTP client,
paging, parsers and loader as `sanctuarywatch collect`, with the network swapped for the archive.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from importlib import resources
from pathlib import Path

import duckdb

from sanctuarywatch.collect.run import RunResult
from sanctuarywatch.http import HttpClient
from sanctuarywatch.load.archive import Archive, ArchiveTransport
from sanctuarywatch.query import helpers
from sanctuarywatch.scheduling.runner import collect_and_reevaluate
from sanctuarywatch.sources import Options

RECORDING_HOST = "http://127.0.0.1:8765"
# What each recorded path stands for upstream, so the warehouse and the report cite the
# publisher, never the loopback server the archive was recorded on. The 2017 city estimates
# came from an American FactFinder export (AFF was retired in 2020; the table id is its URL).
CITED_AS = {
    f"{RECORDING_HOST}/resource/": "https://data.cityofchicago.org/resource/",
    f"{RECORDING_HOST}/programs-surveys/": "https://www2.census.gov/programs-surveys/",
    f"{RECORDING_HOST}/aff/PEP_2017_PEPANNRSIP.US12A.csv": (
        "https://factfinder.census.gov/bkmk/table/1.0/en/PEP/2017/PEPANNRSIP.US12A"
    ),
    f"{RECORDING_HOST}/api/": "https://www.justice.gov/api/",
    f"{RECORDING_HOST}/news/": "https://www.justice.gov/news/",
    f"{RECORDING_HOST}/opa/": "https://www.justice.gov/opa/",
    f"{RECORDING_HOST}/LATEST/": "https://cde.ucr.cjis.gov/LATEST/",
    f"{RECORDING_HOST}/jacobkap/": "https://raw.githubusercontent.com/jacobkap/",
}

# Kaplan's per-agency files at the commits the shared extracts were copied from
UCR_FILES = {
    "FL0130000": (
        "Florida_Miami-dade_County_Police_Department",
        "05e5a7b07ab38bac3747f27dddf391e630ecb4bd",
    ),
    "FL0130600": ("Florida_Miami_Police_Department", "155973023a218230cbe1429b9abf87e59948dd80"),
    "ILCPD0000": ("Illinois_Chicago_Police_Department", "155973023a218230cbe1429b9abf87e59948dd80"),
    "MDBPD0000": (
        "Maryland_Baltimore_Police_Department",
        "05e5a7b07ab38bac3747f27dddf391e630ecb4bd",
    ),
    "LANPD0000": (
        "Louisiana_New_Orleans_Police_Department",
        "155973023a218230cbe1429b9abf87e59948dd80",
    ),
}


@dataclass(frozen=True)
class Step:
    """One recorded collection: which source, with which options."""

    slug: str
    options: Options


PLAN = (
    Step(
        "il_chicago_crimes",
        Options(
            mode="backfill",
            start=date(2001, 1, 1),
            end=date(2018, 1, 1),
            page_size=2000,
            base_url=f"{RECORDING_HOST}/resource/ijzp-q8t2.json",
        ),
    ),
    Step(
        "us_fbi_cde_agencies",
        Options(
            mode="backfill",
            base_url=f"{RECORDING_HOST}/LATEST",
            extra={"host": "site", "states": ["IL"]},
        ),
    ),
    Step(
        "us_fbi_cde_agency_monthly",
        Options(
            mode="backfill",
            start=date(2024, 1, 1),
            end=date(2025, 1, 1),
            base_url=f"{RECORDING_HOST}/LATEST",
            extra={"host": "site", "agencies": ["ILCPD0000"], "offenses": ["V"]},
        ),
    ),
    Step(
        "us_ucr_agency_monthly",
        Options(
            mode="backfill",
            base_url=RECORDING_HOST,
            extra={
                "agencies": {
                    ori: {"file": file, "ref": ref} for ori, (file, ref) in UCR_FILES.items()
                }
            },
        ),
    ),
    Step(
        "us_census_population",
        Options(
            mode="backfill",
            base_url=RECORDING_HOST,
            extra={
                "files": [
                    {
                        "url": "/programs-surveys/popest/datasets/2010-2019/counties/totals/"
                        "co-est2019-alldata.csv",
                        "vintage": 2019,
                    },
                    {"url": "/aff/PEP_2017_PEPANNRSIP.US12A.csv", "vintage": 2017},
                ]
            },
        ),
    ),
    Step("published_figures", Options(mode="backfill")),
    Step(
        "us_doj_press_releases",
        Options(
            mode="backfill",
            start=date(2009, 1, 1),
            page_size=20,
            base_url=f"{RECORDING_HOST}/api/v1/press_releases.json",
        ),
    ),
    Step(
        "us_doj_speeches",
        Options(
            mode="backfill", start=date(2017, 1, 1), base_url=f"{RECORDING_HOST}/news/speeches"
        ),
    ),
)


def bundled_archives() -> list[Archive]:
    """One recorded archive per source: demo_archive/<slug>/."""
    root = Path(str(resources.files("sanctuarywatch") / "data" / "demo_archive"))
    return [Archive(folder) for folder in sorted(root.iterdir()) if folder.is_dir()]


def run(con: duckdb.DuckDBPyConnection, archive: Archive) -> list[RunResult]:
    """Replay every step of the plan into `con`, archiving responses in `archive`."""
    replay = ArchiveTransport(*bundled_archives(), cited_as=CITED_AS)
    results = []
    with HttpClient(transport=replay) as client:
        for step in PLAN:
            options = step.options
            if step.slug == "published_figures":  # read from disk: stamp it as recorded
                extra = {**options.extra, "observed_at": recorded_at(step.slug)}
                options = replace(options, extra=extra)
            result = collect_and_reevaluate(con, archive, client, step.slug, options, job="demo")
            results.append(result)
    return results


def recorded_at(slug: str) -> datetime:
    """When the bundled archive's capture of a source was made."""
    root = Path(str(resources.files("sanctuarywatch") / "data" / "demo_archive"))
    return min(entry.fetched_at for entry in Archive(root / slug).entries())


def comparisons(con: duckdb.DuckDBPyConnection) -> list[tuple[str, object, object]]:
    """The comparisons the warehouse can make so far: (label, this year, last year)."""
    result = helpers.ytd(con, "agency:ILCPD0000", "murder", date(2017, 8, 16))
    label = "Chicago murder victims (IUCR 0110), Jan 1 - Aug 16, 2017 vs 2016"
    return [(label, result["this_year"].value, result["last_year"].value)]


def doj_summary(con: duckdb.DuckDBPyConnection) -> list[tuple[date, str, str, str]]:
    """Sanctuary-tagged DOJ releases and speeches, newest first, with the jurisdictions each
    names (in order of first mention), from the view the SQL user queries too."""
    rows = con.execute(
        "SELECT release_date, kind, title, string_agg(jurisdiction, ', ' ORDER BY first) "
        "FROM (SELECT release_date, kind, title, doc_id, jurisdiction, min(ordinal) AS first "
        "      FROM us_doj_sanctuary_mentions GROUP BY ALL) "
        "GROUP BY release_date, kind, title, doc_id ORDER BY release_date DESC, title"
    ).fetchall()
    return [(row[0], row[1], row[2], row[3]) for row in rows]
