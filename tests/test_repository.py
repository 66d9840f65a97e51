"""Repository-wide checks: every source has its docstring, fixtures, tests and README row."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sanctuarywatch import sources
from sanctuarywatch.load import sqlnorm

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
    for function in ("fetch", "parse", "advance"):
        assert callable(getattr(module, function)), function
    ways = [way for way in ("normalize", "NORMALIZER") if hasattr(module, way)]
    assert len(ways) == 1, f"one way to normalise (normalize or NORMALIZER), not {ways}"
    if ways == ["NORMALIZER"]:
        assert isinstance(module.NORMALIZER, sqlnorm.Normaliser)
        assert (module.NORMALIZER.source, module.NORMALIZER.table in module.TABLES) == (slug, True)
    else:
        assert callable(module.normalize)
    assert (ROOT / "tests" / f"test_{slug}.py").exists(), "a test module"
    assert any((ROOT / "tests" / "fixtures" / slug).iterdir()), "saved real (or labelled) pages"
    assert f"`{slug}`" in README, "a row in the README's source table"


def test_platform_code_is_handed_what_it_reads_not_a_module() -> None:
    """Code shared by a platform's sources reads an explicit description (a socrata.Dataset,
    the calling source's slug), never a source module handed to it, nor a slug of its own."""
    folder = ROOT / "sanctuarywatch" / "sources"
    slugs = "|".join(sources.SOURCE_MODULES)
    own_slug = re.compile(rf"^\w+\s*=\s*[\"']({slugs})[\"']", re.M)
    found = {
        str(path.relative_to(folder)): text
        for path in folder.rglob("*.py")
        if (text := path.read_text(encoding="utf-8"))
    }
    assert [name for name, text in found.items() if "sys.modules" in text] == []
    platforms = {name: text for name, text in found.items() if name.startswith("platforms/")}
    assert [name for name, text in platforms.items() if "ModuleType" in text] == []
    assert [name for name, text in platforms.items() if own_slug.search(text)] == []


def test_readme_quick_start_commands_exist_in_the_makefile() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("demo", "test"):
        assert f"make {target}" in README and f"\n{target}:" in makefile
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_each_view_and_macro_is_defined_once_outside_the_numbered_files() -> None:
    """Views and macros hold no data: one definition each, in warehouse/views/, re-applied on
    migrate; the numbered files create tables only."""
    pattern = re.compile(r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:VIEW|MACRO)\s+(\w+)", re.I)
    root = Path(__file__).resolve().parents[1] / "warehouse"
    numbered = [n for f in root.glob("[0-9]*.sql") for n in pattern.findall(f.read_text())]
    assert numbered == []
    names = [n for f in sorted(root.glob("views/*.sql")) for n in pattern.findall(f.read_text())]
    assert len(names) == len(set(names)) > 20


def test_changed_views_reach_an_existing_warehouse(tmp_path: Path) -> None:
    from sanctuarywatch.load import warehouse

    con = warehouse.connect(tmp_path / "w.duckdb")
    con.execute("DROP VIEW claim_ledger")  # as if an older definition were in the file
    con.execute("UPDATE schema_views SET sha256 = 'older'")
    con.close()
    con = warehouse.connect(tmp_path / "w.duckdb")
    assert con.execute("SELECT count(*) FROM claim_ledger").fetchone() == (0,)
    con.close()
