"""Secrets: read from the environment only, and redacted from every URL, message and log
record before anything is stored, logged or raised.

A secret is remembered when it is read (`secret_from_env`), so `redact` knows every value to
strip; URL parameters named like a key are stripped whatever their value (`redact_url`).
"""

from __future__ import annotations

import logging
import os
import threading
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

SECRET_PARAMS = frozenset({"api_key", "$$app_token", "app_token", "key"})
SECRET_HEADERS = frozenset({"x-app-token", "x-api-key", "authorization"})
REDACTED = "REDACTED"

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
