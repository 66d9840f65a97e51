"""sanctuarywatch: official claims about crime and immigration policy, re-checked from the sources.

Import it to query the warehouse (`sanctuarywatch.load.warehouse.connect`), run collections
(`sanctuarywatch.collect`), or use the command line (`sanctuarywatch --help`). The layout is
in ARCHITECTURE.md. The modules most used from a notebook are reachable from the top as well
(`from sanctuarywatch import claims, helpers, warehouse`), loaded when first asked for.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__version__ = "0.1.0"

_SHORTCUTS = {
    "claims": "sanctuarywatch.query.claims",
    "helpers": "sanctuarywatch.query.helpers",
    "coverage": "sanctuarywatch.load.coverage",
    "jurisdictions": "sanctuarywatch.query.jurisdictions",
    "warehouse": "sanctuarywatch.load.warehouse",
    "archive": "sanctuarywatch.load.archive",
    "export": "sanctuarywatch.present.export",
    "report": "sanctuarywatch.present.report",
    "demo": "sanctuarywatch.present.demo",
}


def __getattr__(name: str) -> ModuleType:
    """`sanctuarywatch.claims` and the like, imported on first use (PEP 562)."""
    if name in _SHORTCUTS:
        return importlib.import_module(_SHORTCUTS[name])
    raise AttributeError(f"module 'sanctuarywatch' has no attribute {name!r}")
