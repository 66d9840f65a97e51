"""The command line, run as a user runs it: a subprocess, in an empty directory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest


def sw(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sanctuarywatch", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        timeout=120,
    )


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("demo")
    result = sw("demo", cwd=where)
    assert result.returncode == 0, result.stderr
    (where / "demo.out").write_text(result.stdout)
    return where


def test_demo_builds_the_default_warehouse_and_prints_the_comparison(demo_dir: Path) -> None:
    out = (demo_dir / "demo.out").read_text()
    assert (demo_dir / "warehouse" / "sanctuarywatch.duckdb").exists()
    assert "loaded il_chicago_crimes: 8,922 rows" in out
    line = next(line for line in out.splitlines() if "Jan 1 - Aug 16, 2017 vs 2016" in line)
    assert "447" in line and "456" in line


def test_sql_prints_a_table(demo_dir: Path) -> None:
    result = sw(
        "sql",
        "SELECT year, count(*) AS victims FROM il_chicago_crimes "
        "GROUP BY 1 ORDER BY 2 DESC LIMIT 1",
        cwd=demo_dir,
    )
    assert result.returncode == 0, result.stderr
    assert "2016" in result.stdout and "786" in result.stdout


def test_sources_shows_last_success_and_rows(demo_dir: Path) -> None:
    result = sw("sources", cwd=demo_dir)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if "il_chicago_crimes" in line)
    assert "8922" in line


def test_db_option_and_environment_choose_the_file(tmp_path: Path, demo_dir: Path) -> None:
    target = tmp_path / "elsewhere.duckdb"
    missing = sw("--db", str(target), "sources", cwd=tmp_path)
    assert missing.returncode == 1  # a command that only reads never makes a warehouse
    assert missing.stderr.startswith(f"error: no warehouse at {target}: run `sanctuarywatch demo`")
    assert not target.exists()
    by_env = sw(
        "sql",
        "SELECT count(*) FROM il_chicago_crimes",
        cwd=tmp_path,
        env={"SANCTUARYWATCH_DB": str(demo_dir / "warehouse" / "sanctuarywatch.duckdb")},
    )
    assert "8922" in by_env.stdout


def test_errors_are_one_clear_line_and_exit_1(demo_dir: Path) -> None:
    result = sw("sql", "SELECT * FROM no_such_table", cwd=demo_dir)
    assert result.returncode == 1
    assert result.stderr.startswith("error:") and "no_such_table" in result.stderr
    assert "Traceback" not in result.stderr


def test_collect_against_an_unreachable_host_fails_cleanly(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a loopback port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = sw(
        "collect",
        "il_chicago_crimes",
        "--base-url",
        f"http://127.0.0.1:{port}/resource/x.json",
        cwd=tmp_path,
        env={"SANCTUARYWATCH_HTTP_RETRIES": "1"},
    )
    assert result.returncode == 1
    assert "il_chicago_crimes" in result.stderr and f"127.0.0.1:{port}" in result.stderr
    ledger = sw("sql", "SELECT status FROM runs", cwd=tmp_path)
    assert "failed" in ledger.stdout


def test_no_socket_leaves_this_machine_during_tests() -> None:
    from pytest_socket import SocketConnectBlockedError

    with pytest.warns(UserWarning, match=r"192\.0\.2\.1"), pytest.raises(SocketConnectBlockedError):
        socket.create_connection(("192.0.2.1", 80), timeout=1)
