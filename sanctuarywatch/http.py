"""The one place that talks HTTP: every source fetches through `HttpClient`.

Why one module: timeouts, retries, politeness, size caps, secret redaction and error
wrapping are the same for every upstream, and a source file that re-implemented any of them
would be the one that leaks a token or hammers a portal. Parsers never see httpx: they get a
`Fetched` (bytes plus where and when they came from).

Retries come from httpx-retries (it honours `Retry-After`, both seconds and HTTP-date), on
429 and 5xx and on connection failures, bounded in count and in total sleep. Other 4xx are
not retried, nor is a name that does not resolve. The deadline is a wall-clock limit over the
whole request: connect, headers, body, retries and their waits (`Deadline`). Secrets come
from the environment only; `redact` strips them from URLs and text before anything is stored,
logged or raised, and no request goes to a host other than the one asked for: a redirect
elsewhere is an error (`same_site`), so a key or token never travels with it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from httpx_retries import Retry, RetryTransport

from sanctuarywatch import __version__
from sanctuarywatch.errors import BotWallError, FetchError

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
NAME_NOT_RESOLVED = (
    "Name or service not known",
    "Temporary failure in name resolution",
    "nodename nor servname provided",
    "No address associated with hostname",
)
MAX_REDIRECTS = 5
DEADLINE_EXTENSION = "sanctuarywatch.deadline"
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

T = TypeVar("T")


class Deadline:
    """One request's wall-clock limit, shared by the caller, its worker thread, the retry
    policy and the transport. `cancel` ends it early and shuts the sockets the request holds,
    so a read blocked in the worker returns at once instead of at its own timeout."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._ends = time.monotonic() + seconds
        self._cancelled = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []

    def remaining(self) -> float:
        """Seconds left; 0 once passed or cancelled."""
        if self._cancelled:
            return 0.0
        return max(0.0, self._ends - time.monotonic())

    @property
    def passed(self) -> bool:
        return self.remaining() <= 0.0

    def trace(self, event: str, info: Mapping[str, Any]) -> None:
        """httpcore's `trace` hook: hold every connection the request opens (TCP, then TLS)."""
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            self.hold(info.get("return_value"))

    def hold(self, stream: Any) -> None:
        """Remember a network stream's socket (a reused connection shows its stream only on
        the response); one that arrives after `cancel` is shut at once."""
        sock = stream.get_extra_info("socket") if stream is not None else None
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            self._sockets.append(sock)
            cancelled = self._cancelled
        if cancelled:
            _shut(sock)

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            held = list(self._sockets)
        for sock in held:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    """Shut (not close) the socket: on Linux only shutdown wakes a recv blocked in another
    thread. The base-class call leaves a TLS socket's SSL object to the thread reading it."""
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def run_within(deadline: Deadline, work: Callable[[], T]) -> T:
    """Run `work` in a worker thread; wait for it no longer than the deadline.

    Why a thread and not only timeouts: httpx's timeouts bound each socket operation, not the
    request, so a server sending its headers a byte a second never trips them (142.7 s against
    a 15 s deadline, issue 16), and a name lookup ignores them altogether. Waiting from outside
    is the one bound that holds whatever the request is blocked in. At the deadline the caller
    cancels (the request's sockets are shut and its retries stop, so the worker ends too) and
    gets a timeout; the worker's late result, if any, is dropped.
    """
    future: Future[T] = Future()

    def run() -> None:
        try:
            future.set_result(work())
        except BaseException as exc:
            future.set_exception(exc)

    threading.Thread(target=run, name="sanctuarywatch-http", daemon=True).start()
    try:
        wait([future], timeout=deadline.remaining())
    finally:
        if not future.done():
            deadline.cancel()
    if not future.done():
        raise httpx.TimeoutException(f"no complete answer within {deadline.seconds:g} s")
    return future.result()


def cannot_resolve(exc: BaseException) -> bool:
    """Whether `exc` is a name lookup that failed (offline, or no such host): retrying it only
    adds minutes before the same answer (18.6 s of retries offline, issue 16)."""
    seen: BaseException | None = exc
    for _ in range(8):  # httpx -> httpcore -> gaierror; the bound guards against cycles
        if seen is None:
            return False
        if isinstance(seen, socket.gaierror) or any(m in str(seen) for m in NAME_NOT_RESOLVED):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def same_site(origin: httpx.URL, target: httpx.URL) -> bool:
    """Whether a redirect from `origin` to `target` may be followed with the request's secrets.

    The same host only, at the same port, or upgraded from http to https (its default port).
    httpx drops only `Authorization` on a cross-host redirect and would carry X-App-Token,
    X-Api-Key or an api_key the Location repeats; a downgrade to http would send them in clear.
    """
    if origin.host != target.host:
        return False
    if origin.scheme == target.scheme:
        return origin.port == target.port
    return origin.scheme == "http" and target.scheme == "https" and target.port in (None, 443)


class DeadlineRetry(Retry):
    """httpx-retries' policy, also bounded by one request's `Deadline`: no wait runs past it
    and no attempt follows it. A name that does not resolve is not retried."""

    deadline: Deadline | None = None

    def bounded_by(self, deadline: Deadline) -> DeadlineRetry:
        """A copy for one request (the transport reads it from the request's extensions)."""
        retry = cast(DeadlineRetry, self.copy_with())
        retry.deadline = deadline
        return retry

    def increment(self) -> Retry:
        retry = cast(DeadlineRetry, super().increment())
        retry.deadline = self.deadline
        return retry

    def is_exhausted(self) -> bool:
        return super().is_exhausted() or (self.deadline is not None and self.deadline.passed)

    def is_retryable_exception(self, exception: Exception) -> bool:
        return super().is_retryable_exception(exception) and not cannot_resolve(exception)

    def backoff_strategy(self) -> float:
        return self._within_deadline(super().backoff_strategy())

    def parse_retry_after(self, retry_after: str) -> float:
        return self._within_deadline(super().parse_retry_after(retry_after))

    def _within_deadline(self, seconds: float) -> float:
        return seconds if self.deadline is None else min(seconds, self.deadline.remaining())


class DeadlineTransport(httpx.BaseTransport):
    """Under the retry transport, so it sees every attempt: none starts after the deadline,
    each one's connect/read/write/pool timeouts are capped at the time left, and the sockets
    it opens are held by the deadline so `Deadline.cancel` can shut them."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = request.extensions.get(DEADLINE_EXTENSION)
        if isinstance(deadline, Deadline):
            left = deadline.remaining()
            if left <= 0:
                raise httpx.TimeoutException("deadline passed before this attempt", request=request)
            timeouts = request.extensions.get("timeout", {})
            request.extensions["timeout"] = {
                phase: left if limit is None else min(limit, left)
                for phase, limit in timeouts.items()
            }
            request.extensions["trace"] = deadline.trace
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


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
