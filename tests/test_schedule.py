"""cron.yaml and jobs/: parsing, validation messages, and fire times computed without waiting."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger

from sanctuarywatch import sources
from sanctuarywatch.errors import ConfigError
from sanctuarywatch.scheduling import schedule

REPO = Path(__file__).resolve().parents[1]
NEW_YORK = ZoneInfo("America/New_York")
CRON = """\
defaults:
  timezone: America/Chicago
jobs:
  daily:
    schedule: "15 7 * * *"
    run: chicago
    options: {mode: incremental}
"""
DEFINITION = """\
sources:
  - il_chicago_crimes
  - il_chicago_violence_victims: {page_size: 1000}
claims: true
"""


def write(tmp_path: Path, cron: str = CRON, definition: str = DEFINITION) -> Path:
    (tmp_path / "jobs").mkdir(exist_ok=True)
    (tmp_path / "jobs" / "chicago.yaml").write_text(definition, encoding="utf-8")
    path = tmp_path / "cron.yaml"
    path.write_text(cron, encoding="utf-8")
    return path


def job(line: str, zone: str = "UTC") -> schedule.Job:
    return schedule.Job("test", line, zone, (), True, "test")


def fires(line: str, after: datetime, count: int = 3, zone: str = "UTC") -> list[datetime]:
    return schedule.next_fire_times(job(line, zone), after, count)


def test_the_shipped_schedule_loads_and_names_only_known_sources() -> None:
    plan = schedule.load(REPO / "cron.yaml")
    assert plan.jobs
    for each in plan.jobs.values():
        assert all(step.source in sources.SOURCE_MODULES for step in each.steps)
        assert fires(each.schedule, datetime(2026, 1, 1, tzinfo=UTC), zone=each.timezone)


def test_a_job_resolves_its_definition_and_options(tmp_path: Path) -> None:
    plan = schedule.load(write(tmp_path))
    daily = plan.job("daily")
    assert daily.timezone == "America/Chicago"
    assert [s.source for s in daily.steps] == ["il_chicago_crimes", "il_chicago_violence_victims"]
    options = daily.options(daily.steps[1])
    assert (options.mode, options.page_size) == ("incremental", 1000)
    assert daily.claims is True
    assert daily.misfire_grace_minutes == 60


def test_dates_in_options_become_dates(tmp_path: Path) -> None:
    definition = (
        'sources:\n  - il_chicago_crimes: {mode: backfill, start: "2001-01-01", end: 2018-01-01}\n'
    )
    daily = schedule.load(write(tmp_path, definition=definition)).job("daily")
    options = daily.options(daily.steps[0])
    assert (options.start.year, options.end.year) == (2001, 2018)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("cron", "definition", "key", "found"),
    [
        (CRON.replace("schedule:", "schedul:"), DEFINITION, "'schedul'", "unknown key"),
        (CRON.replace("15 7 * * *", "61 7 * * *"), DEFINITION, "'schedule'", "minute"),
        (CRON.replace("15 7 * * *", "15 7 * *"), DEFINITION, "'schedule'", "expected five"),
        (CRON.replace("15 7 * * *", "15 7 * * 8"), DEFINITION, "'schedule'", "0-7"),
        (CRON.replace("15 7 * * *", "15 7 1 * 1"), DEFINITION, "'schedule'", "write two jobs"),
        (CRON + "    timezone: Mars/Olympus\n", DEFINITION, "'timezone'", "unknown time zone"),
        (CRON.replace("run: chicago", "run: nowhere"), DEFINITION, "'run'", "'nowhere'"),
        (
            CRON.replace("mode: incremental", "mode: sometimes"),
            DEFINITION,
            "'options.mode'",
            "expected one of 'incremental' or 'backfill', found 'sometimes'",
        ),
        (
            CRON.replace("{mode: incremental}", "{page_size: abc}"),
            DEFINITION,
            "'options.page_size'",
            "expected a whole number, found 'abc'",
        ),
        (CRON, DEFINITION.replace("1000", "0"), "'sources[1].page_size'", ">= 1, found 0"),
        (
            CRON.replace("mode: incremental", "repull_days: -3"),
            DEFINITION,
            "'options.repull_days'",
            ">= 0, found -3",
        ),
        (CRON.replace("mode: incremental", "extra: 5"), DEFINITION, "'options.extra'", "mapping"),
        (CRON.replace("15 7 * * *", "0 6 30 2 *"), DEFINITION, "'schedule'", "never fires"),
        (CRON.replace("mode:", "mdoe:"), DEFINITION, "'options.mdoe'", "unknown key"),
        (
            CRON,
            DEFINITION.replace("il_chicago_crimes", "il_chicago_crime"),
            "'sources[0]'",
            "unknown source 'il_chicago_crime'",
        ),
        (CRON, DEFINITION.replace("page_size", "pagesize"), "'sources[1].pagesize'", "unknown"),
        (CRON, DEFINITION.replace("claims:", "claim:"), "'claim'", "unknown key"),
    ],
)
def test_errors_name_the_file_the_job_and_the_key(
    tmp_path: Path, cron: str, definition: str, key: str, found: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        schedule.load(write(tmp_path, cron, definition))
    message = str(caught.value)
    assert "job 'daily'" in message
    assert f"key {key}" in message
    assert found in message
    assert str(tmp_path) in message  # cron.yaml or jobs/chicago.yaml


def test_a_job_named_twice_is_refused_with_its_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cron.yaml, line 8: .*'daily' appears twice"):
        schedule.load(write(tmp_path, CRON + CRON.split("jobs:\n")[1]))


def test_a_file_that_is_not_utf8_is_named_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path)
    path.write_bytes(CRON.replace("jobs:", "# caf\xe9\njobs:").encode("latin-1"))
    with pytest.raises(ConfigError, match=r"cron.yaml, line 3: .*expected UTF-8"):
        schedule.load(path)


def test_unknown_top_level_key_and_unknown_job(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="key 'job': unknown key"):
        schedule.load(write(tmp_path, CRON.replace("jobs:", "job:")))
    with pytest.raises(ConfigError, match="unknown job 'weekly'; jobs: daily"):
        schedule.load(write(tmp_path)).job("weekly")


def test_cron_file_is_found_from_option_then_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(schedule.CRON_ENV, str(tmp_path / "from-env.yaml"))
    assert schedule.find_cron(tmp_path / "given.yaml") == tmp_path / "given.yaml"
    assert schedule.find_cron() == tmp_path / "from-env.yaml"


@pytest.mark.parametrize(
    ("crontab", "translated"),
    [
        ("0", "sun"),
        ("7", "sun"),
        ("1", "mon"),
        ("1-5", "mon,tue,wed,thu,fri"),
        ("0-2", "mon,tue,sun"),
        ("5-7", "fri,sat,sun"),
        ("*/2", "tue,thu,sat,sun"),
        ("sun,sat", "sat,sun"),
        ("MON-wed", "mon,tue,wed"),
        ("*", "*"),
    ],
)
def test_crontab_day_of_week_is_standard(crontab: str, translated: str) -> None:
    assert schedule.crontab_weekdays(crontab) == translated


def test_monday_means_monday() -> None:
    saturday = datetime(2026, 11, 21, 12, tzinfo=UTC)
    times = fires("0 9 * * 1", saturday, count=3)
    assert [t.weekday() for t in times] == [0, 0, 0]  # Python: Monday is 0
    assert times[0] == datetime(2026, 11, 23, 9, tzinfo=UTC)
    # APScheduler's own crontab reading would have picked Tuesday: the reason to translate
    assert (
        CronTrigger.from_crontab("0 9 * * 1", timezone=UTC)
        .get_next_fire_time(None, saturday)
        .weekday()
        == 1
    )


def test_sunday_is_zero_and_seven() -> None:
    saturday = datetime(2026, 11, 21, 12, tzinfo=UTC)
    assert fires("0 9 * * 0", saturday)[0] == fires("0 9 * * 7", saturday)[0]
    assert fires("0 9 * * 0", saturday)[0].weekday() == 6


def test_a_daily_job_runs_once_when_daylight_saving_time_ends() -> None:
    """01:30 happens twice in New York on 2026-11-01; the job must run once that day."""
    times = fires("30 1 * * *", datetime(2026, 10, 31, 12, tzinfo=NEW_YORK), 3, "America/New_York")
    assert [t.date().isoformat() for t in times] == ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert times[0].utcoffset() == NEW_YORK.utcoffset(datetime(2026, 10, 1))  # the EDT one
    plain = CronTrigger(hour=1, minute=30, timezone=NEW_YORK)
    first = plain.get_next_fire_time(None, datetime(2026, 10, 31, 12, tzinfo=NEW_YORK))
    assert plain.get_next_fire_time(first, first).date() == first.date()  # plain fires twice


def test_hourly_jobs_skip_only_the_repeated_hour() -> None:
    times = fires("30 * * * *", datetime(2026, 11, 1, 0, 0, tzinfo=NEW_YORK), 3, "America/New_York")
    utc = [t.astimezone(UTC) for t in times]  # same-zone subtraction ignores the DST change
    gaps = [(b - a).total_seconds() / 3600 for a, b in pairwise(utc)]
    assert gaps == [1.0, 2.0]  # 00:30 EDT, 01:30 EDT, then 02:30 EST


def test_a_time_skipped_in_spring_runs_once() -> None:
    times = fires("30 2 * * *", datetime(2026, 3, 7, 12, tzinfo=NEW_YORK), 2, "America/New_York")
    assert [t.date().isoformat() for t in times] == ["2026-03-08", "2026-03-09"]


def test_nicknames_and_intervals() -> None:
    start = datetime(2026, 11, 21, 12, 0, 5, tzinfo=UTC)
    assert fires("@daily", start, 1) == [datetime(2026, 11, 22, tzinfo=UTC)]
    assert fires("@weekly", start, 1)[0].weekday() == 6
    every = fires("@every 10s", start, 3)
    assert [(b - a).total_seconds() for a, b in pairwise(every)] == [10, 10]
    with pytest.raises(ValueError, match="expected five"):
        schedule.make_trigger("@sometimes", UTC)


def test_every_source_is_collected_by_some_scheduled_job() -> None:
    plan = schedule.load(REPO / "cron.yaml")
    scheduled = {step.source for each in plan.jobs.values() for step in each.steps}
    assert scheduled == set(sources.SOURCE_MODULES)
