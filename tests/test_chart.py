"""The year-to-date chart (`sanctuarywatch chart`, and the report's) on the demo warehouse: a
real PNG and a real SVG, every number drawn equal to the claims ledger's own figures, every
jurisdiction with data in it (Miami-Dade's police included), partial counts marked as partial,
the report embedding the very same image, and a bad path refused in one line."""

from __future__ import annotations

import base64
import shutil
import struct
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from bs4 import BeautifulSoup

from sanctuarywatch import cli
from sanctuarywatch.present import chart, report
from sanctuarywatch.query import claims, helpers
from sanctuarywatch.query.claims import Evaluation

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SVG = "{http://www.w3.org/2000/svg}"
OFFENSE = "murder"  # the chart's default offense


@pytest.fixture(scope="module")
def con(demo_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A copy of the demo warehouse: the commands under test open the file itself, which one
    process cannot hold open twice with different settings."""
    copy = demo_db.with_name("copy.duckdb")
    shutil.copyfile(demo_db, copy)
    with duckdb.connect(str(copy), read_only=True) as opened:
        yield opened


@pytest.fixture(scope="module")
def cutoff() -> date:
    return chart.default_cutoff(claims.load_claims())


@pytest.fixture(scope="module")
def panels(con: duckdb.DuckDBPyConnection, cutoff: date) -> list[chart.Panel]:
    return chart.ytd_panels(con, cutoff)


@pytest.fixture(scope="module")
def evaluations(con: duckdb.DuckDBPyConnection) -> list[Evaluation]:
    return claims.evaluate_all(con)


@pytest.fixture(scope="module")
def written(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """`sanctuarywatch chart --out DIR`: the files it says it wrote, by suffix."""
    out = tmp_path_factory.mktemp("chart") / "new"
    assert cli.main(["--db", str(demo_db), "chart", "--out", str(out)]) == 0
    return {path.suffix: path for path in out.iterdir()}


@pytest.fixture(scope="module")
def svg(written: dict[str, Path]) -> ET.Element:
    return ET.parse(written[".svg"]).getroot()


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_MAGIC and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _texts(root: ET.Element) -> list[str]:
    return [text.text or "" for text in root.iter(f"{SVG}text")]


def _drawn(root: ET.Element) -> dict[tuple[str, int, str], tuple[float, str]]:
    """Every point the SVG draws: (jurisdiction, year, end) -> (value, exact or partial)."""
    found = {}
    for group in root.iter(f"{SVG}g"):
        kind, *rest = group.get("id", "").split("|")
        if kind == "point":
            jurisdiction, year, end, value, exact = rest
            found[(jurisdiction, int(year), end)] = (float(value), exact)
    return found


def _ytd_counts(evaluations: list[Evaluation], cutoff: date) -> list[helpers.Figure]:
    """The ledger's counts of the chart's offense from Jan 1 through the cut-off."""
    window = (f"{date(cutoff.year, 1, 1)} 00:00:00", f"{cutoff + timedelta(days=1)} 00:00:00")
    return [
        figure
        for ev in evaluations
        for check in ev.checks
        for figure in check.figures
        if figure.inputs.get("offense") == OFFENSE
        and (str(figure.inputs.get("start")), str(figure.inputs.get("end"))) == window
    ]


def test_the_command_writes_a_png_and_an_svg(
    written: dict[str, Path], svg: ET.Element, panels: list[chart.Panel]
) -> None:
    assert set(written) == {".png", ".svg"}
    width, height = _png_size(written[".png"].read_bytes())
    assert (width, height) == (
        round(chart.WIDTH_IN * chart.DPI),
        round(chart.PANEL_IN * chart.DPI * len(panels)),
    )
    assert svg.tag == f"{SVG}svg"
    assert svg.get("width") == f"{chart.WIDTH_IN * 72:g}pt"  # 72 points an inch
    assert svg.get("height") == f"{chart.PANEL_IN * 72 * len(panels):g}pt"


def test_every_number_drawn_is_the_helpers_figure(
    con: duckdb.DuckDBPyConnection, panels: list[chart.Panel], svg: ET.Element, cutoff: date
) -> None:
    expected = {}
    for panel in panels:
        ytd = helpers.ytd(con, panel.jurisdiction, OFFENSE, cutoff)
        assert panel.this.at_cutoff.value == ytd["this_year"].value
        assert panel.last.at_cutoff.value == ytd["last_year"].value
        assert panel.change.value == ytd["change"].value
        for line in (panel.this, panel.last):
            for point in line.points:
                start = date(line.year, 1, 1)
                figure = helpers.count(con, panel.jurisdiction, OFFENSE, start, point.end)
                assert point.figure.value == figure.value
                assert point.figure.caveats == figure.caveats
                if figure.value is not None:
                    exact = "partial" if point.partial else "exact"
                    expected[(panel.jurisdiction, line.year, str(point.end))] = (
                        float(figure.value),
                        exact,
                    )
    assert _drawn(svg) == expected


def test_the_numbers_are_the_ledgers(
    panels: list[chart.Panel], evaluations: list[Evaluation], svg: ET.Element, cutoff: date
) -> None:
    """The ledger's year-to-date counts read at the chart's cut-off (Sessions' "more than 433"
    among them) are the values drawn at the cut-off and written in the legend."""
    by_id = {panel.jurisdiction: panel for panel in panels}
    ledger = _ytd_counts(evaluations, cutoff)
    assert ledger
    texts = _texts(svg)
    for figure in ledger:
        panel = by_id[figure.inputs["jurisdiction"]]
        assert panel.this.at_cutoff.value == figure.value
        assert chart.legend(panel.this) in texts
        assert f": {figure.value:,}" in chart.legend(panel.this)


def test_every_jurisdiction_with_data_is_drawn(
    con: duckdb.DuckDBPyConnection,
    panels: list[chart.Panel],
    evaluations: list[Evaluation],
    svg: ET.Element,
    cutoff: date,
) -> None:
    years = [helpers.same_day_last_year(cutoff).year, cutoff.year]
    incidents = con.execute(
        "SELECT DISTINCT jurisdiction_id FROM incident_events('infinity') "
        "WHERE offense = ? AND year IN (SELECT unnest(?))",
        [OFFENSE, years],
    ).fetchall()
    returns = con.execute(
        "SELECT DISTINCT 'agency:' || ori FROM agency_reporting_periods "
        "WHERE offense = ? AND year(period_start) IN (SELECT unnest(?))",
        [OFFENSE, years],
    ).fetchall()
    shown = {panel.jurisdiction for panel in panels}
    assert shown == {row[0] for row in incidents + returns}
    counted = {  # every agency the ledger counts murders for, Miami-Dade's police among them
        f.inputs["jurisdiction"]
        for ev in evaluations
        for check in ev.checks
        for f in check.figures
        if f.inputs.get("offense") == OFFENSE and f.value is not None
    }
    assert counted and counted <= shown
    titles = " ".join(_texts(svg))
    for panel in panels:
        assert f"{panel.name}: {OFFENSE}" in titles


def test_partial_and_missing_counts_say_so(panels: list[chart.Panel], svg: ET.Element) -> None:
    """An approximated count is hollow and named in the legend; no count is 'no count', never
    a zero; an annual total is one box over the year, its months never drawn."""
    texts, drawn = _texts(svg), _drawn(svg)
    lines = [(panel, line) for panel in panels for line in (panel.this, panel.last)]
    missing = [(p, ln) for p, ln in lines if ln.at_cutoff.value is None]
    partial = [
        (p, ln)
        for p, ln in lines
        if set(chart.PARTIAL) & _kinds(ln.at_cutoff) and (p, ln) not in missing
    ]
    assert partial and missing  # the demo has both: monthly returns, an annual total
    for panel, line in partial:
        kinds = sorted(set(chart.PARTIAL) & _kinds(line.at_cutoff))
        assert f"({', '.join(kinds)})" in chart.legend(line) and chart.legend(line) in texts
        key = (panel.jurisdiction, line.year, str(line.cutoff + timedelta(days=1)))
        assert drawn[key][1] == "partial"
    for panel, line in missing:
        assert f"{line.cutoff.day}: no count" in chart.legend(line)
        key = (panel.jurisdiction, line.year, str(line.cutoff + timedelta(days=1)))
        assert key not in drawn
    for panel, line in lines:
        unknown = [p for p in line.points if p.figure.value is None]
        assert all((panel.jurisdiction, line.year, str(p.end)) not in drawn for p in unknown)


def _kinds(figure: helpers.Figure) -> set[str]:
    return {caveat.kind for caveat in figure.caveats}


def test_the_report_embeds_the_same_chart(
    con: duckdb.DuckDBPyConnection,
    evaluations: list[Evaluation],
    written: dict[str, Path],
    tmp_path: Path,
) -> None:
    page = report.write_report(con, tmp_path / "index.html", evaluations)
    image = BeautifulSoup(page.read_text(encoding="utf-8"), "lxml").select_one("#chart img")
    assert image is not None
    src = str(image["src"])
    assert src.startswith("data:image/png;base64,")
    assert base64.b64decode(src.split(",", 1)[1]) == written[".png"].read_bytes()


def test_png_and_svg_to_named_files(demo_db: Path, tmp_path: Path) -> None:
    png, svg = tmp_path / "a" / "ytd.png", tmp_path / "b" / "ytd.svg"
    argv = ["--db", str(demo_db), "chart", "--png", str(png), "--svg", str(svg)]
    argv += ["--known-on", "2017-01-01"]  # before the demo's recording: nothing known yet
    assert cli.main(argv) == 0
    assert _png_size(png.read_bytes()) == (
        round(chart.WIDTH_IN * chart.DPI),
        round(chart.PANEL_IN * chart.DPI),
    )
    texts = _texts(ET.parse(svg).getroot())
    assert any(
        text.startswith(f"No {OFFENSE} counts in the warehouse as known on") for text in texts
    )


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--out", "{file}/below"], "{file}/below"),
        (["--png", "{tmp}/chart.svg"], "expected a name ending in .png"),
        (["--out", "{tmp}", "--svg", "{tmp}/c.svg"], "not both"),
    ],
)
def test_a_bad_path_is_one_line_and_exit_1(
    argv: list[str],
    said: str,
    demo_db: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    file = tmp_path / "a-file"
    file.write_text("not a folder", encoding="utf-8")
    filled = [arg.format(file=file, tmp=tmp_path) for arg in argv]
    assert cli.main(["--db", str(demo_db), "chart", *filled]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error:") and err.count("\n") == 1 and "Traceback" not in err
    assert said.format(file=file, tmp=tmp_path) in err
