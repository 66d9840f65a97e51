"""Query helpers: counts, year-to-date, rates, ratios and clearance, each with its inputs,
caveats and evidence.

The arithmetic lives in SQL macros (`warehouse/views/`) so the duckdb CLI and
Python give the same answer; the helpers pick which macro can answer (incident-level data
first, then monthly data, else nothing), state what they assumed, and collect the evidence:
the SQL they ran and the raw responses (URL, fetch time) behind every number.

Every helper takes `known_on`: answer with the data as it was observed on that date.

This module is the one place to import them from; each lives with its concern:

    query.figures    Figure, Caveat, KnownOn, the observation cut (`as_of`), evidence
    query.counts     count, yearly_counts, ytd, arrest_share
    query.rates      population, population_for, rate, ratio, compare
    query.published  published (a figure that exists only in a publication)
"""

from __future__ import annotations

from sanctuarywatch.query.counts import (
    EARLY_YEAR_DAYS,
    FBI_MURDER,
    PERIOD_WORDS,
    arrest_share,
    count,
    percent_change,
    yearly_counts,
    ytd,
)
from sanctuarywatch.query.figures import (
    INFINITY,
    Caveat,
    Figure,
    KnownOn,
    as_of,
    evidence,
    same_day_last_year,
)
from sanctuarywatch.query.published import published
from sanctuarywatch.query.rates import compare, population, population_for, rate, ratio

__all__ = [
    "EARLY_YEAR_DAYS",
    "FBI_MURDER",
    "INFINITY",
    "PERIOD_WORDS",
    "Caveat",
    "Figure",
    "KnownOn",
    "arrest_share",
    "as_of",
    "compare",
    "count",
    "evidence",
    "percent_change",
    "population",
    "population_for",
    "published",
    "rate",
    "ratio",
    "same_day_last_year",
    "yearly_counts",
    "ytd",
]
