"""A fault-injecting loopback server: the real protocols, with the failures upstreams show.

Why a real socket server and not an httpx MockTransport: resets mid-body, stalls before the
headers and truncated bodies only behave as in production when they cross a real TCP
connection (httpx's retry transport sees them as the same exceptions it sees live).

A `FaultPlan` maps the n-th request (0-based) to a fault; requests without one get the
normal answer of the wrapped route. Faults:

    status      any status, headers and body (429 + Retry-After, 500/503 bursts, 404 ...)
    stall       sleep before sending anything (a read timeout on the client)
    stall_body  send the headers and half the body, then sleep (timeout mid-body)
    reset       send the headers and half the body, then reset the connection (RST)
    truncate    a complete HTTP answer whose JSON body is cut short
    html        200 text/html: an error page, or a bot-protection page
    rename      the normal rows with one field renamed
    empty       200 with an empty JSON array
    repeat      the answer of an earlier request again (a page served twice)
    edit        the normal answer with its body passed through `edit` (a protocol's own
                renamed field or empty page: scripts/loopback_faults_protocols.py)
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from loopback import NOT_FOUND, Route, running

BOT_PAGE = (
    b"<html><head><title>Access Denied</title></head><body>"
    b"<p>Powered and protected by Akamai</p><script src='/challenge-platform/x'>"
    b"</script></body></html>"
)
ERROR_PAGE = (
    b"<!DOCTYPE html><html><head><title>Socrata - Service Unavailable</title></head>"
    b"<body><h1>Something went wrong</h1></body></html>"
)


@dataclass
class Fault:
    kind: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    seconds: float = 0.0
    rename: tuple[str, str] = ("", "")
    request: int = 0  # for `repeat`: which earlier request's answer to send again
    edit: Callable[[bytes], bytes] | None = None  # for `edit`: normal body -> served body


@dataclass
class FaultPlan:
    """Faults by request number; `log` records every request's params, in order."""

    faults: dict[int, Fault] = field(default_factory=dict)
    delay: float = 0.0  # before every answer (so a kill lands mid-load)
    log: list[dict[str, str]] = field(default_factory=list)
    answers: list[tuple[int, str, bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, params: dict[str, str]) -> tuple[int, Fault | None]:
        with self.lock:
            number = len(self.log)
            self.log.append(params)
            return number, self.faults.get(number)


def _handler(route: Route, plan: FaultPlan) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            _number, fault = plan.take(params)
            if plan.delay:
                time.sleep(plan.delay)
            answer = route(parts.path, params) or NOT_FOUND
            status, content_type, body = answer[0], answer[1], answer[2]
            with plan.lock:
                plan.answers.append((status, content_type, body))
            if fault is None:
                self._send(status, content_type, body)
            else:
                self._fault(fault, status, content_type, body)

        def _fault(self, fault: Fault, status: int, content_type: str, body: bytes) -> None:
            kind = fault.kind
            if kind == "status":
                self._send(fault.status, "application/json", fault.body, fault.headers)
            elif kind == "stall":
                time.sleep(fault.seconds)
                self._send(status, content_type, body)
            elif kind in ("stall_body", "reset"):
                self._send_head(status, content_type, len(body))
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                if kind == "stall_body":
                    time.sleep(fault.seconds)
                else:
                    self._reset()
            elif kind == "truncate":
                self._send(status, content_type, body[: max(1, len(body) * 2 // 3)])
            elif kind == "html":
                self._send(200, "text/html; charset=utf-8", fault.body)
            elif kind == "rename":
                old, new = fault.rename
                rows = [
                    {(new if k == old else k): v for k, v in row.items()}
                    for row in json.loads(body)
                ]
                self._send(status, content_type, json.dumps(rows).encode())
            elif kind == "empty":
                self._send(200, content_type, b"[]\n")
            elif kind == "repeat":
                self._send(*plan.answers[fault.request])
            elif kind == "edit" and fault.edit is not None:
                self._send(status, content_type, fault.edit(body))
            else:
                raise ValueError(f"unknown fault {kind!r}")

        def _send_head(
            self, status: int, content_type: str, length: int, headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(length))
            self.end_headers()

        def _send(
            self, status: int, content_type: str, body: bytes, headers: dict[str, str] | None = None
        ) -> None:
            self._send_head(status, content_type, len(body), headers)
            self.wfile.write(body)

        def _reset(self) -> None:
            """Close with SO_LINGER 0: the peer sees a connection reset, not a clean end."""
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextlib.contextmanager
def serve_faults(route: Route, plan: FaultPlan) -> Iterator[str]:
    """Serve `route` with `plan`'s faults on 127.0.0.1; yield the base URL."""
    with running(_handler(route, plan)) as url:
        yield url


if __name__ == "__main__":  # serve the Chicago route with a fixed delay, for kill tests by hand
    import sys

    from loopback import chicago_route

    delay = float(sys.argv[1]) if sys.argv[1:] else 0.0
    with serve_faults(chicago_route(), FaultPlan(delay=delay)) as url:
        print(url, flush=True)
        threading.Event().wait()
