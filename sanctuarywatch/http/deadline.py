"""One request's wall-clock limit (`Deadline`), and the retry policy and transport that
keep to it: no wait runs past it, no attempt starts after it, and cancelling it shuts the
sockets the request holds."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, wait
from typing import Any, TypeVar, cast

import httpx
from httpx_retries import Retry

NAME_NOT_RESOLVED = (
    "Name or service not known",
    "Temporary failure in name resolution",
    "nodename nor servname provided",
    "No address associated with hostname",
)
MAX_REDIRECTS = 5
DEADLINE_EXTENSION = "sanctuarywatch.deadline"

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
