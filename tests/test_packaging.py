"""The built wheel carries its schema, bundled archive and claims, and works from anywhere."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_wheel_works_outside_the_checkout(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path / "dist"),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheel = next((tmp_path / "dist").glob("sanctuarywatch-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "sanctuarywatch/_warehouse/001_core.sql" in names
    assert "sanctuarywatch/data/claims.yaml" in names
    assert any(
        n.startswith("sanctuarywatch/data/demo_archive/il_chicago_crimes/blobs/") for n in names
    )
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "COLUMNS": "200"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sanctuarywatch, sys; assert 'site' in sanctuarywatch.__file__, "
            "sanctuarywatch.__file__;"
            "from sanctuarywatch.cli import main; sys.exit(main(['demo']))",
        ],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "447" in result.stdout and (elsewhere / "warehouse" / "sanctuarywatch.duckdb").exists()
