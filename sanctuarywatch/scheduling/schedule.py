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

Crontab meaning is the standard one, not APScheduler's: day-of-week 0 and 7 are Sunday and
1 is Monday (APScheduler's `from_crontab` reads 0 as Monday), so day-of-week is translated
to day names here. Restricting both day-of-month and day-of-week means "either" in crontab
but "both" in APScheduler; that combination is refused rather than silently changed.
A wall-clock time that happens twice when daylight saving time ends fires once.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta, tzinfo
from importlib import resources
from math import inf
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from sanctuarywatch import schemas, sources
from sanctuarywatch.errors import ConfigError

CRON_ENV = "SANCTUARYWATCH_CRON"
CRON_FILE = "cron.yaml"
DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # crontab numbering: 0 = Sunday
NICKNAMES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
EVERY = re.compile(r"^@every\s+(\d+)([smh])$")
CRON_FIELDS = ("minute", "hour", "day", "month", "day_of_week")
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


def make_trigger(schedule: str, zone: tzinfo) -> BaseTrigger:
    """A trigger for a five-field crontab line (standard meaning), a nickname such as
    @daily, or `@every N{s,m,h}` (short intervals, for tests and demos)."""
    schedule = " ".join(schedule.split())
    every = EVERY.match(schedule)
    if every:
        unit = {"s": "seconds", "m": "minutes", "h": "hours"}[every.group(2)]
        amount = int(every.group(1))
        if amount < 1:
            raise ValueError(f"{schedule!r}: the interval must be at least 1")
        return IntervalTrigger(**{unit: amount}, timezone=zone)
    line = NICKNAMES.get(schedule, schedule)
    parts = line.split(" ")
    if len(parts) != 5:
        raise ValueError(
            f"{schedule!r} has {len(parts)} fields; expected five "
            "(minute hour day-of-month month day-of-week) or @daily / @every 10m"
        )
    values = dict(zip(CRON_FIELDS, parts, strict=True))
    values["day_of_week"] = crontab_weekdays(values["day_of_week"])
    if values["day"] not in ("*", "?") and values["day_of_week"] not in ("*", "?"):
        raise ValueError(
            f"{schedule!r} restricts both day-of-month and day-of-week, which crontab reads as "
            "'either' and APScheduler as 'both'; write two jobs instead"
        )
    for name, value in values.items():
        try:
            CronTrigger(**{name: value})
        except ValueError as exc:
            raise ValueError(
                f"{schedule!r}, {name.replace('_', '-')} field {value!r}: {exc}"
            ) from None
    trigger = WallClockCronTrigger(**values, timezone=zone)
    if trigger.get_next_fire_time(None, datetime(2000, 1, 1, tzinfo=zone)) is None:
        raise ValueError(f"{schedule!r} never fires: no day matches it (such as 31 February)")
    return trigger


def crontab_weekdays(spec: str) -> str:
    """Standard crontab day-of-week (0/7 = Sunday, 1 = Monday, names, ranges, steps) as
    APScheduler day names; '*' stays '*'."""
    if spec in ("*", "?"):
        return "*"
    days: set[int] = set()
    for item in spec.split(","):
        days |= _weekday_item(item.strip().lower())
    return ",".join(DAY_NAMES[d] for d in (1, 2, 3, 4, 5, 6, 0) if d in days)


def _weekday_item(item: str) -> set[int]:
    body, _, step_text = item.partition("/")
    step = _number(step_text, "step") if step_text else 1
    if step < 1:
        raise ValueError(f"day-of-week step {step_text!r} must be at least 1")
    if body in ("*", "?"):
        first, last = 0, 6
    elif "-" in body:
        low, high = body.split("-", 1)
        first, last = _weekday(low), _weekday(high)
        if last == 0 and high.strip() in ("7",):
            last = 7
        if last < first:
            raise ValueError(f"day-of-week range {body!r} runs backwards")
    else:
        first = last = _weekday(body)
        if step_text:
            last = 7  # "1/2" in crontab means from Monday every second day
    return {day % 7 for day in range(first, last + 1, step)}


def _weekday(text: str) -> int:
    if text[:3] in DAY_NAMES and len(text) == 3:
        return DAY_NAMES.index(text)
    day = _number(text, "day-of-week")
    if not 0 <= day <= 7:
        raise ValueError(f"day-of-week {text!r} is not 0-7 (0 and 7 are Sunday)")
    return day % 7 if day != 7 else 0


def _number(text: str, what: str) -> int:
    if not text.isdigit():
        raise ValueError(f"{what} {text!r} is not a number or day name")
    return int(text)


class WallClockCronTrigger(CronTrigger):  # type: ignore[misc]
    """A CronTrigger that fires once when a wall-clock time repeats (DST ending).

    On the autumn change 01:30 happens twice; plain CronTrigger fires at both. A job that
    collects once a day would then run twice, so the repeat (same local time as the
    previous fire) is skipped. Spring-forward gaps are left as APScheduler handles them:
    a 02:30 job runs once, an hour later in wall-clock terms.
    """

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        nxt: datetime | None = super().get_next_fire_time(previous_fire_time, now)
        while (
            nxt is not None
            and previous_fire_time is not None
            and _same_wall_clock(previous_fire_time, nxt)
        ):
            nxt = super().get_next_fire_time(nxt, _just_after(nxt))
        return nxt


def _just_after(moment: datetime) -> datetime:
    """A microsecond later, counted in UTC: wall-clock arithmetic would drop DST's fold and
    land an hour earlier on the repeated hour."""
    return moment.astimezone(UTC) + timedelta(microseconds=1)


def _same_wall_clock(a: datetime, b: datetime) -> bool:
    """Same local time at different instants (compared in UTC: Python compares two datetimes
    with the same tzinfo by wall clock, ignoring fold)."""
    local = a.astimezone(b.tzinfo).replace(tzinfo=None) == b.replace(tzinfo=None)
    return local and a.astimezone(UTC) != b.astimezone(UTC)


def next_fire_times(job: Job, after: datetime, count: int = 3) -> list[datetime]:
    """The job's next `count` fire times after `after`, computed without waiting."""
    trigger = job.trigger()
    times: list[datetime] = []
    previous: datetime | None = None
    now = after
    for _ in range(count):
        nxt = trigger.get_next_fire_time(previous, now)
        if nxt is None:
            break
        times.append(nxt)
        previous, now = nxt, _just_after(nxt)
    return times


def make_options(values: dict[str, Any]) -> sources.Options:
    """Options from YAML: dates come as date objects when unquoted, strings when quoted."""
    converted = dict(values)
    for key in ("start", "end"):
        if converted.get(key) is not None and not isinstance(converted[key], date):
            converted[key] = date.fromisoformat(str(converted[key]))
    return sources.Options(**converted)
