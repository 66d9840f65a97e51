"""Bad input through the command line (issue 16, items 5-8): every case exits non-zero with one
clear line naming the file, line or key and what was expected; no traceback; the warehouse is
as it was (same bytes; for `collect`, which records its failed run, the same data rows).

The table is the figure RELIABILITY.md quotes ("inputs tried N, clear errors N ...").
"""

# ruff: noqa: E501  (one case per line reads as a table)

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import duckdb
import pytest

from sanctuarywatch import cli
from sanctuarywatch.errors import LayoutError
from sanctuarywatch.http import Fetched
from sanctuarywatch.load import warehouse
from sanctuarywatch.load.archive import ARCHIVE_ENV, Archive
from sanctuarywatch.present import demo
from sanctuarywatch.scheduling import daemon
from sanctuarywatch.sources import published_figures, us_doj_press_releases

BUNDLED_FIGURES = published_figures.bundled_path().read_text(encoding="utf-8").splitlines()
HEADER, ROW = BUNDLED_FIGURES[0], BUNDLED_FIGURES[3]  # miami_dade_county_homicides_2016
CLAIM = """\
claims:
  - id: mine
    quote: q
    said_by: me
    said_on: 2017-08-16
    article: a.txt
    stated: x
    comparison: c
    checks:
      - {kind: count, jurisdiction: agency:ILCPD0000, offense: murder, start: 2017-01-01, through: 2017-06-30, stated: 4, relation: more_than}
"""
CHECK = CLAIM.splitlines()[-1]
CRON = 'jobs:\n  pf:\n    schedule: "0 6 * * *"\n    run: published_figures\n'
JOB = "sources:\n  - published_figures\nclaims: true\n"


class Case(NamedTuple):
    """Files to write (name -> bytes), the arguments, and words the error line must hold."""

    files: dict[str, bytes]
    argv: list[str]
    expected: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()


def claim(old: str, new: str) -> dict[str, bytes]:
    return {"mine.yaml": CLAIM.replace(old, new).encode()}


def cron(text: str = CRON, job: bytes = JOB.encode()) -> dict[str, bytes]:
    return {"cron.yaml": text.encode(), "jobs/published_figures.yaml": job}


def figures(row: str) -> dict[str, bytes]:
    return {"figures.csv": f"{HEADER}\n{row}\n".encode()}


CLAIMS = ["claims", "--claims", "mine.yaml"]
CHECK_CRON = ["daemon", "--check", "--cron", "cron.yaml"]
COLLECT = ["collect", "published_figures"]
FIGURES_ENV = ((published_figures.PATH_ENV, "figures.csv"),)
TRUNCATED = ["--db", "truncated.duckdb"]
MISSING = ["--db", "nowhere/none.duckdb"]
COMPARE = ["compare", "murder", "agency:ILCPD0000", "agency:FL0130000"]

CASES: dict[str, Case] = {
    # claims files
    "claims not UTF-8": Case(
        {"mine.yaml": CLAIM.replace("quote: q", "quote: caf\xe9").encode("latin-1")},
        CLAIMS,
        ("mine.yaml, line 3", "expected UTF-8"),
    ),
    "stated: lots": Case(claim("stated: 4", "stated: lots"), CLAIMS, ("line 10", "'mine'", "checks[0].stated", "expected a number", "'lots'")),
    "through: 2017-06-31": Case(claim("2017-06-30", "2017-06-31"), CLAIMS, ("checks[0].through", "'2017-06-31'")),
    "relation: morethan": Case(claim("more_than", "morethan"), CLAIMS, ("checks[0].relation", "'morethan'", "'more_than'")),
    "offence: (unknown key)": Case(claim("offense:", "offence:"), CLAIMS, ("checks[0].offence", "did you mean 'offense'")),
    "tolerance_pct: -50": Case(claim("relation: more_than", "relation: about, tolerance_pct: -50"), CLAIMS, ("tolerance_pct", ">= 0", "-50")),
    "unknown check kind": Case(claim("kind: count", "kind: cont"), CLAIMS, ("checks[0]", "unknown kind 'cont'")),
    "unknown offense in a check": Case(claim("offense: murder", "offense: murdr"), CLAIMS, ("checks[0].offense", "'murdr'")),
    "through before start": Case(claim("through: 2017-06-30", "through: 2016-06-30"), CLAIMS, ("checks[0]", "before 'start'")),
    "claim without a quote": Case(claim("    quote: q\n", ""), CLAIMS, ("'mine'", "quote", "missing")),
    "a key twice in a claim": Case(claim("    article: a.txt\n", "    article: a.txt\n    article: b.txt\n"), CLAIMS, ("line 7", "'article' appears twice")),
    "claims --id nosuch": Case({}, ["claims", "--id", "nosuch"], ("--id", "'nosuch'", "dnainfo-437")),
    # cron.yaml and jobs/
    "cron.yaml not UTF-8": Case({**cron(), "cron.yaml": (CRON + "    description: caf\xe9\n").encode("latin-1")}, CHECK_CRON, ("cron.yaml, line 5", "expected UTF-8")),
    "job file not UTF-8": Case(cron(job="description: caf\xe9\n".encode("latin-1") + JOB.encode()), CHECK_CRON, ("published_figures.yaml, line 1", "expected UTF-8")),
    'page_size: "abc"': Case(cron(CRON + '    options: {page_size: "abc"}\n'), CHECK_CRON, ("'options.page_size'", "whole number", "'abc'")),
    "page_size: 0": Case(cron(CRON + "    options: {page_size: 0}\n"), CHECK_CRON, ("'options.page_size'", ">= 1")),
    "repull_days: -3": Case(cron(CRON + "    options: {repull_days: -3}\n"), CHECK_CRON, ("'options.repull_days'", ">= 0", "-3")),
    "extra: 5": Case(cron(CRON + "    options: {extra: 5}\n"), CHECK_CRON, ("'options.extra'", "mapping", "5")),
    "start: 2017-06-31 in a job": Case(cron(CRON + "    options: {start: 2017-06-31}\n"), CHECK_CRON, ("'options.start'", "'2017-06-31'")),
    "duplicate job key": Case(cron(CRON + CRON.removeprefix("jobs:\n")), CHECK_CRON, ("cron.yaml, line 5", "'pf' appears twice")),
    "cron line that never fires": Case(cron(CRON.replace("0 6 * * *", "0 6 31 2 *")), CHECK_CRON, ("'schedule'", "never fires")),
    "misfire_grace_minutes: true": Case(cron(CRON + "    misfire_grace_minutes: true\n"), CHECK_CRON, ("'misfire_grace_minutes'", ">= 0")),
    # published figures (collect records its failed run; the figures stay as they were)
    "published figures: short row": Case(figures("shortrow,a,b"), COLLECT, ("[published_figures]", "figures.csv, line 2", "'shortrow'", "column 'measure'"), FIGURES_ENV),
    "published figures: value nan": Case(figures(ROW.replace(",231,", ",nan,")), COLLECT, ("line 2", "column 'value'", "finite", "'nan'"), FIGURES_ENV),
    "published figures: value -inf": Case(figures(ROW.replace(",231,", ",-inf,")), COLLECT, ("column 'value'", "finite", "'-inf'"), FIGURES_ENV),
    "published figures: reversed period": Case(figures(ROW.replace("2016-01-01,2016-12-31", "2016-12-31,2016-01-01")), COLLECT, ("line 2", "period_end 2016-01-01 is before period_start 2016-12-31"), FIGURES_ENV),
    "published figures: bad date": Case(figures(ROW.replace("2017-02-01", "2017-02-30")), COLLECT, ("column 'published_on'", "'2017-02-30'"), FIGURES_ENV),
    "published figures: not UTF-8": Case({"figures.csv": (HEADER + "\n" + ROW.replace("early 2017", "d\xe9but 2017") + "\n").encode("latin-1")}, COLLECT, ("[published_figures]", "UTF-8"), FIGURES_ENV),
    # export and sql
    "export x.xlsx": Case({}, ["export", "SELECT 1", "x.xlsx"], ("x.xlsx", "'xlsx'", ".csv or .parquet")),
    "export to a folder": Case({"folder/keep": b""}, ["export", "SELECT 1", "folder"], ("folder", "is a folder", ".csv or .parquet")),
    "export without extension": Case({}, ["export", "SELECT 1", "sub/out"], ("sub/out", "(no extension)")),
    "export a statement": Case({}, ["export", "DROP TABLE runs", "out.csv"], ("one SELECT", "DROP TABLE runs")),
    "export reads a file": Case({}, ["export", "SELECT * FROM read_text('/etc/hostname')", "out.csv"], ("/etc/hostname", "disabled")),
    'sql ""': Case({}, ["sql", ""], ("sql", "expected a query", "empty")),
    "sql reads a system file": Case({}, ["sql", "SELECT * FROM read_text('/etc/hostname')"], ("/etc/hostname", "disabled")),
    "sql COPY over a file": Case({}, ["sql", "COPY (SELECT 1) TO 'copied.csv'"], ("copied.csv", "disabled")),
    "sql ATTACH": Case({}, ["sql", "ATTACH 'other.duckdb'"], ("other.duckdb", "disabled")),
    "sql error holding [/x]": Case({}, ["sql", "SELECT * FROM \"[/x]\""], ("[/x]", "does not exist")),
    "sql --max-rows 0": Case({}, ["sql", "SELECT 1", "--max-rows", "0"], ("--max-rows", ">= 1")),
    # compare
    "compare 0001-01-01 to 9999-12-31": Case({}, [*COMPARE, "--start", "0001-01-01", "--end", "9999-12-31"], ("--start 0001-01-01", "between 1900-01-01 and 2100-12-31")),
    "compare murdr": Case({}, ["compare", "murdr", "agency:ILCPD0000", "agency:FL0130000", "--start", "2017-01-01", "--end", "2018-01-01"], ("'murdr'", "murder, homicide")),
    "compare end before start": Case({}, [*COMPARE, "--start", "2018-01-01", "--end", "2017-01-01"], ("--end 2017-01-01", "start before end")),
    # a missing warehouse is never created by a command that only reads
    **{
        f"{name} without a warehouse": Case({}, [*MISSING, *argv], ("no warehouse at nowhere/none.duckdb", "sanctuarywatch demo"))
        for name, argv in {
            "claims": ["claims"],
            "sources": ["sources"],
            "report": ["report", "--out", "r.html"],
            "compare": [*COMPARE, "--start", "2017-01-01", "--end", "2018-01-01"],
            "export": ["export", "SELECT 1", "out.csv"],
            "sql": ["sql", "SELECT 1"],
        }.items()
    },
    # a warehouse file cut short
    **{
        f"{name} on a truncated warehouse": Case({}, [*TRUNCATED, *argv], ("truncated.duckdb", "damaged or truncated"))
        for name, argv in {
            "claims": ["claims"],
            "sources": ["sources"],
            "report": ["report", "--out", "r.html"],
            "sql": ["sql", "SELECT max(title) FROM us_doj_press_releases"],
            "rebuild": ["rebuild"],  # from the demo's raw archive ($SANCTUARYWATCH_ARCHIVE)
        }.items()
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo warehouse as a file, and a copy of it cut short."""
    where = tmp_path_factory.mktemp("warehouse")
    path = where / "sanctuarywatch.duckdb"
    con = warehouse.connect(path)
    demo.run(con, Archive.beside(path))
    con.close()
    (where / "truncated.duckdb").write_bytes(shortest_that_opens(path.read_bytes(), where))
    return path


def shortest_that_opens(data: bytes, where: Path) -> bytes:
    """The shortest prefix (in steps of 5%) that DuckDB still opens: the catalog is there and
    most data blocks are not, so commands fail mid-query (an open that fails was always a
    clean error)."""
    probe, kept = where / "probe.duckdb", data
    for percent in range(90, 0, -5):
        candidate = data[: len(data) * percent // 100]
        probe.write_bytes(candidate)
        try:
            duckdb.connect(str(probe), read_only=True).close()
        except duckdb.Error:
            break
        kept = candidate
    probe.unlink()
    return kept


@pytest.fixture
def workdir(tmp_path: Path, demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in ("DB", "CLAIMS", "CRON", "PUBLISHED_FIGURES", "REPLAY", "ARCHIVE"):
        monkeypatch.delenv(f"SANCTUARYWATCH_{name}", raising=False)
    monkeypatch.setenv(warehouse.DB_ENV, str(demo_db))
    monkeypatch.setenv(ARCHIVE_ENV, str(Archive.beside(demo_db).root))
    shutil.copy(demo_db.with_name("truncated.duckdb"), tmp_path / "truncated.duckdb")
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "absent"


def data_rows(path: Path) -> dict[str, int]:
    """Rows of every versioned table and of the ledger of record."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [f"{t}_versions" for t in warehouse.versioned_tables(con)]
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}  # type: ignore[index]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """cli.main as a user runs it: argparse's own errors exit 2 through SystemExit."""
    try:
        code = cli.main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("name", CASES)
def test_bad_input_is_one_clear_line_and_changes_nothing(
    name: str,
    workdir: Path,
    demo_db: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = CASES[name]
    for relative, data in case.files.items():
        (workdir / relative).parent.mkdir(parents=True, exist_ok=True)
        (workdir / relative).write_bytes(data)
    for key, value in case.env:
        monkeypatch.setenv(key, value)
    watched = {p: digest(p) for p in (demo_db, workdir / "truncated.duckdb")}
    rows = data_rows(demo_db)
    files = sorted(p.relative_to(workdir) for p in workdir.rglob("*"))

    code, err = run(case.argv, capsys)

    assert code != 0, err
    assert "Traceback" not in err
    line = next(line for line in err.splitlines() if "error:" in line)
    for expected in case.expected:
        assert expected in line, (expected, err)
    assert data_rows(demo_db) == rows
    if case.argv[:1] != ["collect"]:  # collect records its failed run in `runs`
        assert {p: digest(p) for p in watched} == watched
    assert sorted(p.relative_to(workdir) for p in workdir.rglob("*")) == files  # nothing made


def test_deeply_nested_json_from_the_doj_api_is_a_layout_error() -> None:
    deep = b"[" * 1_000_000 + b"]" * 1_000_000
    page = Fetched(
        us_doj_press_releases.SLUG,
        "https://www.justice.gov/api/v1/press_releases.json",
        200,
        "application/json",
        deep,
        datetime(2026, 1, 1, tzinfo=UTC),
    )
    with pytest.raises(LayoutError, match=r"news API envelope.*RecursionError"):
        us_doj_press_releases.parse(page, "releases")


def test_error_text_is_printed_literally(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(["--db", "a[/x]b[red].duckdb", "sources"], capsys)
    assert code == 1
    assert err.startswith("error: no warehouse at a[/x]b[red].duckdb:")
    code, err = run(["sql", "SELECT '[/x] [bold]' AS \"[/y]\""], capsys)
    assert code == 0 and not err


def test_run_exits_non_zero_when_no_source_succeeded(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first run fails; the second only backs off, which is no success either."""
    for relative, data in {**cron(), **figures("shortrow,a,b")}.items():
        (workdir / relative).parent.mkdir(parents=True, exist_ok=True)
        (workdir / relative).write_bytes(data)
    monkeypatch.setenv(published_figures.PATH_ENV, "figures.csv")
    argv = ["--db", "own.duckdb", "run", "pf", "--cron", "cron.yaml"]
    assert run(argv, capsys)[0] == 1
    code, err = run(argv, capsys)
    assert code == 1
    assert "error: job 'pf': no source succeeded (backing off: published_figures)" in err


def test_sql_reaches_files_only_when_allowed(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    query = "COPY (SELECT count(*) AS n FROM il_chicago_crimes) TO 'allowed.csv'"
    assert run(["sql", query, "--allow-files"], capsys)[0] == 0
    assert (workdir / "allowed.csv").read_text().split() == ["n", "8922"]
    code, _ = run(["export", "SELECT * FROM 'allowed.csv'", "back.csv", "--allow-files"], capsys)
    assert code == 0 and (workdir / "back.csv").read_text().split() == ["n", "8922"]
    help_text = subprocess.run(
        [sys.executable, "-m", "sanctuarywatch", "sql", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "--allow-files" in help_text and "enable_external_access" in help_text


def test_the_snapshot_is_locked_the_same_way(demo_db: Path, tmp_path: Path) -> None:
    """While the live file cannot be opened, readers get the snapshot, file access off too."""
    live = tmp_path / "sanctuarywatch.duckdb"
    live.write_bytes(b"not a database")
    daemon.snapshot_path(live).parent.mkdir()
    shutil.copy(demo_db, daemon.snapshot_path(live))
    con = daemon.open_for_reading(live, read_only=True, files=False)
    try:
        assert con.execute("SELECT count(*) FROM il_chicago_crimes").fetchone() == (8922,)
        with pytest.raises(duckdb.PermissionException):
            con.execute("SELECT * FROM read_text('/etc/hostname')")
        with pytest.raises(duckdb.Error, match="locked"):
            con.execute("SET enable_external_access = true")
    finally:
        con.close()


def test_every_check_kind_has_a_schema_and_every_offense_a_query() -> None:
    from sanctuarywatch import schemas
    from sanctuarywatch.query import claims

    assert set(schemas.CHECK_KINDS) == set(claims.CHECKS)
    sql = "".join(p.read_text() for p in warehouse.schema_dir().glob("views/*.sql"))
    assert all(f"'{offense}'" in sql for offense in schemas.OFFENSES)


def test_the_bundled_files_fit_their_schemas() -> None:
    from sanctuarywatch.query import claims
    from sanctuarywatch.scheduling import schedule

    assert len(claims.load_claims()) >= 19
    assert schedule.load(Path(__file__).resolve().parents[1] / "cron.yaml").jobs
    fetched = published_figures.read_file(published_figures.bundled_path(), datetime.now(UTC))
    assert len(published_figures.parse(fetched, "figures")) == len(BUNDLED_FIGURES) - 1
