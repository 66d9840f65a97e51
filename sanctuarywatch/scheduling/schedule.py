"""When jobs run: reading and checking `cron.yaml` and the job definitions in `jobs/`.

The split (docs/scheduling.md has the full reference):

    cron.yaml            when: each scheduled job's crontab line, time zone, which job
                         definition it runs, and options for this schedule (e.g. a weekly
                         backfill of the same sources a daily job collects incrementally)
    jobs/<name>.yaml     what: the sources to collect, in order (each with its own options),
                         then whether to re-evaluate the claims

Everything is checked on load, before the daemon starts: an unknown job or source, a bad
crontab field, an unknown time zone or a misspelled key raises a ConfigError that names the
file, the job and the key.

Crontab meaning is the standard one, not APScheduler's (crontab.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from importlib import resources
from math import inf
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger

from sanctuarywatch import schemas, sources
from sanctuarywatch.errors import ConfigError
from sanctuarywatch.scheduling import crontab
from sanctuarywatch.scheduling.crontab import EVERY as EVERY
from sanctuarywatch.scheduling.crontab import NICKNAMES as NICKNAMES
from sanctuarywatch.scheduling.crontab import crontab_weekdays as crontab_weekdays
from sanctuarywatch.scheduling.crontab import make_trigger as make_trigger

CRON_ENV = "SANCTUARYWATCH_CRON"
CRON_FILE = "cron.yaml"
TOP_KEYS = frozenset({"defaults", "jobs"})
SETTING_KEYS = frozenset(
    {"timezone", "misfire_grace_minutes", "backoff_minutes", "backoff_max_hours"}
)
JOB_KEYS = SETTING_KEYS | {"schedule", "run", "options", "description"}
DEFINITION_KEYS = frozenset({"description", "sources", "claims"})
OPTION_KEYS = frozenset(f.name for f in fields(sources.Options))


@dataclass(frozen=True)
class Step:
    """One source to collect, with the options this job gives it."""

    source: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    """One scheduled job, fully resolved: when, what, and how patiently."""

    name: str
    schedule: str
    timezone: str
    steps: tuple[Step, ...]
    claims: bool
    definition: str
    misfire_grace_minutes: float = 60.0
    backoff_minutes: float = 30.0
    backoff_max_hours: float = 24.0

    def trigger(self) -> BaseTrigger:
        return make_trigger(self.schedule, ZoneInfo(self.timezone))

    def options(self, step: Step) -> sources.Options:
        """The step's options (cron.yaml's already merged over jobs/ at load)."""
        return make_options(step.options)


@dataclass(frozen=True)
class Schedule:
    """All jobs of one cron.yaml, by name."""

    path: Path
    jobs: dict[str, Job]

    def job(self, name: str) -> Job:
        if name not in self.jobs:
            known = ", ".join(sorted(self.jobs)) or "none"
            raise ConfigError(str(self.path), f"unknown job {name!r}; jobs: {known}")
        return self.jobs[name]


def find_cron(option: str | os.PathLike[str] | None = None) -> Path:
    """The cron.yaml to use: --cron, else $SANCTUARYWATCH_CRON, else ./cron.yaml, else the copy
    shipped in the package (so an installed wheel runs the project's own schedule)."""
    chosen = option or os.environ.get(CRON_ENV)
    if chosen:
        return Path(chosen)
    if Path(CRON_FILE).is_file():
        return Path(CRON_FILE)
    packaged = Path(str(resources.files("sanctuarywatch") / "_jobs" / CRON_FILE))
    if packaged.is_file():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / CRON_FILE
    if checkout.is_file():
        return checkout
    raise ConfigError(CRON_FILE, f"not found (give --cron or set ${CRON_ENV})")


def load(path: str | os.PathLike[str] | None = None) -> Schedule:
    """Read and check cron.yaml and every job definition it names."""
    cron = find_cron(path)
    data = _read_yaml(cron, "schedule")
    _check_keys(cron, None, data, TOP_KEYS, "")
    defaults = data.get("defaults") or {}
    _check_keys(cron, None, defaults, SETTING_KEYS, "defaults.")
    entries = data.get("jobs")
    if not isinstance(entries, dict) or not entries:
        raise ConfigError(str(cron), "key 'jobs': expected a mapping of job names to jobs")
    jobs = {name: _job(cron, str(name), entry, defaults) for name, entry in entries.items()}
    return Schedule(cron, jobs)


def _read_yaml(path: Path, what: str) -> dict[str, Any]:
    """UTF-8 YAML with no repeated key: a second `jobs: {daily: ...}` entry would otherwise
    replace the first without a word (schemas.read_yaml)."""
    data = schemas.read_yaml(path, what)
    if not isinstance(data, dict):
        raise ConfigError(str(path), "expected a mapping at the top level")
    return data


def _check_keys(
    path: Path, job: str | None, data: Any, allowed: frozenset[str], prefix: str
) -> None:
    where = f"job {job!r}, " if job else ""
    if not isinstance(data, dict):
        raise ConfigError(
            str(path), f"{where}key {prefix.rstrip('.') or 'top'!r}: expected a mapping"
        )
    for key in data:
        if key not in allowed:
            raise ConfigError(
                str(path),
                f"{where}key {prefix + str(key)!r}: unknown key; "
                f"expected one of {', '.join(sorted(allowed))}",
            )


def _job(cron: Path, name: str, entry: Any, defaults: dict[str, Any]) -> Job:
    _check_keys(cron, name, entry, JOB_KEYS, "")
    settings = {**defaults, **{k: v for k, v in entry.items() if k in SETTING_KEYS}}
    if "schedule" not in entry:
        raise ConfigError(str(cron), f"job {name!r}, key 'schedule': missing")
    timezone = str(settings.pop("timezone", "UTC"))
    _zone(cron, name, timezone)
    schedule = str(entry["schedule"])
    try:
        make_trigger(schedule, ZoneInfo(timezone))
    except ValueError as exc:
        raise ConfigError(str(cron), f"job {name!r}, key 'schedule': {exc}") from None
    definition = str(entry.get("run", name))
    overrides = entry.get("options") or {}
    _check_options(cron, name, overrides, "options.")
    steps, claims = _definition(cron, name, definition, overrides)
    for key, value in settings.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < inf:
            raise ConfigError(
                str(cron), f"job {name!r}, key {key!r}: expected a number >= 0, found {value!r}"
            )
    return Job(name, schedule, timezone, steps, claims, definition, **settings)


def _zone(cron: Path, name: str, timezone: str) -> None:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            str(cron),
            f"job {name!r}, key 'timezone': unknown time zone {timezone!r} "
            "(use an IANA name such as America/Chicago)",
        ) from None


def _check_options(path: Path, job: str, options: Any, prefix: str) -> None:
    """Known keys (named with the allowed ones), values of the right kind and range
    (schemas.JobOptions: `page_size: abc` would be sent upstream), then start before end."""
    _check_keys(path, job, options, OPTION_KEYS, prefix)
    problem = schemas.check_options(options)
    if problem:
        key, expected = problem
        raise ConfigError(str(path), f"job {job!r}, key {prefix + key!r}: {expected}")
    try:
        make_options(options)
    except (ConfigError, TypeError, ValueError) as exc:
        raise ConfigError(str(path), f"job {job!r}, key {prefix.rstrip('.')!r}: {exc}") from None


def jobs_dir(cron: Path) -> Path:
    """Job definitions live beside cron.yaml, in jobs/."""
    return cron.parent / "jobs"


def _definition(
    cron: Path, job: str, name: str, overrides: dict[str, Any]
) -> tuple[tuple[Step, ...], bool]:
    path = jobs_dir(cron) / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in jobs_dir(cron).glob("*.yaml"))) or "none"
        raise ConfigError(
            str(cron),
            f"job {job!r}, key 'run': unknown job definition {name!r} "
            f"(no {path}); definitions: {known}",
        )
    data = _read_yaml(path, "job definition")
    _check_keys(path, job, data, DEFINITION_KEYS, "")
    listed = data.get("sources") or []
    if not isinstance(listed, list):
        raise ConfigError(str(path), f"job {job!r}, key 'sources': expected a list")
    steps = tuple(_step(path, job, i, item, overrides) for i, item in enumerate(listed))
    claims = data.get("claims", True)
    if not isinstance(claims, bool):
        raise ConfigError(str(path), f"job {job!r}, key 'claims': expected true or false")
    if not steps and not claims:
        raise ConfigError(str(path), f"job {job!r}, key 'sources': the job does nothing")
    return steps, claims


def _step(path: Path, job: str, index: int, item: Any, overrides: dict[str, Any]) -> Step:
    """A list item is a slug, or a one-key mapping {slug: {options}}."""
    key = f"sources[{index}]"
    if isinstance(item, dict) and len(item) == 1:
        slug, options = next(iter(item.items()))
        options = options or {}
    elif isinstance(item, str):
        slug, options = item, {}
    else:
        raise ConfigError(
            str(path), f"job {job!r}, key {key!r}: expected a slug or {{slug: options}}"
        )
    if slug not in sources.SOURCE_MODULES:
        raise ConfigError(
            str(path),
            f"job {job!r}, key {key!r}: unknown source {slug!r}; "
            f"known: {', '.join(sources.SOURCE_MODULES)}",
        )
    merged = {**options, **overrides}
    _check_options(path, job, merged, f"{key}.")
    return Step(slug, merged)


def next_fire_times(job: Job, after: datetime, count: int = 3) -> list[datetime]:
    """The job's next `count` fire times after `after`, computed without waiting."""
    return crontab.fire_times(job.trigger(), after, count)


def make_options(values: dict[str, Any]) -> sources.Options:
    """Options from YAML: dates come as date objects when unquoted, strings when quoted."""
    converted = dict(values)
    for key in ("start", "end"):
        if converted.get(key) is not None and not isinstance(converted[key], date):
            converted[key] = date.fromisoformat(str(converted[key]))
    return sources.Options(**converted)
