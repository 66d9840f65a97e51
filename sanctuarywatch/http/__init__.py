"""The one place that talks HTTP: every source fetches through `HttpClient`.

Why one package: timeouts, retries, politeness, size caps, secret redaction and error
wrapping are the same for every upstream, and a source file that re-implemented any of them
would be the one that leaks a token or hammers a portal. Parsers never see httpx: they get a
`Fetched` (bytes plus where and when they came from).

Retries come from httpx-retries (it honours `Retry-After`, both seconds and HTTP-date), on
429 and 5xx and on connection failures, bounded in count and in total sleep. Other 4xx are
not retried, nor is a name that does not resolve. The deadline is a wall-clock limit over the
whole request: connect, headers, body, retries and their waits (`Deadline`, http/deadline.py).
Secrets come from the environment only; `redact` (http/redaction.py) strips them from URLs
and text before anything is stored, logged or raised, and no request goes to a host other
than the one asked for: a redirect elsewhere is an error (`same_site`), so a key or token
never travels with it.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from httpx_retries import RetryTransport

from sanctuarywatch import __version__
from sanctuarywatch.errors import BotWallError, FetchError
from sanctuarywatch.http.deadline import (
    DEADLINE_EXTENSION,
    MAX_REDIRECTS,
    NAME_NOT_RESOLVED,
    Deadline,
    DeadlineRetry,
    DeadlineTransport,
    cannot_resolve,
    run_within,
    same_site,
)
from sanctuarywatch.http.redaction import (
    REDACTED,
    SECRET_HEADERS,
    SECRET_PARAMS,
    redact,
    redact_url,
    secret_from_env,
)

__all__ = [  # the deadline's and the redaction's names are re-exported: `http.redact` etc.
    "DEADLINE_EXTENSION",
    "MAX_REDIRECTS",
    "NAME_NOT_RESOLVED",
    "REDACTED",
    "SECRET_HEADERS",
    "SECRET_PARAMS",
    "USER_AGENT",
    "Deadline",
    "DeadlineRetry",
    "DeadlineTransport",
    "Fetched",
    "HttpClient",
    "HttpSettings",
    "cannot_resolve",
    "redact",
    "redact_url",
    "run_within",
    "same_site",
    "secret_from_env",
]


USER_AGENT = f"sanctuarywatch/{__version__} (+https://pypi.org/project/sanctuarywatch/)"
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
        self._retry = DeadlineRetry(
            total=s.retries,
            backoff_factor=s.backoff_factor,
            status_forcelist=RETRY_STATUSES,
            retry_on_exceptions=RETRY_EXCEPTIONS,
            total_timeout=s.retry_sleep_budget,
            max_backoff_wait=s.retry_sleep_budget,
        )
        inner = DeadlineTransport(transport or httpx.HTTPTransport())
        self._client = httpx.Client(
            transport=RetryTransport(transport=inner, retry=self._retry),
            timeout=httpx.Timeout(s.read_timeout, connect=s.connect_timeout),
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,  # `_exchange` follows them, on the same host only
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
        deadline = Deadline(self.settings.deadline)
        request.extensions[DEADLINE_EXTENSION] = deadline
        request.extensions["retry"] = self._retry.bounded_by(deadline)
        try:
            response, body = run_within(
                deadline, lambda: self._exchange(source, shown, request, deadline)
            )
        except httpx.HTTPError as exc:
            raise _failure(source, shown, request.url, exc, deadline) from None
        self.requests_made += 1
        self.bytes_received += len(body)
        fetched = Fetched(
            source=source,
            url=self._cited(response, shown),
            status=response.status_code,
            content_type=response.headers.get("content-type", ""),
            body=body,
            fetched_at=self._fetch_time(response),
            headers={k: v for k, v in response.headers.items() if k.lower() not in SECRET_HEADERS},
        )
        _check_answer(fetched)
        return fetched

    def _cited(self, response: httpx.Response, shown: str) -> str:
        """The URL to keep: the one asked; or, replaying a recording made on a stand-in
        server, the upstream URL the recording stands for (see archive.ArchiveTransport)."""
        cited = response.headers.get("x-archive-cited-as")
        return redact_url(cited) if self._replaying and cited else shown

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

    def _exchange(
        self, source: str, shown: str, request: httpx.Request, deadline: Deadline
    ) -> tuple[httpx.Response, bytes]:
        """Send `request` and read the whole body, following redirects on its own host only:
        a secret goes only where it was configured to go."""
        for _ in range(MAX_REDIRECTS + 1):
            response = self._client.send(request, stream=True)
            try:
                deadline.hold(response.extensions.get("network_stream"))
                following = response.next_request
                if following is None:
                    return response, self._read_body(source, shown, response, deadline)
            finally:
                response.close()
            _refuse_other_hosts(source, shown, response, following)
            request = following
        raise FetchError(source, shown, f"more than {MAX_REDIRECTS} redirects")

    def _read_body(
        self, source: str, shown: str, response: httpx.Response, deadline: Deadline
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
            if deadline.passed:
                raise FetchError(
                    source,
                    shown,
                    f"no complete answer within {deadline.seconds:g} s",
                    response.status_code,
                )
            chunks.append(chunk)
        return b"".join(chunks)


def _refuse_other_hosts(
    source: str, shown: str, response: httpx.Response, following: httpx.Request
) -> None:
    """A redirect to another host is an error that names both hosts (issue 16: a 302 from
    127.0.0.1 to localhost took the Socrata token along and the run ended `success`)."""
    origin, target = response.request.url, following.url
    if same_site(origin, target):
        return
    raise FetchError(
        source,
        shown,
        f"redirected from host {_host(origin)} to another host, {_host(target)} "
        f"({redact_url(target)}); not followed, so no key or token leaves for a host "
        "it was not configured for",
        response.status_code,
    )


def _host(url: httpx.URL) -> str:
    return f"{url.host}:{url.port}" if url.port else url.host


def _failure(
    source: str, shown: str, url: httpx.URL, exc: httpx.HTTPError, deadline: Deadline
) -> FetchError:
    """The project's error for a request that got no answer, on one line, secrets redacted."""
    if deadline.passed:
        return FetchError(source, shown, f"no complete answer within {deadline.seconds:g} s")
    if cannot_resolve(exc):
        return FetchError(
            source,
            shown,
            f"cannot reach {url.host}: its name does not resolve (offline, or no such host); "
            "`sanctuarywatch demo` works offline",
        )
    return FetchError(source, shown, redact(f"{type(exc).__name__}: {exc}"))


def _check_answer(fetched: Fetched) -> None:
    """Turn error statuses and bot walls into the project's errors."""
    if _is_bot_wall(fetched):
        raise BotWallError(
            fetched.source,
            fetched.url,
            "the site answered with a bot-protection page instead of content; sanctuarywatch "
            "does not try to get around it (try again later or from another network)",
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
