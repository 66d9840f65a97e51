"""The layout of ARCHITECTURE.md holds: imports point down the layers, modules stay small."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sanctuarywatch"
# Lowest first: a module may import from its own layer or any layer before it.
LAYERS = (
    ("errors", "logs", "registry", "http", "schemas"),
    ("load",),
    ("sources",),
    ("collect",),
    ("query",),
    ("scheduling", "present"),
    ("cli", "views", "output", "__main__"),
)
# Imports taken at call time that point up, each for a stated reason.
LAZY_UPWARD: dict[tuple[str, str], str] = {}  # none today: claims after a load are the
# job runner's (scheduling.runner), not collect's
LIMIT = 400  # lines: no module above it


def layer(module: str) -> int:
    head = module.split(".")[0]
    for number, names in enumerate(LAYERS):
        if head in names:
            return number
    raise AssertionError(f"{module} is in no layer of ARCHITECTURE.md")


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if name:
            found[name] = path
    return found


def imports(path: Path) -> list[tuple[str, bool]]:
    """(what is imported, below sanctuarywatch; taken when the module loads?) for each."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sanctuarywatch"):
            base = (node.module or "").removeprefix("sanctuarywatch").lstrip(".")
            for alias in node.names:
                found.append((f"{base}.{alias.name}" if base else alias.name, id(node) in top))
    return found


@pytest.mark.parametrize("name", sorted(modules()))
def test_imports_point_down_the_layers(name: str) -> None:
    path = modules()[name]
    for target, at_import in imports(path):
        if target == "__version__" or layer(target) <= layer(name):
            continue
        assert not at_import, f"{name} imports {target} from a layer above it"
        assert any(name == n and target.startswith(t) for n, t in LAZY_UPWARD), (
            f"{name} reaches up to {target} without a stated reason"
        )


def test_modules_stay_small() -> None:
    sizes = {name: len(path.read_text().splitlines()) for name, path in modules().items()}
    over = sorted(name for name, lines in sizes.items() if lines > LIMIT)
    assert not over, f"modules over {LIMIT} lines: {over}"
