"""Shared fixtures. The suite never touches the network: pytest-socket blocks every socket
but loopback (pyproject addopts) and pytest-vcr runs with record mode "none", so a missing
cassette fails instead of going online."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import httpx
import pytest

from sanctuarywatch.errors import LayoutError
from sanctuarywatch.http import Fetched
from sanctuarywatch.load import warehouse
from sanctuarywatch.load.archive import ARCHIVE_TIME_HEADER, Archive, ArchiveTransport

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


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo warehouse as a file, its archive beside it (a module that needs another
    shape of it defines its own)."""
    from sanctuarywatch.present import demo

    path = tmp_path_factory.mktemp("demo") / "warehouse" / "sanctuarywatch.duckdb"
    con = warehouse.connect(path)
    demo.run(con, Archive.beside(path))
    con.close()
    return path


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


@pytest.fixture
def vcr_cassette_name(request: pytest.FixtureRequest) -> str:
    """The cassette a test replays: tests/cassettes/<module>/<test name>.yaml, or the name its
    mark gives (`@pytest.mark.vcr(cassette="...")`), so a test renamed after it was recorded
    keeps its recording (`make record` writes it there again). Parametrized cases share one."""
    marker = request.node.get_closest_marker("vcr")
    named = marker.kwargs.get("cassette") if marker else None
    return str(named or request.node.originalname)


@contextmanager
def layout_break(source: str, expected: str) -> Iterator[pytest.ExceptionInfo[LayoutError]]:
    """The block must fail with the project's LayoutError naming the source and saying what
    was expected (`expected` is part of that), never a traceback of a KeyError or the like.
    Gives the caught error, for what a test checks of it after the block."""
    with pytest.raises(LayoutError) as caught:
        yield caught
    assert caught.value.source == source, str(caught.value)
    assert expected in caught.value.expected, str(caught.value)
    assert f"[{source}]" in str(caught.value) and expected in str(caught.value)


class Twice(NamedTuple):
    """Two runs of one collection, and each versioned table's row count after each run."""

    first: Any  # collect.run.RunResult
    second: Any
    versions_after_first: dict[str, int]
    versions_after_second: dict[str, int]

    def assert_idempotent(self) -> None:
        """The first run wrote versions; the second saw each of them again and wrote none."""
        assert self.first.counts.new == sum(self.versions_after_first.values()) > 0
        assert self.second.counts.written == 0
        assert self.second.counts.unchanged == self.first.counts.new
        assert self.versions_after_second == self.versions_after_first


def versions(con: duckdb.DuckDBPyConnection, tables: Iterable[str]) -> dict[str, int]:
    """Rows of each table's version history (a new version is a new row)."""
    return {
        table: int(con.execute(f"SELECT count(*) FROM {table}_versions").fetchall()[0][0])
        for table in tables
    }


class ReplayedNow(ArchiveTransport):
    """The archive's answers as if fetched now (no recorded fetch time): a second run is a
    later observation of the same data, as a job's next run is."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        del response.headers[ARCHIVE_TIME_HEADER]
        return response


def collect_demo_twice(con: duckdb.DuckDBPyConnection, archive: Archive, slug: str) -> Twice:
    """The source's collection of the demo (`present.demo.PLAN`) run twice on the bundled
    recorded archive, for idempotence tests: the same data loaded again writes no version."""
    from sanctuarywatch.collect.run import collect
    from sanctuarywatch.http import HttpClient
    from sanctuarywatch.present import demo
    from sanctuarywatch.sources import get

    step = next(step for step in demo.PLAN if step.slug == slug)
    tables = get(slug).TABLES
    replay = ReplayedNow(*demo.bundled_archives(), cited_as=demo.CITED_AS)
    with HttpClient(transport=replay) as client:
        first = collect(con, archive, client, slug, step.options)
        after_first = versions(con, tables)
        second = collect(con, archive, client, slug, step.options)
    return Twice(first, second, after_first, versions(con, tables))
