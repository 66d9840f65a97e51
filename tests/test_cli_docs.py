"""The documentation keeps up with the code (issue 18): every command of the command line is
listed in `sanctuarywatch --help` and named in the README, and every source is collected by
some job that cron.yaml runs (jobs/*.yaml), so none is documented but never scheduled."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from sanctuarywatch import cli
from sanctuarywatch.scheduling import schedule
from sanctuarywatch.sources import SOURCE_MODULES

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in cli.parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_command_is_in_the_help_and_the_readme() -> None:
    top = cli.parser().format_help()
    assert set(_subparsers()) == set(cli.COMMANDS) == set(cli.COMMAND_HELP)
    for name in cli.COMMANDS:
        assert re.search(rf"^  {name} +\S", top, flags=re.MULTILINE), name
        assert re.search(rf"\bsanctuarywatch {name}\b", README), name


def test_every_source_is_collected_by_a_job() -> None:
    plan = schedule.load(REPO / "cron.yaml")
    collected = {step.source for job in plan.jobs.values() for step in job.steps}
    assert set(SOURCE_MODULES) - collected == set(), "sources no job in cron.yaml collects"
    assert collected <= set(SOURCE_MODULES), "jobs collecting sources that do not exist"


def test_every_job_definition_is_run() -> None:
    """A file in jobs/ that no job of cron.yaml runs would look scheduled and never be."""
    plan = schedule.load(REPO / "cron.yaml")
    defined = {path.stem for path in schedule.jobs_dir(plan.path).glob("*.yaml")}
    assert defined == {job.definition for job in plan.jobs.values()}
