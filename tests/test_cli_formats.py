"""The command line's output and help (issue 20): every format of claims, compare, sources
and sql on the demo warehouse; terminal tables at 80 columns that cut nothing and speak in
names and inclusive dates; the ledger's JSON against its documentation; help text that
loads none of the heavy libraries (tests/test_cli_docs.py: every command listed); and the
README's examples, run against the demo warehouse, each with an answer."""

from __future__ import annotations

import argparse
import ast
import csv
import io
import json
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from sanctuarywatch import cli, output, views
from sanctuarywatch.load import warehouse
from sanctuarywatch.query import claims

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
LEDGER_DOC = (REPO / "docs" / "ledger-json.md").read_text(encoding="utf-8")
COMPARE = ["compare", "murder", "Chicago", "agency:FL0130000"]
WINDOW = ["--start", "2017-01-01", "--end", "2018-01-01"]
Run = Callable[..., str]
READERS = {
    "claims": ["claims"],
    "compare": [*COMPARE, *WINDOW],
    "sources": ["sources"],
    "sql": ["sql", "SELECT year, count(*) AS victims FROM il_chicago_crimes GROUP BY 1"],
}


@pytest.fixture
def sw(
    demo_db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Run]:
    """cli.main on the demo warehouse, 80 columns wide; returns its stdout."""
    for name in ("CLAIMS", "REPLAY", "CRON"):
        monkeypatch.delenv(f"SANCTUARYWATCH_{name}", raising=False)
    monkeypatch.setenv("COLUMNS", "80")

    def run(*argv: str) -> str:
        capsys.readouterr()
        code = cli.main(["--db", str(demo_db), *argv])
        captured = capsys.readouterr()
        assert code == 0, captured.err
        return captured.out

    yield run


# --- formats -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", output.FORMATS)
@pytest.mark.parametrize("name", READERS)
def test_every_reader_in_every_format(name: str, fmt: str, sw: Run) -> None:
    out = sw(*READERS[name], "--format", fmt)
    assert out.strip(), (name, fmt)
    if fmt == "json":
        assert json.loads(out)
    elif fmt == "csv":
        rows = list(csv.reader(io.StringIO(out)))
        assert len(rows) >= 2 and all(len(row) == len(rows[0]) for row in rows)
    elif fmt == "tsv":
        lines = out.splitlines()
        assert len(lines) >= 2 and {line.count("\t") for line in lines} == {lines[0].count("\t")}
    elif fmt == "markdown":
        assert out.startswith("| ") and "| --- |" in out
    else:
        assert out.startswith("┏")


@pytest.mark.parametrize("name", READERS)
def test_a_pipe_gets_tab_separated_rows(name: str, sw: Run) -> None:
    assert sw(*READERS[name]) == sw(*READERS[name], "--format", "tsv")


def test_tsv_escapes_tabs_and_line_breaks(sw: Run) -> None:
    out = sw("sql", "SELECT 'a' || chr(9) || 'b' AS x, NULL AS y, 'two' || chr(10) || 'lines' AS z")
    assert out.splitlines() == ["x\ty\tz", "a\\tb\t\ttwo\\nlines"]


def test_claims_json_is_the_complete_evaluation(demo_db: Path, sw: Run) -> None:
    found = json.loads(sw("claims", "--format", "json"))
    assert json.loads(sw("claims", "--format", "json", "--details")) == found  # JSON only
    with duckdb.connect(str(demo_db), read_only=True) as con:
        expected = [ev.to_dict() for ev in views.ledger_order(claims.evaluate_all(con))]
    assert found == json.loads(json.dumps(expected))
    by_id = {c["claim"]["id"]: c for c in found}
    assert by_id["population-parity"]["claim"]["conflicts_with"] is None  # null, not "None"
    assert by_id["miami-bucks-trend"]["claim"]["conflicts_with"] == "mdpd-ytd-change"
    check = by_id["chicago-murders-ytd"]["checks"][0]
    assert check["basis"] == "data" and check["figures"][0]["value"] == 447
    assert check["figures"][0]["evidence"][0]["responses"]


def test_details_in_csv_are_one_row_per_figure(sw: Run) -> None:
    rows = list(csv.DictReader(io.StringIO(sw("claims", "--details", "--format", "csv"))))
    murders = [r for r in rows if r["claim_id"] == "chicago-murders-ytd"]
    assert [(r["check"], r["basis"], r["value"]) for r in murders] == [("1", "data", "447")]
    assert "data.cityofchicago.org" in murders[0]["evidence"]


def test_compare_json_names_both_sides_by_id_and_name(sw: Run) -> None:
    found = json.loads(sw(*READERS["compare"], "--format", "json"))
    assert found["a"] == {"id": "place:1714000", "name": "Chicago city, Illinois"}
    assert found["b"] == {"id": "agency:FL0130000", "name": "Miami-Dade Police Department"}
    assert (found["start"], found["end"]) == ("2017-01-01", "2018-01-01")
    count = found["figures"]["count_a"]
    assert count["value"] == 672
    assert "agency:ILCPD0000, 2017-01-01 00:00 to 2018-01-01 00:00" in count["label"]


# --- tables for people -------------------------------------------------------------------


def _words(text: str) -> set[str]:
    return set(text.split())


@pytest.mark.parametrize("name", READERS)
def test_tables_fit_80_columns_and_cut_nothing(name: str, sw: Run) -> None:
    out = sw(*READERS[name], "--format", "table", *(["--details"] if name == "claims" else []))
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "…" not in out


def test_every_word_of_every_reason_is_in_the_table(demo_db: Path, sw: Run) -> None:
    out = sw("claims", "--format", "table")
    with duckdb.connect(str(demo_db), read_only=True) as con:
        evaluations, names = claims.evaluate_all(con), views.names(con)
    shown = _words(out)
    for ev in evaluations:
        missing = _words(output.humanise(ev.reason, names)) - shown
        assert not missing, (ev.claim.id, missing)


def test_tables_speak_in_names_and_inclusive_dates(sw: Run) -> None:
    table = sw("claims", "--format", "table", "--id", "chicago-murders-ytd", "--details")
    assert "agency:" not in table and "00:00" not in table and "Jan 1 - Aug" in table
    ledger = sw("claims", "--format", "markdown", "--id", "chicago-murders-ytd")
    assert "murder in Chicago Police Department, Jan 1 - Aug 16, 2017: 447" in ledger
    compared = " ".join(sw(*READERS["compare"], "--format", "markdown").split())
    assert "murder in Miami-Dade Police Department, Jan 1 - Dec 31, 2017 | 90 |" in compared
    assert "agency:" not in compared


@pytest.mark.parametrize(
    ("start", "end", "said"),
    [
        (date(2017, 1, 1), date(2017, 8, 17), "Jan 1 - Aug 16, 2017"),
        (date(2017, 8, 16), date(2017, 8, 17), "Aug 16, 2017"),
        (date(2016, 12, 1), date(2017, 2, 1), "Dec 1, 2016 - Jan 31, 2017"),
        (datetime(2017, 6, 30, 17), datetime(2017, 7, 5, 6), "Jun 30 17:00 to Jul 5 06:00, 2017"),
    ],
)
def test_windows_read_inclusively(start: date, end: date, said: str) -> None:
    assert output.window(start, end) == said


def test_humanise_rewrites_only_what_it_knows() -> None:
    names = {"agency:ILCPD0000": "Chicago Police Department"}
    text = (
        "murder in agency:ILCPD0000, 2017-01-01 00:00 to 2017-07-01 00:00; agency:XX0000000; "
        "no count for 2017-01-01 to 2017-07-01 (exclusive); never collected for 1997-01-01 "
        "to 2001-01-01 (collected: 2001-01-01 to 2017-01-01); documents (2017-04-21 to "
        "2017-11-15)"
    )
    assert output.humanise(text, names) == (
        "murder in Chicago Police Department, Jan 1 - Jun 30, 2017; agency:XX0000000; "
        "no count for Jan 1 - Jun 30, 2017; never collected for Jan 1, 1997 - Dec 31, 2000 "
        "(collected: Jan 1, 2001 - Dec 31, 2016); documents (2017-04-21 to 2017-11-15)"
    )


def test_fit_widths_keeps_words_whole_and_shares_the_rest() -> None:
    lines = [["id", "why"], ["a-long-identifier", "word " * 40]]
    assert output.fit_widths(lines, 40) == [17, 23]
    assert output.fit_widths(lines, 400) == [17, 200]


# --- the ledger's JSON, as documented ----------------------------------------------------


def _documented(section: str) -> set[str]:
    """The field names of one table of docs/ledger-json.md (the one under `## section`)."""
    part = LEDGER_DOC.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(\w+)` \|", part, flags=re.MULTILINE))


def test_every_field_of_the_ledger_json_is_documented(demo_db: Path) -> None:
    with duckdb.connect(str(demo_db), read_only=True) as con:
        found = [ev.to_dict() for ev in claims.evaluate_all(con)]
    checks = [c for ev in found for c in ev["checks"]]
    figures = [f for c in checks for f in c["figures"]]
    evidence = [e for f in figures for e in f["evidence"]]
    seen = {
        "A claim's evaluation": {k for ev in found for k in ev},
        "`claim`": {k for ev in found for k in ev["claim"]},
        "check": {k for c in checks for k in c},
        "figure": {k for f in figures for k in f},
        "caveat": {k for ev in found for c in ev["caveats"] for k in c},
        "evidence": {k for e in evidence for k in e},
    }
    for section, keys in seen.items():
        assert keys == _documented(section), section
    assert json.loads(json.dumps(found)) == found  # JSON types only, no default=str needed


# --- help --------------------------------------------------------------------------------


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in cli.parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_option_has_help() -> None:
    parsers = {"": cli.parser(), **_subparsers()}
    for name, parser in parsers.items():
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            assert action.help, (name, action.dest)


def test_the_db_help_names_the_warehouse_defaults() -> None:
    assert f"${warehouse.DB_ENV}" in cli.DB_HELP and str(warehouse.DEFAULT_DB) in cli.DB_HELP
    assert cli.FORMATS == output.FORMATS


def test_help_loads_no_heavy_library() -> None:
    probe = (
        "import sys\nfrom sanctuarywatch import cli\n"
        "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('duckdb', 'httpx', 'rich', 'yaml', 'pyarrow', 'pydantic', 'matplotlib')\n"
        "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stderr.strip() == "[]"
    assert "read the warehouse:" in done.stdout


@pytest.mark.parametrize(
    "argv",
    [
        [*COMPARE, "--start", "2017-13-01", "--end", "2018-01-01"],
        [*COMPARE, "--start", "2017-01-01", "--end", "01/01/2018"],
        ["claims", "--as-of", "20170816"],
        ["report", "--as-of", "2017-02-30"],
        ["collect", "il_chicago_crimes", "--mode", "backfill", "--start", "yesterday"],
    ],
)
def test_a_bad_date_says_the_format_expected(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 2
    assert "expected a date as YYYY-MM-DD" in capsys.readouterr().err


def test_known_on_takes_a_day_or_a_timestamp(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.known_on("2017-08-16") == date(2017, 8, 16)
    assert cli.known_on("2017-08-16T12:00:00+00:00").hour == 12
    with pytest.raises(SystemExit):
        cli.main(["claims", "--known-on", "Aug 16"])
    assert "expected a date as YYYY-MM-DD" in capsys.readouterr().err


# --- the README's examples ---------------------------------------------------------------


def _readme_commands() -> list[list[str]]:
    """Every `sanctuarywatch sql|claims|compare|sources|export` line of the README."""
    found = []
    for line in README.splitlines():
        if re.match(r"sanctuarywatch (sql|claims|compare|sources|export) ", line + " "):
            found.append(shlex.split(line, comments=True)[1:])
    return found


README_COMMANDS = _readme_commands()


def test_the_readme_has_examples_to_run() -> None:
    kinds = {argv[0] for argv in README_COMMANDS}
    assert kinds == {"sql", "claims", "compare", "sources", "export"}


@pytest.mark.parametrize("argv", README_COMMANDS, ids=" ".join)
def test_each_readme_example_answers_on_the_demo(
    argv: list[str], sw: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    if "--claims" in argv:  # the README's own file name, with one claim of the bundled shape
        (tmp_path / argv[argv.index("--claims") + 1]).write_text(
            "claims:\n  - {id: mine, quote: q, said_by: me, said_on: 2017-08-16, article: a,"
            " stated: s, comparison: c, checks: [{kind: unverifiable, would_need: x}]}\n",
            encoding="utf-8",
        )
    out = sw(*argv)
    if argv[0] == "export":
        written = duckdb.sql(f"SELECT count(*) FROM '{tmp_path / argv[2]}'").fetchall()
        assert written[0][0] > 0
        return
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) >= 2, out  # a header and at least one row (or JSON)
    if argv[0] == "claims" and "--known-on" in argv:
        assert "\tsupported\t" in out  # the day the demo's data was recorded: known


def _readme_sql() -> list[str]:
    """The SQL the README quotes inline, `SELECT ...`."""
    return re.findall(r"`(SELECT [^`]+)`", README)


@pytest.mark.parametrize("query", _readme_sql())
def test_each_readme_query_has_rows_and_no_zero_count(query: str, sw: Run) -> None:
    lines = sw("sql", query).splitlines()
    assert len(lines) >= 2
    assert lines[1].split("\t")[0] not in ("0", "")


def test_the_readme_python_answers_read_only(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each expression of the README's Python block, run where the demo's warehouse is the
    default file: none is empty, and the warehouse file is not changed."""
    block = README.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(demo_db.parent.parent)
    monkeypatch.delenv(warehouse.DB_ENV, raising=False)
    before = demo_db.stat().st_mtime_ns
    scope: dict[str, object] = {}
    for node in ast.parse(block).body:
        code = ast.Module([node], type_ignores=[])
        if isinstance(node, ast.Expr):
            value = eval(compile(ast.Expression(node.value), "README", "eval"), scope)
            assert value not in (None, 0, [], ""), ast.unparse(node)
            if "# 447" in block.splitlines()[node.lineno - 1]:
                assert value == 447
        else:
            exec(compile(code, "README", "exec"), scope)
    con = scope["con"]
    assert isinstance(con, duckdb.DuckDBPyConnection)
    con.close()
    assert demo_db.stat().st_mtime_ns == before
