"""The claims ledger's rules at their boundaries (issue 17): each relation with a value on
the stated figure and on each side of it, every row of the verdict combination, and checks
whose window or tie sits exactly on a bound. Pure rules take CheckResults and figures built
here; the rest run on a small warehouse loaded for the test (test_boundaries_helpers).
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import duckdb
import pytest
from test_boundaries_helpers import CPD, crime, load_census, load_crimes

from sanctuarywatch.errors import ConfigError
from sanctuarywatch.load import warehouse
from sanctuarywatch.load.archive import Archive
from sanctuarywatch.query import checks, claims
from sanctuarywatch.query.claims import DATA, PUBLICATION, RESTATEMENT, CheckResult
from sanctuarywatch.query.helpers import Figure

# --- compare: one value against the stated figure ----------------------------------------


def _verdict(value: float | None, stated: float, relation: str, **extra: Any) -> str:
    return claims.compare(value, {"stated": stated, "relation": relation, **extra})[0]


@pytest.mark.parametrize(
    ("relation", "below", "equal", "above"),
    [
        ("more_than", "contradicted", "contradicted", "supported"),
        ("at_least", "contradicted", "supported", "supported"),
        ("less_than", "supported", "contradicted", "contradicted"),
        ("at_most", "supported", "supported", "contradicted"),
    ],
)
@pytest.mark.parametrize("stated", [433, 0, -2.5, 59.4])
def test_each_relation_below_on_and_above_the_stated_figure(
    relation: str, below: str, equal: str, above: str, stated: float
) -> None:
    step = 0.01
    assert _verdict(stated - step, stated, relation) == below
    assert _verdict(stated, stated, relation) == equal
    assert _verdict(stated + step, stated, relation) == above


@pytest.mark.parametrize(
    ("value", "stated", "tolerance", "verdict"),
    [
        (100, 100, None, "supported"),
        (102, 100, None, "supported"),  # the default tolerance is 2%: on it
        (98, 100, None, "supported"),
        (102.01, 100, None, "contradicted"),  # just outside
        (97.99, 100, None, "contradicted"),
        (101.99, 100, None, "supported"),  # just inside
        (105, 100, 5, "supported"),
        (105.01, 100, 5, "contradicted"),
        (94.99, 100, 5, "contradicted"),
        (-15, -10, 50, "supported"),  # the tolerance is a share of the size of the figure
        (-5, -10, 50, "supported"),
        (-15.01, -10, 50, "contradicted"),
        (-4.99, -10, 50, "contradicted"),
        (3081, 3081, 0, "supported"),  # 0%: exactly the figure
        (3081.01, 3081, 0, "contradicted"),
        (3080.99, 3081, 0, "contradicted"),
        (0, 0, 2, "supported"),
        (0.01, 0, 2, "contradicted"),
    ],
)
def test_about_on_inside_and_outside_its_tolerance(
    value: float, stated: float, tolerance: float | None, verdict: str
) -> None:
    extra = {} if tolerance is None else {"tolerance_pct": tolerance}
    assert _verdict(value, stated, "about", **extra) == verdict


def test_about_is_the_default_relation() -> None:
    assert claims.compare(102, {"stated": 100}) == (
        "supported",
        "102 vs stated about (±2%) 100",
    )
    assert claims.compare(102.01, {"stated": 100})[0] == "contradicted"


@pytest.mark.parametrize(
    ("value", "check", "reason"),
    [
        (447, {"stated": 433, "relation": "more_than"}, "447 vs stated more than 433"),
        (447, {"stated": 447, "relation": "at_least"}, "447 vs stated at least 447"),
        (3.66, {"stated": 3, "relation": "less_than"}, "3.66 vs stated less than 3"),
        (3.5, {"stated": 480000, "relation": "at_most"}, "3.5 vs stated at most 480,000"),
        (
            1234567.891,
            {"stated": 59.4, "relation": "at_most"},
            "1,234,567.89 vs stated at most 59.4",
        ),
        (
            479000,
            {"stated": 480000, "relation": "about", "tolerance_pct": 1},
            "479,000 vs stated about (±1%) 480,000",
        ),
        (
            -2.0,
            {"stated": 3, "relation": "about", "tolerance_pct": 0},
            "-2 vs stated about (±0%) 3",
        ),
    ],
)
def test_the_reason_shows_the_value_and_what_was_stated(
    value: float, check: dict[str, Any], reason: str
) -> None:
    assert claims.compare(value, check)[1] == reason


def test_no_value_is_unverifiable() -> None:
    assert claims.compare(None, {"stated": 3, "relation": "more_than"}) == (
        "unverifiable",
        "no value",
    )


# --- combine: a claim's verdict from its checks ------------------------------------------


def _r(verdict: str, reason: str, basis: str = DATA) -> CheckResult:
    return CheckResult(verdict, reason, [], basis)


S, C, M, U = "supported", "contradicted", "mixed", "unverifiable"


@pytest.mark.parametrize(
    ("checks", "verdict"),
    [
        ([], U),
        ([(S, DATA)], S),
        ([(C, DATA)], C),
        ([(M, DATA)], M),
        ([(U, DATA)], U),
        ([(S, DATA), (S, DATA)], S),
        ([(S, DATA), (C, DATA)], M),  # data disagree: mixed, never supported
        ([(C, DATA), (S, DATA)], M),
        ([(S, DATA), (M, DATA)], M),
        ([(S, DATA), (U, DATA)], S),  # a check that cannot decide is set aside
        ([(U, DATA), (C, DATA)], C),
        ([(S, DATA), (C, PUBLICATION)], S),  # data over publications
        ([(C, DATA), (S, PUBLICATION)], C),
        ([(U, DATA), (S, PUBLICATION)], S),  # no data decided: publications do
        ([(U, DATA), (C, PUBLICATION)], C),
        ([(S, PUBLICATION), (C, PUBLICATION)], M),
        ([(S, PUBLICATION), (S, PUBLICATION)], S),
        ([(U, PUBLICATION)], U),
        ([(U, PUBLICATION), (S, PUBLICATION)], S),  # an unverifiable publication is set aside
        ([(S, RESTATEMENT)], U),  # a restatement never decides
        ([(C, RESTATEMENT)], U),
        ([(S, RESTATEMENT), (C, PUBLICATION)], C),
        ([(C, RESTATEMENT), (S, DATA)], S),
        ([(S, RESTATEMENT), (U, DATA), (U, PUBLICATION)], U),
        ([(S, RESTATEMENT), (S, PUBLICATION), (C, DATA)], C),
    ],
)
def test_every_row_of_the_combination(checks: list[tuple[str, str]], verdict: str) -> None:
    results = [_r(v, f"check {n}", basis) for n, (v, basis) in enumerate(checks, 1)]
    assert claims.combine(results)[0] == verdict


def test_one_deciding_check_gives_its_own_reason() -> None:
    assert claims.combine([_r(S, "447 murders")]) == (S, "447 murders")


def test_disagreeing_data_are_named_with_their_verdicts() -> None:
    verdict, reason = claims.combine([_r(S, "by counts"), _r(C, "by rates")])
    assert (verdict, reason) == (M, "supported: by counts; contradicted: by rates")


def test_the_checks_that_did_not_decide_follow_the_reason() -> None:
    results = [
        _r(S, "data"),
        _r(C, "the paper", PUBLICATION),
        _r(U, "no shootings data"),
        _r(S, "the claimant again", RESTATEMENT),
    ]
    assert claims.combine(results) == (
        S,
        "data; other checks: contradicted (publication): the paper; unverifiable: no "
        "shootings data; restated by the claimant's own source, which is not support: "
        "the claimant again",
    )


def test_nothing_decided_gives_every_reason_untagged() -> None:
    results = [_r(U, "no data"), _r(S, "own words", RESTATEMENT), _r(U, "no data")]
    assert claims.combine(results) == (
        U,
        "no data; restated by the claimant's own source, which is not support: own words",
    )


def test_every_restatement_is_named_wherever_it_stands() -> None:
    results = [_r(S, "own words", RESTATEMENT), _r(U, "no data"), _r(C, "again", RESTATEMENT)]
    assert claims.combine(results) == (
        U,
        "no data; restated by the claimant's own source, which is not support: own words; again",
    )


def test_a_reason_said_twice_is_said_once() -> None:
    assert claims.combine([_r(S, "same"), _r(S, "same")]) == (S, "same")
    verdict, reason = claims.combine([_r(S, "x"), _r(S, "x", PUBLICATION), _r(S, "x", PUBLICATION)])
    assert (verdict, reason) == (S, "x; other checks: supported (publication): x")


# --- partial figures, publications and restatements ---------------------------------------


def _claim(
    said_by: str = "Jeff Sessions", checks: list[dict[str, Any]] | None = None
) -> claims.Claim:
    return claims.Claim(
        id="t",
        quote="q",
        said_by=said_by,
        said_on=date(2017, 8, 16),
        article="a",
        stated="s",
        comparison="c",
        checks=checks or [],
    )


@pytest.mark.parametrize(
    ("said_by", "body", "restated"),
    [
        ("Jeff Sessions", "Jeff Sessions", True),
        ("Jeff Sessions (DOJ statement)", "Jeff Sessions", True),  # the part before "("
        ("Jeff Sessions (DOJ statement)", "the DOJ statement", True),  # and inside it
        ("Jeff Sessions", "Chicago Police Department", False),
        ("TIME citing DNAinfo", "DNAinfo", True),
        ("TIME citing DNAinfo", "TIME", True),
        ("Washington Times via AP", "AP", True),
        ("Daily Caller", "Caller Times", False),  # the whole name, not a word of it
        ("DOJ", "DOJOX", False),  # whole words only
        ("MCCA / Chicago Tribune", "Chicago Tribune", True),
        ("MCCA, DOJ", "doj", True),  # case does not matter
    ],
)
def test_restates(said_by: str, body: str, restated: bool) -> None:
    assert claims.restates(_claim(said_by), body) is restated


def _published(body: str) -> Figure:
    return Figure("p", 1, {"figure_id": "p", "reporting_body": body})


def test_basis_data_over_publication_over_restatement(con: duckdb.DuckDBPyConnection) -> None:
    ctx = claims.Context(con, _claim("Jeff Sessions / DOJ"), None, None)
    assert checks.basis_of(ctx, [Figure("count", 1, {"jurisdiction": CPD})]) == DATA
    assert checks.basis_of(ctx, [_published("FDLE")]) == PUBLICATION
    assert checks.basis_of(ctx, [_published("DOJ")]) == RESTATEMENT
    assert checks.basis_of(ctx, [_published("FDLE"), _published("DOJ")]) == RESTATEMENT
    assert checks.basis_of(ctx, [_published("DOJ"), Figure("count", 1, {})]) == DATA


# --- year-to-date checks moved to another day ---------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "ytd", "moment", "moved"),
    [
        (date(2020, 8, 16), True, datetime(2017, 1, 1), datetime(2020, 1, 1)),
        (date(2020, 8, 16), True, datetime(2017, 8, 17), datetime(2020, 8, 17)),
        (date(2020, 8, 16), True, datetime(2017, 1, 1, 17), datetime(2020, 1, 2, 17)),  # 1096 d
        (date(2016, 8, 16), True, datetime(2017, 8, 16), datetime(2016, 8, 16)),
        (date(2016, 8, 16), True, datetime(2017, 1, 1), datetime(2016, 1, 1)),
        (date(2018, 1, 5), True, datetime(2017, 8, 17), datetime(2018, 1, 6)),
        (date(2018, 1, 5), True, datetime(2017, 1, 1), datetime(2018, 1, 1)),
        (date(2020, 8, 16), False, datetime(2017, 8, 17), datetime(2017, 8, 17)),
        (None, True, datetime(2017, 8, 17), datetime(2017, 8, 17)),
    ],
)
def test_a_ytd_check_moves_by_the_offset_and_jan_1_to_jan_1(
    con: duckdb.DuckDBPyConnection,
    as_of: date | None,
    ytd: bool,
    moment: datetime,
    moved: datetime,
) -> None:
    ctx = claims.Context(con, _claim(), as_of, None)
    assert ctx.shift(moment, {"ytd": ytd}) == moved
    assert ctx.day("2017-06-30 17:00") == datetime(2017, 6, 30, 17)
    assert ctx.day(date(2017, 6, 30)) == datetime.combine(date(2017, 6, 30), time())


# --- checks evaluated on a small warehouse ------------------------------------------------


@pytest.fixture(scope="module")
def murders(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    """Two murders on Aug 16 2017 (one at its last second), one at the first instant of
    Aug 17; 2016 with 2 murders, 2015 with 1, and Chicago's 2016 population by vintage."""
    con = warehouse.connect(":memory:")
    archive = Archive(tmp_path_factory.mktemp("raw"))
    moments = [
        datetime(2015, 6, 1),
        datetime(2016, 3, 1),
        datetime(2016, 12, 31),
        datetime(2017, 8, 16, 9),
        datetime(2017, 8, 16, 23, 59, 59),
        datetime(2017, 8, 17),
    ]
    load_crimes(con, archive, [crime(n, m) for n, m in enumerate(moments, 1)])
    load_census(con, archive, {2016: 1_000_000, 2017: 1_020_000, 2018: 1_020_001})
    return con


def _count_check(**check: Any) -> dict[str, Any]:
    return {"kind": "count", "jurisdiction": CPD, "offense": "murder", **check}


@pytest.mark.parametrize(
    ("bounds", "relation", "stated", "verdict", "value"),
    [
        ({"through": "2017-08-16"}, "more_than", 2, "contradicted", 2),  # equal: not more
        ({"through": "2017-08-16"}, "at_least", 2, "supported", 2),
        ({"through": "2017-08-16"}, "less_than", 2, "contradicted", 2),
        ({"through": "2017-08-16"}, "at_most", 2, "supported", 2),
        ({"through": "2017-08-16"}, "more_than", 1, "supported", 2),
        ({"end": "2017-08-16"}, "more_than", 0, "unverifiable", None),  # end: exclusive
        ({"end": "2017-08-16 23:59:59"}, "at_least", 1, "supported", 1),
        ({"end": "2017-08-17 00:00:01"}, "at_least", 3, "supported", 3),
    ],
)
def test_a_count_claim_on_its_bounds(
    murders: duckdb.DuckDBPyConnection,
    bounds: dict[str, str],
    relation: str,
    stated: float,
    verdict: str,
    value: int | None,
) -> None:
    check = _count_check(start="2017-08-01", stated=stated, relation=relation, **bounds)
    ev = claims.evaluate(murders, _claim(checks=[check]))
    assert ev.verdict == verdict, ev.reason
    assert ev.checks[0].figures[0].value == value


def test_a_ytd_count_claim_moved_to_another_year(murders: duckdb.DuckDBPyConnection) -> None:
    check = _count_check(start="2017-01-01", through="2017-08-16", ytd=True, stated=2)
    ev = claims.evaluate(
        murders, _claim(checks=[check | {"relation": "at_least"}]), as_of=date(2016, 12, 31)
    )
    figure = ev.checks[0].figures[0]
    assert (figure.inputs["start"], figure.inputs["end"]) == (
        datetime(2016, 1, 1),
        datetime(2017, 1, 1),
    )
    assert figure.value == 2 and ev.verdict == "supported"


@pytest.mark.parametrize(
    ("year", "since", "verdict"),
    [
        (2016, 2015, "supported"),  # 2 in 2016, more than 1 in 2015
        (2017, 2016, "unverifiable"),  # the data stop in August: the year decides nothing
        (2015, 2015, "supported"),  # nothing to compare with
    ],
)
def test_year_is_max(
    murders: duckdb.DuckDBPyConnection, year: int, since: int, verdict: str
) -> None:
    check = {
        "kind": "year_is_max",
        "jurisdiction": CPD,
        "offense": "murder",
        "year": year,
        "since": since,
    }
    ev = claims.evaluate(murders, _claim(checks=[check]))
    assert ev.verdict == verdict, ev.reason


def test_a_tie_is_not_the_highest(tmp_path: Path) -> None:
    con = warehouse.connect(":memory:")
    moments = [
        datetime(2016, 3, 1),
        datetime(2016, 12, 20),
        datetime(2017, 1, 5),
        datetime(2017, 12, 31),
    ]
    load_crimes(con, Archive(tmp_path), [crime(n, m) for n, m in enumerate(moments, 1)])
    check = {
        "kind": "year_is_max",
        "jurisdiction": CPD,
        "offense": "murder",
        "year": 2017,
        "since": 2016,
    }
    ev = claims.evaluate(con, _claim(checks=[check]))
    assert (ev.verdict, ev.reason) == (
        "contradicted",
        "2 in 2017 but 2 in 2016 (years compared: 2016-2017)",
    )


@pytest.mark.parametrize(
    ("b_vintage", "tolerance", "verdict", "gap"),
    [
        (2017, 2, "supported", "2.0"),  # 1,020,000 vs 1,000,000: 2.0% apart, on the tolerance
        (2018, 2, "contradicted", "2.0"),  # 1,020,001: just over
        (2017, 1.99, "contradicted", "2.0"),
        (2016, 0, "supported", "0.0"),
    ],
)
def test_population_parity_on_its_tolerance(
    murders: duckdb.DuckDBPyConnection, b_vintage: int, tolerance: float, verdict: str, gap: str
) -> None:
    side = {"jurisdiction": "place:1714000", "year": 2016}
    check = {
        "kind": "population_parity",
        "a": side | {"vintage": b_vintage},
        "b": side | {"vintage": 2016},
        "tolerance_pct": tolerance,
    }
    ev = claims.evaluate(murders, _claim(checks=[check]))
    assert ev.verdict == verdict
    assert ev.reason.endswith(f"1,000,000 ({gap}% apart)")


def test_a_partial_count_decides_nothing_and_a_publication_cannot_outvote_data(
    murders: duckdb.DuckDBPyConnection,
) -> None:
    """The count runs a day past the coverage (to 2019-01-02): partial, so it is set aside."""
    partial = _count_check(start="2017-08-01", end="2019-01-02", stated=1, relation="more_than")
    ev = claims.evaluate(murders, _claim(checks=[partial]))
    assert ev.verdict == "unverifiable"
    figure = ev.checks[0].figures[0]
    gaps = [c.detail for c in figure.caveats if c.kind == "incomplete"]  # never collected; stalled
    assert figure.value == 3 and len(gaps) == 2
    assert ev.reason == f"{figure.label}: 3 is partial, so it decides nothing ({'; '.join(gaps)})"
    whole = partial | {"end": "2019-01-01"}
    assert claims.evaluate(murders, _claim(checks=[whole])).checks[0].verdict == "unverifiable"
    covered = partial | {"end": "2017-08-30"}
    assert claims.evaluate(murders, _claim(checks=[covered])).verdict == "supported"


@pytest.mark.parametrize(
    ("relation", "stated", "verdict"),
    [
        ("more_than", 2, "contradicted"),  # 2 / 1 = 2.0: equal is not more
        ("at_least", 2, "supported"),
        ("more_than", 1.99, "supported"),
        ("less_than", 2, "contradicted"),
        ("about", 2, "supported"),
    ],
)
def test_a_ratio_on_the_stated_figure(
    murders: duckdb.DuckDBPyConnection, relation: str, stated: float, verdict: str
) -> None:
    check = {
        "kind": "ratio",
        "a": _count_check(start="2016-01-01", end="2017-01-01"),
        "b": _count_check(start="2015-01-01", end="2016-01-01"),
        "stated": stated,
        "relation": relation,
    }
    ev = claims.evaluate(murders, _claim(checks=[check]))
    assert ev.verdict == verdict, ev.reason
    assert [f.value for f in ev.checks[0].figures] == [2, 1, 2.0]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"tolerance_pct": -0.01}, "check: tolerance_pct: expected a number >= 0, found -0.01"),
        ({"tolerance_pct": "inf"}, "check: tolerance_pct: expected a number >= 0, found inf"),
        ({"tolerance_pct": "nan"}, "check: tolerance_pct: expected a number >= 0, found nan"),
        (
            {"relation": "more"},
            "check: relation: expected one of more_than, at_least, less_than, at_most, about, "
            "found 'more'",
        ),
    ],
)
def test_a_check_that_cannot_be_compared_is_a_config_error(
    extra: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        claims.compare(3, {"stated": 3, **extra})
    assert str(caught.value) == message


def test_a_tolerance_of_zero_is_allowed_even_without_a_value() -> None:
    assert claims.compare(None, {"stated": 3, "tolerance_pct": 0}) == ("unverifiable", "no value")
