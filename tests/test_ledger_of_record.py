"""The ledger of record as new data arrives (issue 15): the sequences users run.

Later years are rows of this test's own making beside the real 2016-2017 portal rows: the
loopback portal serves them, most with an `:updated_at` older than the watermark a 2016-2017
backfill leaves, as on the real portal (a 2019 row last edited in 2020).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sanctuarywatch import cli
from sanctuarywatch.collect.run import collect
from sanctuarywatch.http import HttpClient
from sanctuarywatch.load import coverage, warehouse
from sanctuarywatch.load.archive import Archive
from sanctuarywatch.present import demo
from sanctuarywatch.query import claims, helpers
from sanctuarywatch.query.claims import DATA, PUBLICATION, RESTATEMENT, CheckResult, Claim
from sanctuarywatch.scheduling.runner import collect_and_reevaluate
from sanctuarywatch.sources import Options

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from loopback import SodaDataset, serve, socrata_route, soda_rows

CPD = "agency:ILCPD0000"
SOURCE = "il_chicago_crimes"
# Murder victims per later year; 2021 beats 2016's 786, as the real 2021 did.
LATER = {2018: 56, 2019: 49, 2020: 77, 2021: 804, 2022: 31, 2023: 40}


def later_rows(years: dict[int, int], until: date | None = None) -> list[dict[str, Any]]:
    """Murder rows spread over each year; each last edited a month after the event, so all
    but the newest are older than the watermark the real 2016-2017 rows leave (2023-05-27)."""
    template = next(row for row in soda_rows() if row["year"] == "2017")
    rows, next_id = [], 900_000
    for year, n in years.items():
        last = date(year, 12, 31) if until is None or until.year != year else until
        span = (last - date(year, 1, 1)).days
        for i in range(n):
            when = datetime(year, 1, 1, 12) + timedelta(days=span * i / max(n - 1, 1))
            edited = when + timedelta(days=30)
            next_id += 1
            rows.append(
                template
                | {
                    "id": str(next_id),
                    "case_number": f"ZZ{next_id}",
                    "date": f"{when:%Y-%m-%dT%H:%M:%S}.000",
                    "year": str(year),
                    "updated_on": f"{edited:%Y-%m-%dT%H:%M:%S}.000",
                    ":id": f"row-{next_id:08d}",
                    ":updated_at": f"{edited:%Y-%m-%dT%H:%M:%S}.000Z",
                }
            )
    return rows


def portal_rows(years: dict[int, int], until: date | None = None) -> list[dict[str, Any]]:
    real = [row for row in soda_rows() if row["year"] in ("2016", "2017")]
    return real + later_rows(years, until)


@pytest.fixture
def portal() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    rows = portal_rows(LATER, until=date(2023, 8, 31))
    with serve(socrata_route({"ijzp-q8t2": SodaDataset(rows)})) as url:
        yield f"{url}/resource/ijzp-q8t2.json", rows


def load(con: duckdb.DuckDBPyConnection, archive: Archive, url: str, **options: Any) -> None:
    """A collect as the job runner does it: the claims it touched re-evaluated after it."""
    with HttpClient() as client:
        options = Options(base_url=url, page_size=500, **options)
        collect_and_reevaluate(con, archive, client, SOURCE, options)


def murders(rows: list[dict[str, Any]], start: datetime, end: datetime) -> int:
    """The true count, from the rows the portal serves."""
    return sum(
        1
        for row in rows
        if row["iucr"] == "0110" and start <= datetime.fromisoformat(row["date"]) < end
    )


def murder_claim(said_on: date, **check: Any) -> Claim:
    """A claim of someone's with one count check of Chicago murders."""
    spec = {"kind": "count", "jurisdiction": CPD, "offense": "murder", **check}
    return Claim("mine", "q", "someone", said_on, "a", "s", "c", [spec])


def year_window(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1), datetime(year + 1, 1, 1)


def incomplete(figure: helpers.Figure) -> list[str]:
    return [c.detail for c in figure.caveats if c.kind == "incomplete"]


def test_a_bounded_backfill_then_incremental_loses_no_year(
    portal: tuple[str, list[dict[str, Any]]], archive: Archive
) -> None:
    url, rows = portal
    watermark = max(r[":updated_at"] for r in rows if r["year"] in ("2016", "2017"))
    stale = [r for r in rows if int(r["year"]) >= 2018 and r[":updated_at"] < watermark]
    assert len(stale) > 900  # most later rows are older than the watermark, as on the portal
    con = warehouse.connect(":memory:")
    load(con, archive, url, mode="backfill", start=date(2016, 1, 1), end=date(2018, 1, 1))
    load(con, archive, url)  # incremental, as the README suggests next
    for year in range(2016, 2023):
        figure = helpers.count(con, CPD, "murder", *year_window(year))
        assert (year, figure.value) == (year, murders(rows, *year_window(year)))
        assert incomplete(figure) == []
    ytd = helpers.ytd(con, CPD, "murder", date(2023, 8, 16))["this_year"]
    assert ytd.value == murders(rows, datetime(2023, 1, 1), datetime(2023, 8, 17))
    assert incomplete(ytd) == []
    spans = coverage.covered(con, SOURCE)
    assert len(spans) == 1 and spans[0].start == datetime(2016, 1, 1)
    assert spans[0].end > datetime.now() - timedelta(days=8)  # the portal's 7-day lag


def test_a_second_incremental_asks_only_for_changes(
    portal: tuple[str, list[dict[str, Any]]], archive: Archive
) -> None:
    url, rows = portal
    con = warehouse.connect(":memory:")
    load(con, archive, url, mode="backfill", start=date(2016, 1, 1), end=date(2018, 1, 1))
    load(con, archive, url)
    load(con, archive, url)
    newest = datetime.fromisoformat(max(r[":updated_at"] for r in rows).rstrip("Z"))
    repull = [r for r in rows if r[":updated_at"] >= f"{newest - timedelta(days=7):%Y-%m-%dT%H}"]
    seen = con.execute(
        "SELECT rows_seen, rows_written FROM runs WHERE source = ? ORDER BY started_at", [SOURCE]
    ).fetchall()
    assert seen[1][1] == sum(LATER.values())  # the first incremental brought every later row
    assert seen[2] == (len(repull), 0)  # only the re-pull window is asked again


def test_a_window_outside_what_was_collected_is_a_named_gap(
    portal: tuple[str, list[dict[str, Any]]],
    archive: Archive,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, _ = portal
    db = tmp_path / "w.duckdb"
    con = warehouse.connect(db)
    load(con, archive, url, mode="backfill", start=date(2016, 1, 1), end=date(2018, 1, 1))
    figure = helpers.count(con, CPD, "murder", datetime(2017, 6, 1), datetime(2018, 6, 1))
    assert figure.value is not None and figure.value > 0
    assert any("2018-01-01 to 2018-06-01" in d for d in incomplete(figure))
    claim = murder_claim(
        date(2018, 6, 1), start="2017-06-01", end="2018-06-01", stated=10_000, relation="more_than"
    )
    ev = claims.evaluate(con, claim)
    assert ev.verdict == "unverifiable"  # a partial count contradicts nothing
    assert "partial" in ev.reason and "2018-01-01 to 2018-06-01" in ev.reason
    con.close()
    assert cli.main(["--db", str(db), "sources"]) == 0
    out = capsys.readouterr().out
    assert "2016-01-01 to 2018-01-01" in out  # covered
    assert "2001-01-01 to 2016-01-01" in out  # the gap before it


def test_a_stalled_source_is_incomplete(archive: Archive) -> None:
    """The portal stops at 2018-02-01 but each fetch says it is current: the data's own
    newest event, four weeks before the cut-off, makes the count incomplete."""
    rows = portal_rows({2018: 40}, until=date(2018, 2, 1))
    con = warehouse.connect(":memory:")
    with serve(socrata_route({"ijzp-q8t2": SodaDataset(rows)})) as url:
        load(con, archive, f"{url}/resource/ijzp-q8t2.json")
    result = helpers.ytd(con, CPD, "murder", date(2018, 3, 1))
    assert result["this_year"].value == 40
    assert any("newest event" in d and "2018-02-01" in d for d in incomplete(result["change"]))
    claim = murder_claim(
        date(2018, 3, 1),
        start="2018-01-01",
        through="2018-03-01",
        ytd=True,
        change=True,
        stated=0,
        relation="less_than",
    )
    assert claims.evaluate(con, claim).verdict == "unverifiable"
    quiet = helpers.ytd(con, CPD, "murder", date(2018, 2, 10))["this_year"]  # nine days on
    assert incomplete(quiet) == []


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    con = warehouse.connect(folder / "w.duckdb")
    demo.run(con, Archive(folder / "raw"))
    con.close()
    return folder / "w.duckdb"


def evaluations(db: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT * FROM claim_evaluations ORDER BY ALL").fetchall()


def test_what_if_runs_record_nothing(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = evaluations(demo_db)
    assert before and all(row[2] for row in before)  # every recorded row names its run
    mine = tmp_path / "mine.yaml"
    mine.write_text(
        "claims:\n  - {id: mine, quote: q, said_by: me, said_on: 2017-08-16, article: a,"
        " stated: s, comparison: c, checks: [{kind: unverifiable, would_need: x}]}\n"
    )
    monkeypatch.chdir(tmp_path)
    db = ["--db", str(demo_db)]
    for args in (
        ["claims", "--as-of", "2017-08-16"],
        ["claims", "--as-of", "2026-08-16"],
        ["claims", "--known-on", "2017-01-01"],
        ["claims", "--known-on", "2026-11-21T19:00:00+00:00"],
        ["claims", "--claims", str(mine)],
        ["claims"],
        ["report", "--out", str(tmp_path / "r.html"), "--as-of", "2017-06-01"],
    ):
        assert cli.main(db + args) == 0, args
    assert evaluations(demo_db) == before
    with duckdb.connect(str(demo_db), read_only=True) as con:
        changes = con.execute("SELECT count(*), count(run_id) FROM claim_verdict_changes")
        total, with_run = changes.fetchone() or (0, 0)
    assert total == with_run


@pytest.fixture(scope="module")
def demo_con(demo_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = warehouse.connect(demo_db)
    yield con
    con.close()


def bundled(claim_id: str) -> Claim:
    return next(c for c in claims.load_claims() if c.id == claim_id)


def test_as_of_the_claims_own_day_is_the_plain_ledger(demo_con: duckdb.DuckDBPyConnection) -> None:
    for claim in claims.load_claims():
        plain = claims.evaluate(demo_con, claim)
        moved = claims.evaluate(demo_con, claim, as_of=claim.said_on)
        assert (moved.verdict, moved.reason) == (plain.verdict, plain.reason), claim.id
    dnainfo = claims.evaluate(demo_con, bundled("dnainfo-437"), as_of=date(2017, 8, 16))
    assert dnainfo.checks[0].figures[0].inputs["end"] == datetime(2017, 8, 16)  # the day before


def test_as_of_moves_every_cut_off_by_the_same_offset(demo_con: duckdb.DuckDBPyConnection) -> None:
    ev = claims.evaluate(demo_con, bundled("dnainfo-437"), as_of=date(2016, 8, 16))
    inputs = ev.checks[0].figures[0].inputs
    assert (inputs["start"], inputs["end"]) == (datetime(2016, 1, 1), datetime(2016, 8, 16))


def test_known_on_applies_to_doj_documents_and_policy_events(
    demo_con: duckdb.DuckDBPyConnection,
) -> None:
    claim = bundled("miami-dade-certified")
    first = demo_con.execute(
        "SELECT min(fetched_at) FROM raw_responses WHERE source LIKE 'us_doj%'"
    ).fetchone()[0]
    before = claims.evaluate(demo_con, claim, known_on=first - timedelta(seconds=1))
    after = claims.evaluate(demo_con, claim, known_on=first + timedelta(hours=1))
    assert before.checks[0].verdict == "unverifiable" and "as known on" in before.checks[0].reason
    assert after.checks[0].verdict == "supported"
    early = claims.evaluate(demo_con, claim, known_on=date(2017, 8, 3))
    assert early.checks[1].verdict == "unverifiable"  # the Aug 4 letters had not been sent
    assert "by 2017-08-03" in early.checks[1].reason
    assert claims.evaluate(demo_con, claim, known_on=date(2017, 8, 4)).checks[1].verdict == (
        "supported"
    )


def test_published_figures_are_observed_with_the_rest_of_the_demo(
    demo_con: duckdb.DuckDBPyConnection,
) -> None:
    rows = demo_con.execute(
        "SELECT source, min(fetched_at) FROM raw_responses GROUP BY source"
    ).fetchall()
    times = dict(rows)
    assert times["published_figures"] == demo.recorded_at("published_figures")
    # each source is observed when its own archive was recorded (us_ucr_agency_monthly was
    # recorded later than the rest, and is known only from then)
    assert all(times[source] == demo.recorded_at(source) for source in times)


def test_highest_in_20_years_is_not_moved_by_later_years(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    con = warehouse.connect(tmp_path / "w.duckdb")
    demo.run(con, Archive(tmp_path / "raw"))
    claim = bundled("chicago-20-year-high")
    before = claims.evaluate(con, claim)
    flips = "SELECT count(*) FROM claim_verdict_changes WHERE claim_id = ?"
    flipped = con.execute(flips, [claim.id]).fetchone()
    rows = portal_rows(LATER)
    with serve(socrata_route({"ijzp-q8t2": SodaDataset(rows)})) as url:
        load(
            con,
            Archive(tmp_path / "raw"),
            f"{url}/resource/ijzp-q8t2.json",
            mode="backfill",
            start=date(2018, 1, 1),
            end=date(2022, 1, 1),
        )
    assert helpers.count(con, CPD, "murder", *year_window(2021)).value == LATER[2021]
    after = claims.evaluate(con, claim)
    assert (after.verdict, after.reason) == (before.verdict, before.reason)
    assert "years compared: 2001-2016" in after.checks[0].reason
    assert "2021" not in after.checks[0].reason
    reevaluated = con.execute(
        "SELECT count(*) FROM claim_evaluations WHERE claim_id = ? AND run_id = "
        "(SELECT max(run_id) FROM runs WHERE mode = 'backfill' AND job = 'cli')",
        [claim.id],
    ).fetchone()
    assert reevaluated == (1,)  # the load re-checked it ...
    assert con.execute(flips, [claim.id]).fetchone() == flipped  # ... and nothing flipped


@pytest.mark.parametrize(
    ("said_by", "body", "restates"),
    [
        ("AP", "Miami-Dade Police Department via AP", True),
        (
            "Washington Times",
            "Major Cities Chiefs Association midyear survey via Washington Times",
            True,
        ),
        ("TIME citing DNAinfo", "DNAinfo Chicago", True),
        ("Daily Caller / AP", "Miami-Dade Police Department via AP", True),
        ("Jeff Sessions", "Miami-Dade Police Department via AP", False),
        ("Jeff Sessions (DOJ statement)", "Chicago Tribune via UPI/CBS/WGN", False),
        ("AP", "Chicago Police Department", False),  # a word inside another is not a name
    ],
)
def test_which_publications_restate_the_claim(said_by: str, body: str, restates: bool) -> None:
    claim = Claim("x", "q", said_by, date(2017, 8, 16), "a", "s", "c", [])
    assert claims.restates(claim, body) is restates


def check(verdict: str, basis: str = DATA, reason: str = "") -> CheckResult:
    return CheckResult(verdict, reason or f"{basis} says {verdict}", [], basis)


@pytest.mark.parametrize(
    ("checks", "verdict"),
    [
        ([check("supported", RESTATEMENT)], "unverifiable"),
        ([check("unverifiable"), check("supported", RESTATEMENT)], "unverifiable"),
        ([check("contradicted", RESTATEMENT)], "unverifiable"),
        ([check("supported", PUBLICATION)], "supported"),
        ([check("supported", PUBLICATION), check("supported", RESTATEMENT)], "supported"),
        ([check("supported"), check("contradicted", PUBLICATION)], "supported"),
        ([check("contradicted"), check("supported", PUBLICATION)], "contradicted"),
        ([check("supported"), check("contradicted")], "mixed"),
        ([check("supported", PUBLICATION), check("contradicted", PUBLICATION)], "mixed"),
        ([check("unverifiable"), check("contradicted", PUBLICATION)], "contradicted"),
        ([check("unverifiable"), check("unverifiable", PUBLICATION)], "unverifiable"),
        ([check("supported"), check("supported")], "supported"),
    ],
)
def test_how_checks_combine(checks: list[CheckResult], verdict: str) -> None:
    assert claims.combine(checks)[0] == verdict


def test_the_reason_leads_with_what_decided_and_says_each_thing_once() -> None:
    verdict, reason = claims.combine(
        [
            check("supported", RESTATEMENT, "the AP's figure"),
            check("contradicted", PUBLICATION, "the newspaper's figure"),
            check("supported", DATA, "447 vs 433"),
            check("supported", DATA, "447 vs 433"),
        ]
    )
    assert verdict == "supported"
    assert reason.startswith("447 vs 433;") and reason.count("447 vs 433") == 1
    assert "contradicted (publication): the newspaper's figure" in reason
    assert reason.endswith(
        "restated by the claimant's own source, which is not support: the AP's figure"
    )


def test_a_claim_resting_on_its_own_source_is_not_supported(
    demo_con: duckdb.DuckDBPyConnection,
) -> None:
    for claim_id in ("mdpd-ytd-change", "mcca-midyear-2017"):
        ev = claims.evaluate(demo_con, bundled(claim_id))
        assert ev.verdict == "unverifiable", claim_id
        assert not ev.reason.startswith("unverifiable")
        assert "restated by the claimant's own source" in ev.reason


def test_recording_a_what_if_is_refused(demo_con: duckdb.DuckDBPyConnection) -> None:
    ev = claims.evaluate(demo_con, bundled("dnainfo-437"), as_of=date(2016, 8, 16))
    with pytest.raises(ValueError, match="what-if"):
        claims.record(demo_con, [ev], "run-x")
    ev = replace(claims.evaluate(demo_con, bundled("dnainfo-437")), known_on=date(2017, 1, 1))
    with pytest.raises(ValueError, match="what-if"):
        claims.record(demo_con, [ev], "run-x")


def test_known_on_a_timestamp_is_that_instant() -> None:
    assert helpers.as_of(datetime(2026, 11, 21, 19, 0, tzinfo=UTC)) == "2026-11-21T19:00:00+00:00"
    assert helpers.as_of(datetime(2026, 11, 21, 19, 0)) == "2026-11-21T19:00:00+00:00"
    assert helpers.as_of(date(2026, 11, 21)) == "2026-11-22 00:00:00+00"
    assert Counter(cli.known_on(t).__class__ for t in ("2026-11-21", "2026-11-21T19:00")) == {
        date: 1,
        datetime: 1,
    }


def test_an_arrest_share_over_part_of_a_year_decides_nothing(
    portal: tuple[str, list[dict[str, Any]]], archive: Archive
) -> None:
    url, _ = portal
    con = warehouse.connect(":memory:")
    load(con, archive, url, mode="backfill", start=date(2016, 7, 1), end=date(2018, 1, 1))
    with HttpClient() as client:  # the national rate: a published figure, read from disk
        collect(con, archive, client, "published_figures", Options(mode="backfill"))
    share = helpers.arrest_share(con, CPD, 2016)
    assert any("2016-01-01 to 2016-07-01" in d for d in incomplete(share))
    assert incomplete(helpers.arrest_share(con, CPD, 2017)) == []
    claim = replace(bundled("chicago-clearance"), checks=bundled("chicago-clearance").checks[:1])
    ev = claims.evaluate(con, claim)
    assert ev.verdict == "unverifiable" and "is partial" in ev.reason


def test_notebooks_show_figures_and_evaluations(demo_con: duckdb.DuckDBPyConnection) -> None:
    ev = claims.evaluate(demo_con, bundled("chicago-vs-miami-ratio"))
    html = ev._repr_html_()
    assert ev.verdict in html and "more than three times" in html.replace("&quot;", '"')
    for figure in (f for check in ev.checks for f in check.figures):
        assert figure.label.replace("&", "&amp;") in figure._repr_html_()
    assert "jurisdiction_mismatch" in html
