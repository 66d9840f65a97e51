"""Loopback route for Jacob Kaplan's per-agency UCR files (real data only).

Same route contract as scripts/loopback.py. What is served, and from where:

    /jacobkap/crimedatatool_helper/{commit}/data/offenses_monthly/{file}.csv
        the real 2014-2018 extracts in ../shared/data/ucr_monthly, each under the commit it
        was copied from (ucr_monthly/README.md); lines as served, 2018 repeats included
    anything else under /jacobkap/crimedatatool_helper/: 404 (no recording; nothing is made up)
"""

from __future__ import annotations

import re
from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
UCR = SHARED_DATA / "ucr_monthly"
MDPD_COMMIT = "05e5a7b07ab38bac3747f27dddf391e630ecb4bd"
OTHER_COMMIT = "155973023a218230cbe1429b9abf87e59948dd80"
# (commit, upstream file name) -> the extract in ../shared/data/ucr_monthly
FILES = {
    (
        MDPD_COMMIT,
        "Florida_Miami-dade_County_Police_Department",
    ): "FL01300_miami_dade_pd_2014_2018.csv",
    (OTHER_COMMIT, "Florida_Miami_Police_Department"): "FL01306_miami_pd_2014_2018.csv",
    (OTHER_COMMIT, "Illinois_Chicago_Police_Department"): "ILCPD00_chicago_pd_2014_2018.csv",
    (MDPD_COMMIT, "Maryland_Baltimore_Police_Department"): "MDBPD00_baltimore_pd_2014_2018.csv",
    (
        OTHER_COMMIT,
        "Louisiana_New_Orleans_Police_Department",
    ): "LANPD00_new_orleans_pd_2014_2018.csv",
}
_PATH = re.compile(
    r"/jacobkap/crimedatatool_helper/(?P<ref>[^/]+)/data/offenses_monthly/(?P<file>[^/]+)\.csv"
)

Answer = tuple[int, str, bytes]


def ucr_route(path: str, params: dict[str, str]) -> Answer | None:
    if not path.startswith("/jacobkap/crimedatatool_helper/"):
        return None
    match = _PATH.fullmatch(path)
    extract = FILES.get((match["ref"], match["file"])) if match else None
    if extract is None:
        return (404, "text/plain", f"404: Not Found (no recording for {path})".encode())
    return (200, "text/plain; charset=utf-8", (UCR / extract).read_bytes())
