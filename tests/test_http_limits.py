"""The HTTP layer's hard limits, against real loopback servers (issue 16, items 2 and 3).

Secrets never leave for another host: a cross-host redirect is an error and nothing reaches
the other host. The deadline is a wall-clock limit over connect, headers, body and retries.
A name that does not resolve fails at once, without retries, saying the demo works offline.
A secret never appears in a connection error.

Every server here is the test's own, on 127.0.0.1 (and `localhost`, the "other host"); each
case is bounded by a deadline of 1 s or by small timeouts, and the slow servers stop sending
after a few seconds whatever the client does.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import TESTS

from sanctuarywatch import cli, http
from sanctuarywatch.errors import FetchError
from sanctuarywatch.http import HttpClient, HttpSettings

sys.path.insert(0, str(TESTS.parent / "scripts"))
from loopback import running
from loopback_faults import Fault, FaultPlan, serve_faults

TOKEN = "sw-limits-app-token-5c2e81"
KEY = "sw-limits-api-key-0d7a43"
DEADLINE = 1.0
Answer = Callable[[str], tuple[int, dict[str, str]]]  # path -> status, headers
TRICKLE = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]"


def settings(**changes: Any) -> HttpSettings:
    """Small limits, so every case ends within seconds; the deadline is the one under test."""
    values: dict[str, Any] = {
        "connect_timeout": 1.0,
        "read_timeout": 0.4,
        "deadline": DEADLINE,
        "retries": 5,
        "retry_sleep_budget": 10.0,
        "backoff_factor": 0.05,
    }
    return HttpSettings(**{**values, **changes})


def timed_failure(call: Callable[[], object]) -> tuple[float, FetchError]:
    """Run `call`, expecting a FetchError; return how long it took and the error."""
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        call()
    return time.monotonic() - started, caught.value


@dataclass
class Recorder:
    """What a loopback server was asked: each request's path and headers, in order."""

    answer: Answer
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                recorder.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                status, headers = recorder.answer(self.path)
                self.send_response(status)
                for name, value in {**headers, "Content-Length": "2"}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(b"[]")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@contextlib.contextmanager
def recording(answer: Answer) -> Iterator[tuple[str, Recorder]]:
    recorder = Recorder(answer)
    with running(recorder.handler()) as url:
        yield url, recorder


def ok(path: str) -> tuple[int, dict[str, str]]:
    return 200, {"Content-Type": "application/json"}


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SANCTUARYWATCH_SOCRATA_APP_TOKEN", TOKEN)
    value = http.secret_from_env("SANCTUARYWATCH_SOCRATA_APP_TOKEN")
    assert value == TOKEN
    return value


SECRETS = {
    "socrata-token-header": ({"X-App-Token": TOKEN}, {}),
    "fbi-key-header": ({"X-Api-Key": KEY}, {}),
    "key-query-parameter": ({}, {"api_key": KEY}),
}


@pytest.mark.parametrize("where", SECRETS)
def test_a_cross_host_redirect_is_an_error_and_no_secret_leaves(where: str, token: str) -> None:
    headers, params = SECRETS[where]
    with recording(ok) as (other, elsewhere):
        port = other.rsplit(":", 1)[1]

        def away(path: str) -> tuple[int, dict[str, str]]:
            return 302, {"Location": f"http://localhost:{port}{path}"}

        with recording(away) as (origin, _), HttpClient(settings()) as client:
            url = origin + "/resource/ijzp-q8t2.json"
            _, error = timed_failure(lambda: client.get("test", url, params, headers))
    assert elsewhere.seen == []
    message = str(error)
    assert "127.0.0.1" in message and "localhost" in message and "redirect" in message
    assert TOKEN not in message and KEY not in message


def test_a_same_host_redirect_is_followed_with_its_token(token: str) -> None:
    def moved(path: str) -> tuple[int, dict[str, str]]:
        return (302, {"Location": "/new.json"}) if path == "/old.json" else ok(path)

    with recording(moved) as (origin, server), HttpClient(settings()) as client:
        fetched = client.get("test", origin + "/old.json", headers={"X-App-Token": token})
    assert fetched.status == 200 and [path for path, _ in server.seen] == ["/old.json", "/new.json"]
    assert server.seen[1][1]["x-app-token"] == TOKEN


@pytest.mark.parametrize(
    ("origin", "target", "followed"),
    [
        ("http://data.test/a", "https://data.test/b", True),
        ("https://data.test/a", "https://data.test:443/b", True),
        ("https://data.test/a", "http://data.test/a", False),
        ("http://data.test/a", "http://data.test:8080/a", False),
        ("http://data.test/a", "http://www.data.test/a", False),
    ],
)
def test_redirects_are_followed_only_on_the_same_host(
    origin: str, target: str, followed: bool
) -> None:
    assert http.same_site(httpx.URL(origin), httpx.URL(target)) is followed


class Trickle(BaseHTTPRequestHandler):
    """Sends a whole answer one byte every 50 ms (4 s in all): each read gets a byte well
    within the read timeout, so only a deadline over the whole request stops it."""

    def do_GET(self) -> None:
        with contextlib.suppress(OSError):
            for byte in TRICKLE:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.05)
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_the_deadline_bounds_headers_sent_a_byte_at_a_time() -> None:
    with running(Trickle) as url, HttpClient(settings()) as client:
        elapsed, error = timed_failure(lambda: client.get("test", url + "/slow.json"))
    assert elapsed < DEADLINE + 0.5
    assert "no complete answer within 1 s" in str(error)


def test_the_deadline_bounds_retries_of_a_stalled_server() -> None:
    plan = FaultPlan({n: Fault("stall", seconds=2.0) for n in range(10)})
    route = lambda path, params: (200, "application/json", b"[]")  # noqa: E731
    with serve_faults(route, plan) as url, HttpClient(settings()) as client:
        elapsed, error = timed_failure(lambda: client.get("test", url + "/stalled.json"))
    assert elapsed < DEADLINE + 0.5
    assert "no complete answer within 1 s" in str(error)


def test_the_deadline_bounds_a_retry_after_wait() -> None:
    busy = Fault("status", status=503, headers={"Retry-After": "4"}, body=b"busy")
    route = lambda path, params: (200, "application/json", b"[]")  # noqa: E731
    with serve_faults(route, FaultPlan({0: busy})) as url, HttpClient(settings()) as client:
        elapsed, error = timed_failure(lambda: client.get("test", url + "/busy.json"))
    assert elapsed < DEADLINE + 0.5
    assert "within 1 s" in str(error)


def unresolvable(host: str, *args: Any, **kwargs: Any) -> Any:
    """socket.getaddrinfo as it answers offline (the same wherever the suite runs)."""
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def test_an_unresolvable_host_fails_at_once_saying_the_demo_works_offline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lookups: list[str] = []

    def offline(host: str, *args: Any, **kwargs: Any) -> Any:
        lookups.append(host)
        return unresolvable(host)

    monkeypatch.setattr(socket, "getaddrinfo", offline)
    url = "http://nosuchhost.invalid/resource/ijzp-q8t2.json"
    with HttpClient(settings(deadline=30.0, backoff_factor=0.2)) as client:
        elapsed, error = timed_failure(lambda: client.get("test", url, {"api_key": KEY}))
    message = str(error)
    assert lookups == ["nosuchhost.invalid"] and elapsed < 1.0
    assert "cannot reach nosuchhost.invalid" in message and "sanctuarywatch demo" in message
    assert f"{url}?api_key=REDACTED" in message and KEY not in message and "\n" not in message


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_connection_error_never_shows_a_secret(token: str) -> None:
    url = f"http://127.0.0.1:{closed_port()}/resource/ijzp-q8t2.json"
    with HttpClient(settings(retries=1)) as client:
        _, error = timed_failure(
            lambda: client.get("test", url, {"api_key": token}, {"X-App-Token": token})
        )
    assert "ConnectError" in str(error) and "api_key=REDACTED" in str(error)
    assert TOKEN not in str(error) and TOKEN not in repr(error.args)


def test_the_command_line_shows_an_offline_failure_on_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", unresolvable)
    monkeypatch.setenv("COLUMNS", "60")
    monkeypatch.chdir(tmp_path)
    url = "http://nosuchhost.invalid/resource/ijzp-q8t2.json"
    argv = ["--db", str(tmp_path / "w.duckdb"), "collect", "il_chicago_crimes", "--base-url", url]
    assert cli.main(argv) == 1
    # other lines on stderr: tracebacks of earlier tests' stalled servers, as their clients left
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and errors[0].startswith("error: [il_chicago_crimes] no response from")
    assert url in errors[0] and errors[0].endswith("`sanctuarywatch demo` works offline")
