"""Crontab lines as APScheduler triggers, with crontab's own meaning.

Day-of-week 0 and 7 are Sunday and 1 is Monday (APScheduler's `from_crontab` reads 0 as
Monday), so day-of-week is translated to day names here. Restricting both day-of-month and
day-of-week means "either" in crontab but "both" in APScheduler; that combination is
refused rather than silently changed. A wall-clock time that happens twice when daylight
saving time ends fires once. Nicknames (@daily) and `@every N{s,m,h}` are understood too.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

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


def fire_times(trigger: BaseTrigger, after: datetime, count: int) -> list[datetime]:
    """The trigger's next `count` fire times after `after`, computed without waiting."""
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
