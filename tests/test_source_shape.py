"""Every source's test module has the same four parts (STYLE.md), first met in this order:

    test_parse_*          a saved page parsed, every field of a row read from the file itself
    test_layout_break_*   a page whose structure changed is the project's clear error
    test_recorded_*       a fetch replayed from a cassette (pytest-vcr, record mode none)
    test_idempotent_*     the same data loaded twice writes no new version

Each part opens with a section comment (`# --- (a) parse ...`). A source that makes no HTTP
request names, in NO_HTTP, the test that reads its files instead of a recorded one.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from sanctuarywatch.sources import SOURCE_MODULES, get

TESTS = Path(__file__).resolve().parent
PARTS = ("parse", "layout_break", "recorded", "idempotent")
SECTIONS = ("# --- (a) parse", "# --- (b) layout break", "# --- (c) ", "# --- (d) idempotence")
NO_HTTP = {"published_figures": "test_bundled_figures_load_with_their_provenance"}


def module_tests(slug: str) -> list[ast.FunctionDef]:
    """The module's top-level test functions, in file order."""
    tree = ast.parse((TESTS / f"test_{slug}.py").read_text(encoding="utf-8"))
    return [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]


def first_of(part: str, names: list[str], slug: str) -> int:
    """Where the part's first test stands in the module."""
    if part == "recorded" and slug in NO_HTTP:
        return names.index(NO_HTTP[slug])
    found = [n for n, name in enumerate(names) if name.startswith(f"test_{part}_")]
    assert found, f"tests/test_{slug}.py has no test_{part}_* test"
    return found[0]


def vcr_cassette(test: ast.FunctionDef) -> str | None:
    """The cassette a test's `@pytest.mark.vcr` replays (its name, or the mark's `cassette`);
    None without the mark."""
    for decorator in test.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        mark = call.func if call else decorator
        if isinstance(mark, ast.Attribute) and mark.attr == "vcr":
            named = [k.value for k in call.keywords if k.arg == "cassette"] if call else []
            if named and isinstance(named[0], ast.Constant):
                return str(named[0].value)
            return test.name
    return None


@pytest.mark.parametrize("slug", SOURCE_MODULES)
def test_every_source_test_module_has_the_four_parts_in_order(slug: str) -> None:
    names = [test.name for test in module_tests(slug)]
    firsts = [first_of(part, names, slug) for part in PARTS]
    assert firsts == sorted(firsts), (
        f"tests/test_{slug}.py: parts first met as {[names[n] for n in firsts]}, "
        f"not in the order {', '.join(PARTS)}"
    )


@pytest.mark.parametrize("slug", SOURCE_MODULES)
def test_every_part_opens_with_its_section_comment(slug: str) -> None:
    lines = (TESTS / f"test_{slug}.py").read_text(encoding="utf-8").splitlines()
    found = [next((n for n, line in enumerate(lines) if line.startswith(s)), -1) for s in SECTIONS]
    at = dict(zip(SECTIONS, found, strict=True))
    assert -1 not in found and found == sorted(found), (
        f"tests/test_{slug}.py: section comments at lines {at} (-1: missing), not in this order"
    )


@pytest.mark.parametrize("slug", SOURCE_MODULES)
def test_recorded_tests_replay_a_saved_cassette(slug: str) -> None:
    recorded = [test for test in module_tests(slug) if test.name.startswith("test_recorded_")]
    for test in recorded:
        cassette = vcr_cassette(test)
        assert cassette, f"{test.name} in tests/test_{slug}.py is not marked vcr"
        path = TESTS / "cassettes" / f"test_{slug}" / f"{cassette}.yaml"
        assert path.is_file(), f"{test.name} replays {path}, which is not there"


@pytest.mark.parametrize("slug", sorted(NO_HTTP))
def test_a_source_said_to_make_no_request_makes_none(slug: str) -> None:
    assert "client.get(" not in inspect.getsource(get(slug)), (
        f"{slug} now fetches over HTTP: give it a test_recorded_* test and a cassette"
    )
