"""The jurisdiction registry, read where no warehouse is open: one id per jurisdiction.

Ids are kind:code (state:IL, county:17031, place:1714000, agency:ILCPD0000), the same for the
DOJ tagger, the query helpers and the claims. The rows live in one file,
warehouse/views/05_jurisdictions.sql, which the warehouse applies on every migrate; this
module runs that same file in an in-memory DuckDB, so the tagger (which tags text without a
warehouse) and the tables cannot disagree and nothing is copied by hand. The file is read
once, on first use, so importing the tagger costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

REGISTRY_FILE = Path("views") / "05_jurisdictions.sql"


@dataclass(frozen=True)
class Jurisdiction:
    """One jurisdiction as the DOJ tagger needs it (the warehouse view holds the rest)."""

    jurisdiction_id: str
    kind: str  # state | county | place | agency
    name: str
    state: str | None  # USPS code
    doj_name: str | None  # how DOJ documents name it; None: the tagger does not look for it
    doj_aliases: tuple[str, ...]  # the exact spellings the tagger matches, longest first


def registry_file() -> Path:
    """The registry's SQL file: in the installed wheel, or warehouse/ in a checkout."""
    packaged = Path(str(resources.files("sanctuarywatch") / "_warehouse"))
    root = packaged if packaged.is_dir() else Path(__file__).resolve().parents[1] / "warehouse"
    return root / REGISTRY_FILE


@cache
def jurisdictions() -> tuple[Jurisdiction, ...]:
    """Every jurisdiction of the registry, by id."""
    import duckdb  # only when first read: tagging imports this module

    con = duckdb.connect(":memory:")
    try:
        con.execute(registry_file().read_text(encoding="utf-8"))
        rows = con.execute(
            "SELECT j.jurisdiction_id, j.kind, j.name, j.state_abbr, j.doj_name, "
            "coalesce(list(a.alias ORDER BY length(a.alias) DESC, a.alias) "
            "FILTER (WHERE a.doj), []) "
            "FROM jurisdictions j LEFT JOIN jurisdiction_aliases a USING (jurisdiction_id) "
            "GROUP BY ALL ORDER BY j.jurisdiction_id"
        ).fetchall()
    finally:
        con.close()
    return tuple(
        Jurisdiction(str(jid), str(kind), str(name), state, doj_name, tuple(aliases))
        for jid, kind, name, state, doj_name, aliases in rows
    )


def doj_jurisdictions() -> tuple[Jurisdiction, ...]:
    """The jurisdictions the DOJ tagger looks for."""
    return tuple(j for j in jurisdictions() if j.doj_name is not None)
