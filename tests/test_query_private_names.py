"""One home for queries: no module reaches into another's private names (issue 18).

A private name (`_as_of`) is free to change with its module; a caller elsewhere that
imports it, or reads it through the module (`helpers._as_of`), breaks silently when it
does. Names used by other modules are public (`helpers.as_of`).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "sanctuarywatch"


def private_reaches(path: Path) -> list[str]:
    """`from sanctuarywatch.x import _y` and `x._y` for a module `x` imported from the
    package, in one file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found, modules = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sanctuarywatch"):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"line {node.lineno}: from {node.module} import {alias.name}")
                modules.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
    return found


def test_no_module_uses_another_modules_private_names() -> None:
    found = {
        str(path.relative_to(PACKAGE)): reaches
        for path in sorted(PACKAGE.rglob("*.py"))
        if (reaches := private_reaches(path))
    }
    assert found == {}


def test_a_private_reach_is_found(tmp_path: Path) -> None:
    module = tmp_path / "chart.py"
    module.write_text(
        "from sanctuarywatch.query.helpers import _as_of\n"
        "from sanctuarywatch.query import helpers\n"
        "cut = helpers._same_day_last_year\n",
        encoding="utf-8",
    )
    assert private_reaches(module) == [
        "line 1: from sanctuarywatch.query.helpers import _as_of",
        "line 3: helpers._same_day_last_year",
    ]
