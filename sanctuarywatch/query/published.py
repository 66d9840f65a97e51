"""Figures that exist only in a publication (published_figures), with who published them.

Why apart from the counts: such a figure is never computed from data, so it carries a
`publication` caveat and the publication's own URL and date as its evidence; the claims
weigh it below data (`verdicts.combine`).
"""

from __future__ import annotations

import duckdb

from sanctuarywatch.query.figures import Caveat, Figure, KnownOn, as_of, evidence


def published(con: duckdb.DuckDBPyConnection, figure_id: str, known_on: KnownOn = None) -> Figure:
    """A figure that exists only in a publication, with who published it and where."""
    sql = (
        "SELECT value, unit, reporting_body, jurisdiction, publication_url, published_on, note, "
        "raw_sha256 FROM published_figures_as_of(?) WHERE figure_id = ?"
    )
    row = con.execute(sql, [as_of(known_on), figure_id]).fetchone()
    if row is None:
        return Figure(
            figure_id,
            None,
            {"figure_id": figure_id},
            [Caveat("no_source", f"published figure {figure_id} is not loaded")],
        )
    value, unit, body, jurisdiction, url, on, note, sha = row
    figure = Figure(
        f"{figure_id} ({body})",
        value,
        {
            "figure_id": figure_id,
            "reporting_body": body,
            "unit": unit,
            "jurisdiction": jurisdiction,
            "published_on": on,
            "publication_url": url,
        },
    )
    figure.caveats.append(
        Caveat(
            "publication",
            f"published by {body} on {on}, not computed from data" + (f"; {note}" if note else ""),
        )
    )
    behind = evidence(con, sql, [figure_id], [sha])
    behind["publication"] = {"url": url, "published_on": str(on), "by": body}
    figure.evidence.append(behind)
    return figure
