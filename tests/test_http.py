"""The HTTP layer: retries that honour Retry-After, no retry on other 4xx, caps, redaction."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from sanctuarywatch import http
from sanctuarywatch.errors import BotWallError, FetchError
from sanctuarywatch.http import HttpClient, HttpSettings

URL = "http://127.0.0.1:9/resource/test.json"
FAST = HttpSettings(backoff_factor=0.0, retries=3, retry_sleep_budget=5.0)


class Upstream:
    """A scripted upstream: answers in order, remembers what it was asked."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def ok(body: bytes = b"[]") -> httpx.Response:
    return httpx.Response(200, content=body, headers={"content-type": "application/json"})


def client(upstream: Upstream, settings: HttpSettings = FAST) -> HttpClient:
    return HttpClient(HttpSettings(**vars(settings)), transport=httpx.MockTransport(upstream))


def test_retries_429_honouring_retry_after_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr("time.sleep", slept.append)
    upstream = Upstream(httpx.Response(429, headers={"Retry-After": "2"}), ok(b'[{"a": 1}]'))
    fetched = client(upstream).get("test", URL)
    assert fetched.body == b'[{"a": 1}]' and len(upstream.requests) == 2
    assert slept[0] == pytest.approx(2.0)


def test_retry_after_as_http_date(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr("time.sleep", slept.append)
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=4), usegmt=True)
    upstream = Upstream(httpx.Response(503, headers={"Retry-After": when}), ok())
    client(upstream).get("test", URL)
    assert 2.0 < slept[0] <= 4.0


def test_5xx_bursts_and_connection_errors_are_retried_within_bounds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("time.sleep", lambda s: None)
    upstream = Upstream(
        httpx.Response(500), httpx.ConnectError("refused"), httpx.Response(502), ok()
    )
    assert client(upstream).get("test", URL).status == 200
    always_down = Upstream(*[httpx.Response(503, content=b"down")] * 10)
    with pytest.raises(FetchError) as caught:
        client(always_down).get("test", URL)
    assert caught.value.status == 503 and len(always_down.requests) == 4  # 1 + 3 retries


def test_other_4xx_is_not_retried() -> None:
    upstream = Upstream(httpx.Response(404, content=b"no such dataset"), ok())
    with pytest.raises(FetchError) as caught:
        client(upstream).get("test", URL)
    assert len(upstream.requests) == 1
    assert (
        "HTTP 404" in str(caught.value)
        and URL in str(caught.value)
        and "no such dataset" in str(caught.value)
    )


def test_user_agent_names_the_project() -> None:
    upstream = Upstream(ok())
    client(upstream).get("test", URL)
    assert upstream.requests[0].headers["user-agent"].startswith("sanctuarywatch/")


def test_response_size_is_capped() -> None:
    upstream = Upstream(ok(b"x" * 5000))
    settings = HttpSettings(**{**vars(FAST), "max_bytes": 1000})
    with pytest.raises(FetchError, match="larger than 1000 bytes"):
        client(upstream, settings).get("test", URL)


def test_bot_wall_is_an_error_that_says_so() -> None:
    page = (
        b"<html><body>Powered and protected by <a>Akamai</a>"
        b"<script src='x?bm-verify=1'></script></body></html>"
    )
    upstream = Upstream(httpx.Response(200, content=page, headers={"content-type": "text/html"}))
    with pytest.raises(BotWallError, match="bot-protection page"):
        client(upstream).get("test", URL)


def test_secrets_never_reach_urls_errors_or_logs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("SANCTUARYWATCH_FBI_API_KEY", "s3cr3tKEYvalue123456")
    key = http.secret_from_env("SANCTUARYWATCH_FBI_API_KEY")
    assert key == "s3cr3tKEYvalue123456"
    upstream = Upstream(httpx.Response(403, content=b"API_KEY s3cr3tKEYvalue123456 is invalid"))
    caplog.set_level(logging.DEBUG)
    with pytest.raises(FetchError) as caught:
        client(upstream).get("test", URL, params={"API_KEY": key, "from": "01-2024"})
    assert upstream.requests[0].url.params["API_KEY"] == key  # sent upstream...
    assert key not in str(caught.value) and "REDACTED" in caught.value.url  # ...never shown
    logging.getLogger("sanctuarywatch.test").warning("retrying with %s", key)
    assert key not in caplog.text


def test_redact_url_keeps_other_parameters() -> None:
    shown = http.redact_url("https://x.test/a?from=01-2024&api_key=abc&$$app_token=def")
    assert shown == "https://x.test/a?from=01-2024&api_key=REDACTED&$$app_token=REDACTED"


def test_politeness_limit_spaces_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr("time.sleep", slept.append)
    upstream = Upstream(ok(), ok(), ok())
    polite = client(upstream)
    polite.set_rate("127.0.0.1", 4.0)
    for _ in range(3):
        polite.get("test", URL)
    assert len(slept) == 2 and all(0.2 < s <= 0.25 for s in slept)
