"""The one place that talks HTTP: every source fetches through `HttpClient`.

Why one module: timeouts, retries, politeness, size caps, secret redaction and error
wrapping are the same for every upstream, and a source file that re-implemented any of them
would be the one that leaks a token or hammers a portal. Parsers never see httpx: they get a
`Fetched` (bytes plus where and when they came from).

Retries come from httpx-retries (it honours `Retry-After`, both seconds and HTTP-date), on
429 and 5xx and on connection failures, bounded in count and in total sleep. Other 4xx are
not retried. Secrets come from the environment only; `redact` strips them from URLs and text
before anything is stored, logged or raised.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from httpx_retries import Retry, RetryTransport

from . import __version__
from .errors import BotWallError, FetchError

log = logging.getLogger(__name__)

USER_AGENT = f"sanctuarywatch/{__version__} (+https://pypi.org/project/sanctuarywatch/)"
SECRET_PARAMS = frozenset({"api_key", "$$app_token", "app_token", "key"})
SECRET_HEADERS = frozenset({"x-app-token", "x-api-key", "authorization"})
REDACTED = "REDACTED"
RETRY_STATUSES = (429, 500, 502, 503, 504)
RETRY_EXCEPTIONS = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.ReadTimeout,
    httpx.ReadError,
    httpx.RemoteProtocolError,
    httpx.WriteError,
)
# Akamai's interstitial on justice.gov (seen 2025-2026); other sites use similar wording.
BOT_WALL_MARKERS = (b"Powered and protected by", b"bm-verify=", b"challenge-platform")

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def secret_from_env(*names: str) -> str | None:
    """Read a secret from the first set environment variable and remember it for redaction."""
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            with _secrets_lock:
                _secrets.add(value)
            return value
    return None


def redact(text: str) -> str:
    """Replace every known secret value in `text` (messages, logs, exception strings)."""
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        text = text.replace(secret, REDACTED)
    return text


def redact_url(url: str | httpx.URL) -> str:
    """The URL as it may be stored: secret query parameters blanked, known secrets removed."""
    parts = urlsplit(str(url))
    query = [
        (k, REDACTED if k.lower() in SECRET_PARAMS else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return redact(urlunsplit(parts._replace(query=urlencode(query, safe="$:,()'*"))))


def _install_redacting_log_records() -> None:
    """Redact every log record when it is made, whichever library logs it.

    A filter on our own loggers is not enough: httpx-retries logs whole request URLs (with
    API keys) at debug level from its own logger (seen with httpx-retries 0.6, 2026-11).
    """
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "redacts", False):
        return

    def redacting(*args: object, **kwargs: object) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        if _secrets:
            record.msg, record.args = redact(record.getMessage()), None
        return record

    redacting.redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(redacting)


_install_redacting_log_records()


@dataclass(frozen=True)
class Fetched:
    """One HTTP response as fetched: the unit stored in the raw archive and fed to parsers."""

    source: str
    url: str  # redacted
    status: int
    content_type: str
    body: bytes
    fetched_at: datetime
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass
class HttpSettings:
    """Limits for one client; sources may ask for a slower politeness rate."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    deadline: float = 300.0  # whole request, retries and body included
    retries: int = 5
    retry_sleep_budget: float = 120.0
    backoff_factor: float = 0.5
    max_bytes: int = 200 * 1024 * 1024
    requests_per_second: dict[str, float] = field(default_factory=dict)  # host -> rate

    @classmethod
    def from_env(cls) -> HttpSettings:
        """Defaults, with SANCTUARYWATCH_HTTP_RETRIES / _DEADLINE overriding them."""
        settings = cls()
        retries = os.environ.get("SANCTUARYWATCH_HTTP_RETRIES")
        deadline = os.environ.get("SANCTUARYWATCH_HTTP_DEADLINE")
        if retries:
            settings.retries = int(retries)
        if deadline:
            settings.deadline = float(deadline)
        return settings


class HttpClient:
    """A polite, retrying, redacting HTTP client shared by all sources."""

    def __init__(
        self,
        settings: HttpSettings | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.settings = settings or HttpSettings.from_env()
        s = self.settings
        retry = Retry(
            total=s.retries,
            backoff_factor=s.backoff_factor,
            status_forcelist=RETRY_STATUSES,
            retry_on_exceptions=RETRY_EXCEPTIONS,
            total_timeout=s.retry_sleep_budget,
            max_backoff_wait=s.retry_sleep_budget,
        )
        inner = transport or httpx.HTTPTransport()
        self._client = httpx.Client(
            transport=RetryTransport(transport=inner, retry=retry),
            timeout=httpx.Timeout(s.read_timeout, connect=s.connect_timeout),
            headers={"User-Agent": USER_AGENT},
            follow_redirects=True,
        )
        self._replaying = getattr(transport, "replays_archive", False)
        self._last_request: dict[str, float] = {}
        self.requests_made = 0
        self.bytes_received = 0

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def set_rate(self, host: str, requests_per_second: float) -> None:
        """Politeness limit for one host (the lower of the configured and requested rate)."""
        current = self.settings.requests_per_second.get(host)
        rate = requests_per_second if current is None else min(current, requests_per_second)
        self.settings.requests_per_second[host] = rate

    def get(
        self,
        source: str,
        url: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Fetched:
        """GET a URL; return the whole body, or raise FetchError/BotWallError with the URL."""
        request = self._client.build_request("GET", url, params=params, headers=headers)
        shown = redact_url(request.url)
        self._wait_turn(request.url.host)
        started = time.monotonic()
        try:
            with self._client.stream("GET", request.url, headers=request.headers) as response:
                body = self._read_body(source, shown, response, started)
        except httpx.HTTPError as exc:
            raise FetchError(source, shown, redact(f"{type(exc).__name__}: {exc}")) from None
        self.requests_made += 1
        self.bytes_received += len(body)
        fetched = Fetched(
            source=source,
            url=shown,
            status=response.status_code,
            content_type=response.headers.get("content-type", ""),
            body=body,
            fetched_at=self._fetch_time(response),
            headers={k: v for k, v in response.headers.items() if k.lower() not in SECRET_HEADERS},
        )
        _check_answer(fetched)
        return fetched

    def _fetch_time(self, response: httpx.Response) -> datetime:
        """Now; or, when replaying an archive, when the capture was originally made."""
        recorded = response.headers.get("x-archive-fetched-at")
        if self._replaying and recorded:
            return datetime.fromisoformat(recorded)
        return datetime.now(UTC)

    def _wait_turn(self, host: str) -> None:
        rate = self.settings.requests_per_second.get(host)
        if not rate or self._replaying:
            return
        gap = 1.0 / rate - (time.monotonic() - self._last_request.get(host, 0.0))
        if gap > 0:
            time.sleep(gap)
        self._last_request[host] = time.monotonic()

    def _read_body(
        self, source: str, shown: str, response: httpx.Response, started: float
    ) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.settings.max_bytes:
                raise FetchError(
                    source,
                    shown,
                    f"response larger than {self.settings.max_bytes} bytes",
                    response.status_code,
                )
            if time.monotonic() - started > self.settings.deadline:
                raise FetchError(
                    source,
                    shown,
                    f"no complete answer within {self.settings.deadline:.0f} s",
                    response.status_code,
                )
            chunks.append(chunk)
        return b"".join(chunks)


def _check_answer(fetched: Fetched) -> None:
    """Turn error statuses and bot walls into the project's errors."""
    if _is_bot_wall(fetched):
        raise BotWallError(
            fetched.source,
            fetched.url,
            "the site answered with a bot-protection page instead of content; "
            "sanctuarywatch does not try to get around it (try again later or from another network)",
            fetched.status,
        )
    if fetched.status >= 400:
        snippet = re.sub(rb"\s+", b" ", fetched.body[:200]).decode("utf-8", "replace")
        raise FetchError(
            fetched.source,
            fetched.url,
            redact(f"expected 2xx; body begins {snippet!r}"),
            fetched.status,
        )


def _is_bot_wall(fetched: Fetched) -> bool:
    if "html" not in fetched.content_type.lower():
        return False
    head = fetched.body[:20000]
    return any(marker in head for marker in BOT_WALL_MARKERS)
