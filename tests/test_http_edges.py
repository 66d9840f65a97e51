"""The HTTP layer's small rules, each on its edges (issue 17: mutants of http.py that the
fault matrix let live): settings from the environment, the redacting log records, which
redirects keep their secrets, the error a failed request becomes, and a cancelled deadline."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import httpx
import pytest

from sanctuarywatch import http
from sanctuarywatch.errors import FetchError
from sanctuarywatch.http import redaction

SECRET = "s3cr3t-edge-token"


@pytest.fixture
def known_secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("SW_EDGE_SECRET", SECRET)
    assert http.secret_from_env("SW_EDGE_UNSET", "SW_EDGE_SECRET") == SECRET
    yield SECRET


# ---- settings from the environment ---------------------------------------------------------


def test_settings_from_the_environment_override_only_what_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SANCTUARYWATCH_HTTP_RETRIES", raising=False)
    monkeypatch.delenv("SANCTUARYWATCH_HTTP_DEADLINE", raising=False)
    defaults = http.HttpSettings()
    assert http.HttpSettings.from_env() == defaults
    monkeypatch.setenv("SANCTUARYWATCH_HTTP_RETRIES", "2")
    assert http.HttpSettings.from_env().retries == 2
    assert http.HttpSettings.from_env().deadline == defaults.deadline
    monkeypatch.setenv("SANCTUARYWATCH_HTTP_DEADLINE", "7.5")
    both = http.HttpSettings.from_env()
    assert (both.retries, both.deadline) == (2, 7.5)
    monkeypatch.setenv("SANCTUARYWATCH_HTTP_RETRIES", "")  # set but empty: the default
    assert http.HttpSettings.from_env().retries == defaults.retries


def test_a_client_without_settings_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANCTUARYWATCH_HTTP_RETRIES", "1")
    with http.HttpClient() as client:
        assert client.settings.retries == 1


def test_a_secret_is_read_from_the_first_variable_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SW_EDGE_A", "  ")  # blank is unset
    monkeypatch.setenv("SW_EDGE_B", " first-set ")
    monkeypatch.setenv("SW_EDGE_C", "second-set")
    assert http.secret_from_env("SW_EDGE_A", "SW_EDGE_B", "SW_EDGE_C") == "first-set"
    assert http.redact("x first-set y") == f"x {http.REDACTED} y"
    assert http.secret_from_env("SW_EDGE_NONE") is None


def test_the_longest_secret_is_redacted_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SW_EDGE_SHORT", "abc-edge")
    monkeypatch.setenv("SW_EDGE_LONG", "abc-edge-longer")
    http.secret_from_env("SW_EDGE_SHORT")
    http.secret_from_env("SW_EDGE_LONG")
    assert http.redact("key=abc-edge-longer") == f"key={http.REDACTED}"


# ---- log records redacted whoever logs -----------------------------------------------------


@pytest.fixture
def fresh_factory() -> Iterator[None]:
    """The log record factory as Python starts, for installing the redaction again."""
    installed = logging.getLogRecordFactory()
    logging.setLogRecordFactory(logging.LogRecord)
    try:
        yield
    finally:
        logging.setLogRecordFactory(installed)


def test_redaction_is_installed_once_and_covers_other_libraries_loggers(
    fresh_factory: None, known_secret: str, caplog: pytest.LogCaptureFixture
) -> None:
    redaction._install_redacting_log_records()
    factory = logging.getLogRecordFactory()
    assert factory is not logging.LogRecord and getattr(factory, "redacts", False)
    redaction._install_redacting_log_records()
    assert logging.getLogRecordFactory() is factory  # not wrapped twice
    with caplog.at_level(logging.DEBUG, logger="httpx_retries.edge"):
        logging.getLogger("httpx_retries.edge").debug("GET %s?api_key=%s", "http://h/x", SECRET)
    (record,) = caplog.records
    assert record.getMessage() == f"GET http://h/x?api_key={http.REDACTED}"
    assert record.args is None


def test_with_no_secret_known_a_record_keeps_its_arguments(
    fresh_factory: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(redaction, "_secrets", set())
    redaction._install_redacting_log_records()
    with caplog.at_level(logging.INFO, logger="edge"):
        logging.getLogger("edge").info("page %d of %s", 3, "crimes")
    (record,) = caplog.records
    assert (record.msg, record.args) == ("page %d of %s", (3, "crimes"))


# ---- redirects: which keep their secrets -------------------------------------------------


@pytest.mark.parametrize(
    ("origin", "target", "same"),
    [
        ("http://a.example/x", "http://a.example/y", True),
        ("http://a.example:8080/x", "http://a.example:8080/y", True),
        ("http://a.example:8080/x", "http://a.example:8081/y", False),
        ("http://a.example/x", "http://b.example/x", False),
        ("http://a.example/x", "https://a.example/x", True),  # upgraded, default port
        ("http://a.example/x", "https://a.example:443/x", True),
        ("http://a.example/x", "https://a.example:8443/x", False),
        ("https://a.example/x", "http://a.example/x", False),  # a downgrade: in clear
        ("https://a.example/x", "https://a.example/y", True),
    ],
)
def test_same_site(origin: str, target: str, same: bool) -> None:
    assert http.same_site(httpx.URL(origin), httpx.URL(target)) is same


def test_a_redirect_to_another_host_names_both_hosts_and_keeps_the_key_out() -> None:
    request = httpx.Request("GET", "http://127.0.0.1:8123/data?key=k1")
    response = httpx.Response(302, request=request)
    following = httpx.Request("GET", f"http://localhost:9000/data?api_key={SECRET}")
    with pytest.raises(FetchError) as caught:
        http._refuse_other_hosts("src", "http://127.0.0.1:8123/data", response, following)
    message = str(caught.value)
    assert "from host 127.0.0.1:8123 to another host, localhost:9000 (" in message
    assert f"api_key={http.REDACTED}" in message and SECRET not in message
    assert "not followed" in message
    assert caught.value.status == 302
    http._refuse_other_hosts(  # the same host: followed, nothing raised
        "src", "x", response, httpx.Request("GET", "http://127.0.0.1:8123/next")
    )


def test_a_host_is_shown_with_its_port_when_the_url_has_one() -> None:
    assert http._host(httpx.URL("http://h.example:81/x")) == "h.example:81"
    assert http._host(httpx.URL("http://h.example/x")) == "h.example"


# ---- a request that got no answer ----------------------------------------------------------


def _chain(depth: int, root: BaseException) -> BaseException:
    """`root` wrapped `depth` times, as httpx wraps httpcore wraps the socket error."""
    exc = root
    for i in range(depth):
        outer = RuntimeError(f"wrapper {i}")
        outer.__cause__ = exc
        exc = outer
    return exc


def test_a_name_that_does_not_resolve_is_found_down_the_chain() -> None:
    assert http.cannot_resolve(socket.gaierror(-2, "whatever"))
    assert http.cannot_resolve(_chain(7, socket.gaierror(-2, "x")))  # the 8th link: seen
    assert not http.cannot_resolve(_chain(8, socket.gaierror(-2, "x")))  # past the bound
    assert http.cannot_resolve(_chain(2, OSError("Temporary failure in name resolution")))
    assert not http.cannot_resolve(_chain(2, OSError("Connection refused")))
    context = RuntimeError("outer")
    context.__context__ = socket.gaierror(-3, "x")
    assert http.cannot_resolve(context)


def test_the_error_of_a_failed_request_says_which_failure_it_was(known_secret: str) -> None:
    url = httpx.URL("http://nowhere.example/x")
    live = http.Deadline(60)
    refused = httpx.ConnectError(f"refused for {SECRET}")
    error = http._failure("src", "shown", url, refused, live)
    assert str(error).endswith(f"ConnectError: refused for {http.REDACTED}")
    lookup = httpx.ConnectError("[Errno -2] Name or service not known")
    error = http._failure("src", "shown", url, lookup, live)
    assert "cannot reach nowhere.example: its name does not resolve" in str(error)
    assert "`sanctuarywatch demo` works offline" in str(error)
    passed = http.Deadline(2.5)
    passed.cancel()
    error = http._failure("src", "shown", url, lookup, passed)
    assert "no complete answer within 2.5 s" in str(error)


# ---- the deadline --------------------------------------------------------------------------


def test_cancel_ends_the_deadline_and_shuts_every_socket_it_holds() -> None:
    deadline = http.Deadline(60)
    pairs = [socket.socketpair() for _ in range(2)]
    try:
        for ours, _ in pairs:
            deadline._sockets.append(ours)
        assert deadline.remaining() > 59 and not deadline.passed
        deadline.cancel()
        assert deadline.remaining() == 0.0 and deadline.passed
        for _, theirs in pairs:  # the far end of each shut socket reads end-of-stream
            theirs.settimeout(1)
            assert theirs.recv(1) == b""
    finally:
        for ours, theirs in pairs:
            ours.close()
            theirs.close()


# ---- politeness and replays ------------------------------------------------------------------


def test_a_source_asking_for_a_rate_gets_the_lower_of_its_and_the_configured() -> None:
    settings = http.HttpSettings(requests_per_second={"slow.example": 2.0})
    with http.HttpClient(settings) as client:
        client.set_rate("slow.example", 5.0)
        client.set_rate("new.example", 3.0)
        client.set_rate("new.example", 1.0)
    assert settings.requests_per_second == {"slow.example": 2.0, "new.example": 1.0}


class _Replay(httpx.MockTransport):
    replays_archive = True


def test_a_replayed_answer_keeps_its_capture_time_and_cites_the_upstream() -> None:
    captured = "2017-08-16T14:00:00+00:00"

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            content=b"[]",
            headers={
                "X-Archive-Fetched-At": captured,
                "X-Archive-Cited-As": "https://data.cityofchicago.org/x?api_key=" + SECRET,
            },
        )

    with http.HttpClient(transport=_Replay(answer)) as client:
        fetched = client.get("src", "http://127.0.0.1:9/x")
    assert fetched.fetched_at.isoformat() == captured
    assert fetched.url == f"https://data.cityofchicago.org/x?api_key={http.REDACTED}"


# ---- what an answer that cannot be used becomes ----------------------------------------------


def _answering(status: int, body: bytes) -> http.HttpClient:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body)

    settings = http.HttpSettings(retries=0, max_bytes=1000)
    return http.HttpClient(settings, transport=httpx.MockTransport(answer))


def test_a_live_answer_is_stamped_with_the_time_in_utc() -> None:
    with _answering(200, b"[]") as client:
        fetched = client.get("src", "http://h.example/x")
    assert fetched.fetched_at.tzinfo is not None and fetched.fetched_at.utcoffset().seconds == 0


def test_a_400_is_an_error_showing_the_start_of_its_body_on_one_line() -> None:
    body = b"bad\n\n  query " + b"x" * 300
    with _answering(400, body) as client, pytest.raises(FetchError) as caught:
        client.get("src", "http://h.example/x")
    snippet = " ".join(body[:200].decode().split())
    assert caught.value.status == 400
    assert caught.value.detail == f"expected 2xx; body begins {snippet!r}"


def test_an_answer_over_the_size_limit_is_an_error_of_its_source_and_status() -> None:
    with _answering(200, b"[" + b" " * 2000 + b"]") as client, pytest.raises(FetchError) as c:
        client.get("src", "http://h.example/x")
    assert (c.value.source, c.value.status) == ("src", 200)
    assert c.value.detail == "response larger than 1000 bytes"


class _Stream:
    """What httpcore's trace hands the deadline: a network stream that knows its socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def get_extra_info(self, name: str) -> object:
        return self.sock if name == "socket" else None


def test_the_deadline_holds_a_streams_socket_and_shuts_one_that_comes_after_cancel() -> None:
    held, late = socket.socketpair(), socket.socketpair()
    try:
        deadline = http.Deadline(60)
        deadline.hold(_Stream(held[0]))
        deadline.hold(None)  # a trace event without a stream: nothing to hold
        deadline.cancel()
        deadline.hold(_Stream(late[0]))  # arrives after the cancel: shut at once
        for _, far in (held, late):
            far.settimeout(1)
            assert far.recv(1) == b""
    finally:
        for pair in (held, late):
            for end in pair:
                end.close()


def test_a_body_still_arriving_at_the_deadline_is_an_error_of_its_source() -> None:
    deadline = http.Deadline(1.5)
    deadline.cancel()
    response = httpx.Response(200, content=b"[1, 2, 3]")
    with http.HttpClient() as client, pytest.raises(FetchError) as caught:
        client._read_body("src", "http://h.example/x", response, deadline)
    assert (caught.value.source, caught.value.status) == ("src", 200)
    assert caught.value.detail == "no complete answer within 1.5 s"
