"""The HTML report, checked in headless Chromium: it renders, shows every claim (the bundled
ones and a user's), and every number on the page equals the ledger's.

Chromium is Debian's package (`.ci/run` installs it). Without it the browser tests skip
locally, but fail under CI (CI set): a report nobody rendered is not a tested report.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from bs4 import BeautifulSoup, Tag

from sanctuarywatch.load import warehouse
from sanctuarywatch.load.archive import Archive
from sanctuarywatch.present import demo, report
from sanctuarywatch.query.claims import Evaluation, evaluate_all, load_claims

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--window-size=1280,2200",
]
USER_CLAIMS = """
claims:
  - id: user-escaped
    quote: 'A <b>bold</b> claim & a "quoted" one </script>'
    said_by: A reader
    said_on: 2017-08-20
    article: my-notes.txt
    stated: "< 1"
    comparison: nothing loaded can test it
    checks:
      - {kind: unverifiable, would_need: a source that does not exist}
"""


def find_chromium() -> str:
    """The browser binary; skip without it, except under CI where its absence is a failure."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    reason = (
        "headless Chromium not found (apt-get install chromium); the HTML report "
        "cannot be checked in a browser"
    )
    if os.environ.get("CI"):
        pytest.fail(f"{reason}, and CI is set: install it (.ci/run does)")
    pytest.skip(reason)


def chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    command = [find_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


@pytest.fixture(scope="module")
def demo_con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    con = warehouse.connect(":memory:")
    demo.run(con, Archive(tmp_path_factory.mktemp("archive")))
    yield con
    con.close()


@pytest.fixture(scope="module")
def evaluations(
    demo_con: duckdb.DuckDBPyConnection, tmp_path_factory: pytest.TempPathFactory
) -> list[Evaluation]:
    user_file = tmp_path_factory.mktemp("claims") / "mine.yaml"
    user_file.write_text(USER_CLAIMS, encoding="utf-8")
    return evaluate_all(demo_con, load_claims([user_file]))


@pytest.fixture(scope="module")
def report_path(
    demo_con: duckdb.DuckDBPyConnection,
    evaluations: list[Evaluation],
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    return report.write_report(
        demo_con, tmp_path_factory.mktemp("report") / "report.html", evaluations
    )


@pytest.fixture(scope="module")
def static(report_path: Path) -> BeautifulSoup:
    return BeautifulSoup(report_path.read_text(encoding="utf-8"), "lxml")


@pytest.fixture(scope="module")
def rendered(report_path: Path, tmp_path_factory: pytest.TempPathFactory) -> BeautifulSoup:
    """The DOM after Chromium loaded the page and ran its scripts."""
    result = chromium(["--dump-dom", report_path.as_uri()], tmp_path_factory.mktemp("profile"))
    assert result.returncode == 0, result.stderr[-2000:]
    return BeautifulSoup(result.stdout, "lxml")


def _tag(node: object) -> Tag:
    assert isinstance(node, Tag), node
    return node


def _value(text: str) -> float | None:
    return None if text == "" else float(text)


def test_chromium_missing_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        find_chromium()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="not found"):
        find_chromium()


def test_renders_with_scripts_and_chart(rendered: BeautifulSoup) -> None:
    body = _tag(rendered.body)
    assert body["data-ready"] == "true"  # the load handler ran without an error before it
    title = _tag(rendered.title)
    assert title.get_text() == report.TITLE
    image = _tag(rendered.select_one("#chart img"))
    assert str(image["src"]).startswith("data:image/png;base64,")
    assert image["data-rendered"] == "true"  # the browser decoded the embedded PNG


def test_every_claim_is_shown(rendered: BeautifulSoup, evaluations: list[Evaluation]) -> None:
    shown = [str(s["data-claim-id"]) for s in rendered.select("section.claim")]
    assert shown == [ev.claim.id for ev in evaluations]
    assert len(shown) == len(load_claims()) + 1 >= 20  # the bundled 19 and the user's
    assert _tag(rendered.body)["data-claims"] == str(len(evaluations))
    links = [str(a["href"]) for a in rendered.select("ol.toc a")]
    assert links == [f"#claim-{ev.claim.id}" for ev in evaluations]


def test_numbers_equal_the_ledger(rendered: BeautifulSoup, evaluations: list[Evaluation]) -> None:
    for ev in evaluations:
        section = _tag(rendered.select_one(f'section.claim[data-claim-id="{ev.claim.id}"]'))
        assert section["data-verdict"] == ev.verdict
        assert _tag(section.select_one(".reason")).get_text() == f"Why: {ev.reason}"
        checks = section.select("div.check")
        assert [c["data-verdict"] for c in checks] == [c.verdict for c in ev.checks]
        for check, result in zip(checks, ev.checks, strict=True):
            cells = check.select("tr.figure td.value")
            values = [_value(str(c["data-value"])) for c in cells]
            assert values == [f.value for f in result.figures]
            labels = [_tag(r.select_one("td.label")).contents[0] for r in check.select("tr.figure")]
            assert labels == [f.label for f in result.figures]
        kinds = [str(li["data-caveat-kind"]) for li in section.select("ul.caveats li")]
        assert kinds == [c.kind for c in ev.caveats]


def test_known_values_appear(rendered: BeautifulSoup, evaluations: list[Evaluation]) -> None:
    """The ledger's own numbers (computed, not typed) reach the page in readable form."""
    by_id = {ev.claim.id: ev for ev in evaluations}
    ytd = by_id["chicago-murders-ytd"].checks[0].figures[0]
    cell = _tag(rendered.select_one('[data-claim-id="chicago-murders-ytd"] td.value'))
    assert cell.get_text() == f"{ytd.value:,}"
    ratio = by_id["chicago-vs-miami-ratio"]
    section = _tag(rendered.select_one('[data-claim-id="chicago-vs-miami-ratio"]'))
    kinds = {li["data-caveat-kind"] for li in section.select("ul.caveats li")}
    assert "jurisdiction_mismatch" in kinds
    assert kinds == {c.kind for c in ratio.caveats}


def test_summary_counts(rendered: BeautifulSoup, evaluations: list[Evaluation]) -> None:
    for verdict in ("supported", "contradicted", "mixed", "unverifiable"):
        count = _tag(rendered.select_one(f'[data-verdict-count="{verdict}"]')).get_text()
        assert int(count) == sum(ev.verdict == verdict for ev in evaluations)


def test_evidence_sql_and_sources(rendered: BeautifulSoup, evaluations: list[Evaluation]) -> None:
    for ev in evaluations:
        section = _tag(rendered.select_one(f'section.claim[data-claim-id="{ev.claim.id}"]'))
        figures = [f for check in ev.checks for f in check.figures]
        sql = [pre.get_text() for pre in section.select("pre.sql")]
        assert sql == [item["sql"] for f in figures for item in f.evidence]
        times = [str(t["datetime"]) for t in section.select("ul.responses time")]
        assert times == [
            r["fetched_at"]
            for f in figures
            for item in f.evidence
            for r in item.get("responses", [])
        ]
    ytd = _tag(rendered.select_one('[data-claim-id="chicago-murders-ytd"] ul.responses a'))
    assert str(ytd["href"]).startswith("http")


def test_conflicts_side_by_side(rendered: BeautifulSoup, evaluations: list[Evaluation]) -> None:
    pairs = [
        (ev.claim.id, ev.claim.conflicts_with) for ev in evaluations if ev.claim.conflicts_with
    ]
    assert ("miami-bucks-trend", "mdpd-ytd-change") in pairs
    blocks = rendered.select("#conflicts .conflict")
    assert [tuple(str(b["data-claims"]).split()) for b in blocks] == pairs
    by_id = {ev.claim.id: ev for ev in evaluations}
    for block in blocks:
        assert block["data-layout"] == "side-by-side"  # laid out by the browser, not assumed
        sides = block.select(".side")
        verdicts = [by_id[str(s["data-ref"])].verdict for s in sides]
        assert [s["data-verdict"] for s in sides] == verdicts


def test_user_text_is_escaped(static: BeautifulSoup, rendered: BeautifulSoup) -> None:
    for soup in (static, rendered):
        quote = _tag(soup.select_one('[data-claim-id="user-escaped"] blockquote.quote'))
        assert quote.get_text() == 'A <b>bold</b> claim & a "quoted" one </script>'
        assert quote.find("b") is None


def test_embedded_ledger_json(rendered: BeautifulSoup, evaluations: list[Evaluation]) -> None:
    data = json.loads(_tag(rendered.select_one("#ledger-data")).get_text())
    assert data == json.loads(json.dumps([ev.to_dict() for ev in evaluations], default=str))


def test_screenshot(report_path: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    result = chromium([f"--screenshot={shot}", report_path.as_uri()], tmp_path / "profile")
    assert result.returncode == 0, result.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000


def test_chart_beside_the_page(
    demo_con: duckdb.DuckDBPyConnection, evaluations: list[Evaluation], tmp_path: Path
) -> None:
    page = report.write_report(
        demo_con, tmp_path / "out" / "ledger.html", evaluations, embed_chart=False
    )
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "lxml")
    assert _tag(soup.select_one("#chart img"))["src"] == "ledger.png"
    assert (tmp_path / "out" / "ledger.png").read_bytes()[:4] == b"\x89PNG"
    assert _tag(soup.select_one("#chart"))["data-cutoff"] == "2017-08-16"


PHONE_FRAME = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="page" src="%s" style="width:%dpx;height:1200px;border:0"></iframe>
<script>
document.getElementById('page').addEventListener('load', function () {
  var doc = this.contentDocument, out = {};
  function ready() {
    if (doc.body.dataset.ready !== 'true') { return setTimeout(ready, 50); }
    out.viewport = Number(doc.body.dataset.viewportWidth);
    out.scroll = Number(doc.body.dataset.scrollWidth);
    out.claims = Array.from(doc.querySelectorAll('section.claim')).map(function (c) {
      return {id: c.dataset.claimId, folded: !c.querySelector('details.more').open,
              values: Array.from(c.querySelectorAll('td.value')).map(function (v) {
                return v.dataset.value; })};
    });
    doc.querySelectorAll('details').forEach(function (d) { d.open = true; });
    out.scrollOpen = doc.documentElement.scrollWidth;  // every card and its evidence unfolded
    document.body.dataset.result = JSON.stringify(out);
  }
  ready();
});
</script></body></html>"""


@pytest.mark.parametrize("width", [400, 1400])
def test_readable_at_phone_and_desktop_widths(
    report_path: Path, evaluations: list[Evaluation], tmp_path: Path, width: int
) -> None:
    """Nothing scrolls sideways, every claim is there with its numbers, and each card shows
    its quote and verdict with the rest folded away. Headless Chromium will not open a window
    narrower than 500 px, so the page is measured inside a frame of the width asked for."""
    frame = report_path.parent / f"frame-{width}.html"
    frame.write_text(PHONE_FRAME % (report_path.name, width), encoding="utf-8")
    flags = ["--allow-file-access-from-files", "--window-size=1500,1300"]
    result = chromium(
        [*flags, "--virtual-time-budget=5000", "--dump-dom", frame.as_uri()], tmp_path / "profile"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    found = json.loads(str(_tag(BeautifulSoup(result.stdout, "lxml").body)["data-result"]))
    assert found["viewport"] == width
    assert found["scroll"] <= width  # no horizontal overflow, folded ...
    assert found["scrollOpen"] <= width  # ... or with every card and its evidence open
    assert [c["id"] for c in found["claims"]] == [ev.claim.id for ev in evaluations]
    for shown, ev in zip(found["claims"], evaluations, strict=True):
        assert shown["folded"]
        assert [_value(v) for v in shown["values"]] == [
            f.value for c in ev.checks for f in c.figures
        ]
    shot = tmp_path / "shot.png"
    taken = chromium([*flags, f"--screenshot={shot}", frame.as_uri()], tmp_path / "p2")
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert int.from_bytes(shot.read_bytes()[16:20], "big") == 1500  # PNG IHDR width


def test_contents_list_quotes_not_ids(static: BeautifulSoup, evaluations: list[Evaluation]) -> None:
    entries = [a.get_text() for a in static.select("ol.toc a")]
    assert entries == [ev.claim.quote for ev in evaluations]


def test_nothing_points_at_a_local_machine(report_path: Path, static: BeautifulSoup) -> None:
    """Evidence cites publishers: the demo's loopback recordings stand for upstream URLs,
    and published figures link to their publications."""
    page = report_path.read_text(encoding="utf-8")
    for local in ("127.0.0.1", "localhost", "file:///", str(Path.home()), "/work/", "/tmp/"):
        assert local not in page, local
    links = {str(a["href"]) for a in static.select("ul.responses a, p.publication a")}
    hosts = {link.split("/")[2] for link in links}
    assert {"data.cityofchicago.org", "www2.census.gov"} <= hosts
    assert any(a.get_text().startswith("http") for a in static.select("p.publication a"))
