"""Logging, set up once per process by the command line (`configure`), for every command.

A command that reads logs warnings as text (debug with --verbose). The job commands
(`daemon`, `run`) log INFO and up, as one JSON object a line when stderr is not a terminal
(journald, cron mail, files), with each record's figures as fields; APScheduler and httpx
are quiet, and so is the collect layer, whose lines the job runner's one line per run
(read back from the `runs` table) replaces. Setting it up imports no heavy library, so
the command line can call it before it knows what a command needs.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
JOB_COMMANDS = frozenset({"daemon", "run"})
QUIET = ("apscheduler", "httpx")
REPLACED = "sanctuarywatch.collect"  # the runner logs each run from its `runs` row


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the record's figures, for journald and log shippers."""

    BASE = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update({k: v for k, v in vars(record).items() if k not in self.BASE})
        if record.exc_info:  # the HTTP module (and httpx) only when a traceback is logged
            from sanctuarywatch.http import redact

            data["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(data, default=str)


def configure(verbose: bool = False, jobs: bool = False) -> None:
    """The root logger for this process: a text handler on stderr unless one is there
    already (then its level is left as it is, as `logging.basicConfig` does); for `jobs`,
    the job commands' level, format and quiet loggers (see the module docstring)."""
    level = logging.DEBUG if verbose else logging.INFO if jobs else logging.WARNING
    logging.basicConfig(level=level, format=FORMAT)
    if not jobs:
        return
    root = logging.getLogger()
    root.setLevel(level)
    if not sys.stderr.isatty():
        for handler in root.handlers:
            handler.setFormatter(JsonFormatter())
    for noisy in QUIET:
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)
    logging.getLogger(REPLACED).setLevel(logging.DEBUG if verbose else logging.CRITICAL)
