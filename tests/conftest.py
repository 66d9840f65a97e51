"""Shared fixtures. The suite never touches the network: pytest-socket blocks every socket
but loopback (pyproject addopts) and pytest-vcr runs with record mode "none", so a missing
cassette fails instead of going online."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sanctuarywatch.http import Fetched
from sanctuarywatch.load import warehouse
from sanctuarywatch.load.archive import Archive

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures"
SHARED_DATA = TESTS.parents[1] / "shared" / "data"
SECRET_QUERY = [("api_key", "REDACTED"), ("API_KEY", "REDACTED"), ("$$app_token", "REDACTED")]


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    return {
        "record_mode": "none",
        "filter_headers": [("X-App-Token", "REDACTED"), ("X-Api-Key", "REDACTED")],
        "filter_query_parameters": SECRET_QUERY,
        "match_on": ["method", "scheme", "host", "port", "path", "query"],
        "decode_compressed_response": True,
    }


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    return str(TESTS / "cassettes" / request.module.__name__.split(".")[-1])


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = warehouse.connect(":memory:")
    yield connection
    connection.close()


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    return Archive(tmp_path / "raw")


def fetched(
    source: str,
    body: bytes | str,
    url: str = "http://127.0.0.1/test",
    content_type: str = "application/json",
    status: int = 200,
) -> Fetched:
    """A Fetched as the HTTP layer would hand it to a parser (for parse tests on saved files)."""
    data = body.encode() if isinstance(body, str) else body
    return Fetched(source, url, status, content_type, data, datetime(2026, 1, 1, tzinfo=UTC))


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
