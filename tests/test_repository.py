"""Repository-wide checks: every source has its docstring, fixtures, tests and README row."""

from __future__ import annotations

from pathlib import Path

import pytest

from sanctuarywatch import sources

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("slug", sources.SOURCE_MODULES)
def test_every_source_is_complete(slug: str) -> None:
    module = sources.get(slug)
    doc = module.__doc__ or ""
    assert slug == module.SLUG
    assert module.URL.split("?")[0].split("/{")[0] in doc or module.URL in doc, (
        "docstring names the URL"
    )
    for attribute in ("PUBLISHER", "FORMAT", "CADENCE", "TABLES", "REQUESTS_PER_SECOND"):
        assert getattr(module, attribute), attribute
    for function in ("fetch", "parse", "normalize", "advance"):
        assert callable(getattr(module, function)), function
    assert (ROOT / "tests" / f"test_{slug}.py").exists(), "a test module"
    assert any((ROOT / "tests" / "fixtures" / slug).iterdir()), "saved real (or labelled) pages"
    assert f"`{slug}`" in README, "a row in the README's source table"


def test_readme_quick_start_commands_exist_in_the_makefile() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("demo", "test"):
        assert f"make {target}" in README and f"\n{target}:" in makefile
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
