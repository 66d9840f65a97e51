"""Rebuilding the warehouse from the raw archive alone, through today's parsers.

Nothing is fetched. Every captured run is read back and checked before anything is cleared,
then the sources are cleared and their runs replayed in one transaction, each under a new
`runs` row (mode `rebuild`), with the captures it had to leave out.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import duckdb

from sanctuarywatch import sources
from sanctuarywatch.collect.loader import Loader, advance, normalise
from sanctuarywatch.collect.runs import (
    RunResult,
    abort,
    new_run_id,
    read_state,
    start_run,
    update_run,
    write_state,
)
from sanctuarywatch.collect.tuning import load_settings, restore
from sanctuarywatch.errors import ConfigError, LayoutError, SanctuaryWatchError
from sanctuarywatch.load.archive import Archive, Damage, DamagedArchiveError, Entry
from sanctuarywatch.sources import Options, Page

log = logging.getLogger(__name__)


def rebuild(
    con: duckdb.DuckDBPyConnection,
    archive: Archive,
    slugs: Iterable[str] | None = None,
    skip_damaged: bool = False,
) -> dict[str, RunResult]:
    """Reload the named sources (default: all in the archive) from raw captures only.

    Every captured run is read back and re-parsed before anything is cleared, because a
    rebuild must never lose data it cannot re-read: a blob missing, cut short or holding
    another body, a manifest line that is not an entry, a page that no longer parses, each
    fails the rebuild, naming the file, with the warehouse as it was. With `skip_damaged`
    the runs they belong to are left out instead: each result lists what it skipped, and
    `rows_before`/`rows_after` show what was not reloaded. The reload is one transaction.
    The claims are the job runner's (`scheduling.runner.rebuild_and_reevaluate`).
    """
    runs, damage = _checked_runs(archive, _known(slugs))
    # damage that names no run (no manifest line legible) cannot be skipped: fail
    if damage and not (skip_damaged and all(d.run_id for d in damage)):
        raise DamagedArchiveError(
            damage,
            "rebuild stopped, nothing changed (--skip-damaged reloads the rest without these runs)",
        )
    results = _rebuild_results(con, runs, damage)
    left_out = {d.run_id for d in damage}
    previous: dict[str, Any] = {}
    try:
        previous = load_settings(con)
        con.execute("BEGIN")
        _reload(con, archive, [(r, e) for r, e in runs.items() if r not in left_out], results)
        con.execute("COMMIT")
    except BaseException as exc:
        for result in results.values():
            abort(con, result, exc, 0)
        raise
    finally:
        restore(con, previous)
    return results


def _known(slugs: Iterable[str] | None) -> set[str] | None:
    """The sources asked for; a name that is none of them is an error, not 'no captures'."""
    wanted = set(slugs or ())
    if unknown := sorted(wanted - set(sources.SOURCE_MODULES)):
        names = ", ".join(repr(name) for name in unknown)
        known = ", ".join(sources.SOURCE_MODULES)
        raise ConfigError("rebuild", f"unknown source {names}; known sources: {known}")
    return wanted or None


def _checked_runs(
    archive: Archive, slugs: set[str] | None
) -> tuple[dict[str, list[Entry]], list[Damage]]:
    """The captured runs of the sources asked for, and what of them cannot be read back."""
    runs, damage = _captured_runs(archive, slugs)
    for run_id, entries in runs.items():
        damage += _unreadable(archive, run_id, entries)
    return runs, damage


def _captured_runs(
    archive: Archive, slugs: set[str] | None
) -> tuple[dict[str, list[Entry]], list[Damage]]:
    entries, damage = archive.scan()
    runs: dict[str, list[Entry]] = {}
    for entry in entries:
        if entry.source in sources.SOURCE_MODULES and (slugs is None or entry.source in slugs):
            runs.setdefault(entry.run_id, []).append(entry)
    ours = [d for d in damage if slugs is None or d.source is None or d.source in slugs]
    return dict(sorted(runs.items(), key=lambda item: item[1][0].fetched_at)), ours


def _unreadable(archive: Archive, run_id: str, entries: list[Entry]) -> list[Damage]:
    """A run's blobs that cannot be read back as written, and the first of its pages that
    no longer parses (one is enough to fail it; a parser change often fails them all)."""
    source = sources.get(entries[0].source)
    blobs: list[Damage] = []
    page: Damage | None = None
    for entry in entries:
        try:
            fetched = archive.fetched(entry)
        except LayoutError as exc:
            blobs.append(
                Damage(entry.source, run_id, exc.where, f"{exc.found} (expected {exc.expected})")
            )
            continue
        if page is None:
            try:
                normalise(source, source.parse(fetched, entry.kind), entry.kind)
            except SanctuaryWatchError as exc:
                page = Damage(entry.source, run_id, entry.url, str(exc).splitlines()[0])
    return blobs + ([page] if page else [])


def _rebuild_results(
    con: duckdb.DuckDBPyConnection, runs: dict[str, list[Entry]], damage: list[Damage]
) -> dict[str, RunResult]:
    """A `runs` row for each source the rebuild reloads, with the captures it leaves out."""
    touched = {entries[0].source for entries in runs.values()}
    touched |= {d.source for d in damage if d.source in sources.SOURCE_MODULES}
    results = {slug: RunResult(new_run_id(slug), slug, "rebuild") for slug in sorted(touched)}
    for found in damage:
        if found.source in results:
            results[found.source].skipped.append(found)
        log.warning("rebuild skips %s; its rows are not reloaded", found)
    for result in results.values():
        start_run(con, result, "rebuild")
    return results


def _reload(
    con: duckdb.DuckDBPyConnection,
    archive: Archive,
    runs: list[tuple[str, list[Entry]]],
    results: dict[str, RunResult],
) -> None:
    """Inside the rebuild's transaction: clear the sources, replay their runs, record."""
    for result in results.values():
        result.rows_before = _current_rows(con, result.source)
    _clear(con, list(results))
    for run_id, entries in runs:
        _replay(con, archive, run_id, entries, results[entries[0].source])
    for result in results.values():
        result.rows_after = _current_rows(con, result.source)
        result.status, result.ended_at = "success", datetime.now(UTC)
        update_run(con, result)
        if result.skipped:
            log.warning(
                "rebuild %s: %d current rows before, %d after; %d captures skipped",
                result.source,
                result.rows_before,
                result.rows_after,
                len(result.skipped),
            )


def _current_rows(con: duckdb.DuckDBPyConnection, slug: str) -> int:
    total = 0
    for table in sources.get(slug).TABLES:
        row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
        total += int(row[0]) if row else 0
    return total


def _clear(con: duckdb.DuckDBPyConnection, slugs: list[str]) -> None:
    for slug in slugs:
        for table in sources.get(slug).TABLES:
            con.execute(f"DELETE FROM {table}_versions")
        con.execute("DELETE FROM raw_responses WHERE source = ?", [slug])
        con.execute("DELETE FROM source_state WHERE source = ?", [slug])


def _replay(
    con: duckdb.DuckDBPyConnection,
    archive: Archive,
    run_id: str,
    entries: list[Entry],
    result: RunResult,
) -> None:
    source = sources.get(entries[0].source)
    loader = Loader(con, source, run_id)
    state = read_state(con, source.SLUG)
    for entry in entries:
        fetched = archive.fetched(entry)
        page = Page(entry.kind, fetched, source.parse(fetched, entry.kind))
        state = advance(source, state, loader.add(page, entry), Options(mode="incremental"))
    state = advance(source, state, loader.flush(), Options(mode="incremental"))
    result.counts.add(loader.merge())
    write_state(con, source.SLUG, state)
