"""A static HTML report of the claims ledger: one self-contained file anyone can open or host.

Each claim shows what was said, by whom and when, the verdict with its reason, the caveats,
the computed values and the evidence behind each value (the SQL, its parameters, the raw
responses with URLs and fetch times). Claims that contradict each other are set side by side,
and the year-to-date chart is embedded as a data: URI so the file travels alone.

Every claim and value carries data attributes (`data-claim-id`, `data-verdict`, `data-value`)
so a test, or a reader's script, can take the numbers back out of the page and check them
against the ledger. The full ledger is also embedded as JSON (`#ledger-data`).
"""

from __future__ import annotations

import base64
import json
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from html import escape
from pathlib import Path
from typing import Any

import duckdb

from sanctuarywatch.present import chart
from sanctuarywatch.query.claims import VERDICTS, Evaluation, evaluate_all
from sanctuarywatch.query.helpers import Caveat, Figure

TITLE = "sanctuarywatch: the claims ledger"

CSS = """
:root { --ink: #1f2d3a; --muted: #5f6b76; --line: #d9dee3; --bg: #f7f8fa;
  --supported: #1e7d46; --contradicted: #b03a2e; --mixed: #b9770e; --unverifiable: #5d6d7e; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
  color: var(--ink); background: var(--bg); margin: 0; overflow-wrap: anywhere; }
header, main, section.block { max-width: 1100px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 24px; }
h1 { margin: 0 0 4px; font-size: 26px; }
h2 { margin: 32px 0 12px; font-size: 20px; border-bottom: 2px solid var(--line);
  padding-bottom: 4px; }
.sub { color: var(--muted); margin: 0 0 12px; }
.summary { display: flex; gap: 10px; flex-wrap: wrap; margin: 12px 0; }
.summary button { border: 1px solid var(--line); background: #fff; border-radius: 6px;
  padding: 6px 12px; font: inherit; cursor: pointer; }
.summary button[aria-pressed="true"] { outline: 2px solid var(--ink); }
.badge { display: inline-block; color: #fff; border-radius: 4px; padding: 1px 8px;
  font-size: 13px; font-weight: 600; text-transform: uppercase; letter-spacing: .03em; }
.badge.supported { background: var(--supported); }
.badge.contradicted { background: var(--contradicted); }
.badge.mixed { background: var(--mixed); } .badge.unverifiable { background: var(--unverifiable); }
ol.toc { columns: 2; padding-left: 20px; } ol.toc li { break-inside: avoid; margin-bottom: 2px; }
.chart img { max-width: 100%; border: 1px solid var(--line); background: #fff; }
.conflict { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; margin-bottom: 16px; }
.side { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.claim { background: #fff; border: 1px solid var(--line);
  border-left: 6px solid var(--unverifiable); border-radius: 8px; padding: 14px 18px;
  margin-bottom: 18px; }
.claim[data-verdict="supported"] { border-left-color: var(--supported); }
.claim[data-verdict="mixed"] { border-left-color: var(--mixed); }
.claim[data-verdict="contradicted"] { border-left-color: var(--contradicted); }
.claim h3 { margin: 0 0 4px; font-size: 17px; }
details.more > summary { font-weight: 600; margin-top: 6px; }
ol.toc .who { color: var(--muted); font-size: 13px; }
blockquote { margin: 0 0 6px; font-style: italic; }
.meta { color: var(--muted); font-size: 13px; margin: 0 0 8px; }
dl.stated { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 6px 0; }
dl.stated dt { color: var(--muted); } dl.stated dd { margin: 0; }
.reason { margin: 8px 0; }
ul.caveats { margin: 6px 0; padding-left: 20px; }
.kind { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px;
  background: #eef1f4; border-radius: 3px; padding: 0 4px; }
.check { border-top: 1px dashed var(--line); padding-top: 8px; margin-top: 8px; }
table.figures { border-collapse: collapse; width: 100%; margin: 6px 0; }
table.figures td { border-bottom: 1px solid #eef1f4; padding: 3px 6px; vertical-align: top; }
td.value { text-align: right; font-variant-numeric: tabular-nums; font-weight: 600;
  white-space: nowrap; }
details { margin: 4px 0 8px; } summary { cursor: pointer; color: var(--muted); }
pre { background: #f3f5f7; padding: 8px; overflow-x: auto; font-size: 12px; white-space: pre-wrap;
  word-break: break-word; }
ul.responses { font-size: 12px; padding-left: 18px; word-break: break-all; }
.hidden { display: none; }
footer { max-width: 1100px; margin: 30px auto; padding: 0 20px; color: var(--muted);
  font-size: 13px; }
@media (max-width: 760px) { .conflict { grid-template-columns: 1fr; } ol.toc { columns: 1; }
  header, main, section.block, footer { padding: 0 10px; }
  .claim { padding: 10px 12px; } td.value { white-space: normal; } }
"""

# Filter by verdict. On load, record what the browser drew (chart decoded, conflict pairs level)
# so a headless check can read it back from the DOM.
SCRIPT = """
(function () {
  var buttons = document.querySelectorAll('.summary button');
  buttons.forEach(function (button) {
    button.addEventListener('click', function () {
      var on = button.getAttribute('aria-pressed') !== 'true';
      buttons.forEach(function (b) { b.setAttribute('aria-pressed', 'false'); });
      button.setAttribute('aria-pressed', on ? 'true' : 'false');
      var verdict = button.dataset.verdict;
      document.querySelectorAll('section.claim').forEach(function (c) {
        c.classList.toggle('hidden', on && verdict !== 'all' && c.dataset.verdict !== verdict);
      });
    });
  });
  window.addEventListener('load', function () {
    document.querySelectorAll('img').forEach(function (img) {
      img.dataset.rendered = String(img.complete && img.naturalWidth > 0);
    });
    document.querySelectorAll('.conflict').forEach(function (pair) {
      var sides = pair.querySelectorAll('.side');
      var level = sides.length === 2 &&
        sides[0].getBoundingClientRect().top === sides[1].getBoundingClientRect().top;
      pair.dataset.layout = level ? 'side-by-side' : 'stacked';
    });
    document.body.dataset.viewportWidth = String(document.documentElement.clientWidth);
    document.body.dataset.scrollWidth = String(document.documentElement.scrollWidth);
    document.body.dataset.ready = 'true';
  });
})();
"""


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _anchor(claim_id: str) -> str:
    return f"claim-{claim_id}"


def _data_value(value: float | None) -> str:
    """Exact value for machines: int as int, float by repr; empty for no value."""
    if value is None:
        return ""
    return str(value) if isinstance(value, int) else repr(float(value))


def _shown(figure: Figure) -> str:
    """Value for readers: thousands separators, no trailing zeros, % for percentages."""
    if figure.value is None:
        return "no value"
    text = f"{figure.value:,.2f}".rstrip("0").rstrip(".")
    return text + ("%" if figure.inputs.get("unit") == "percent" else "")


def _badge(verdict: str) -> str:
    return f'<span class="badge {_e(verdict)}" data-verdict="{_e(verdict)}">{_e(verdict)}</span>'


def _caveats(caveats: Iterable[Caveat]) -> str:
    items = "".join(
        f'<li data-caveat-kind="{_e(c.kind)}"><span class="kind">{_e(c.kind)}</span> '
        f"{_e(c.detail)}</li>"
        for c in caveats
    )
    return f'<ul class="caveats">{items}</ul>' if items else '<p class="meta">No caveats.</p>'


def _response(item: dict[str, Any]) -> str:
    url = str(item.get("url") or "")
    linked = url.startswith(("http://", "https://"))
    link = f'<a href="{_e(url)}">{_e(url)}</a>' if linked else _e(url)
    fetched = _e(item.get("fetched_at", ""))
    return (
        f'<li data-source="{_e(item.get("source", ""))}"><span class="kind">'
        f"{_e(item.get('source', ''))}</span> {link} fetched "
        f'<time datetime="{fetched}">{fetched}</time></li>'
    )


def _evidence(figure: Figure) -> str:
    parts = [f'<pre class="inputs">inputs: {_e(json.dumps(figure.to_dict()["inputs"]))}</pre>']
    for item in figure.evidence:
        parts.append(f'<pre class="sql">{_e(item.get("sql", ""))}</pre>')
        if item.get("params"):
            parts.append(f'<p class="meta">parameters: <code>{_e(item["params"])}</code></p>')
        publication = item.get("publication") or {}
        if publication.get("url"):
            parts.append(
                f'<p class="publication">Published by {_e(publication.get("by", ""))} on '
                f'{_e(publication.get("published_on", ""))}: <a href="{_e(publication["url"])}">'
                f"{_e(publication['url'])}</a></p>"
            )
        responses = item.get("responses") or []
        if responses:
            parts.append(f'<ul class="responses">{"".join(map(_response, responses))}</ul>')
    if not figure.evidence:
        parts.append('<p class="meta">No query behind this value (see its caveats).</p>')
    what = _evidence_count(figure.evidence) if figure.evidence else "inputs only"
    return (
        f'<details class="evidence"><summary>Evidence: {what}</summary>{"".join(parts)}</details>'
    )


def _evidence_count(evidence: list[dict[str, Any]]) -> str:
    """'1 query, 3 source responses'."""
    count = sum(len(item.get("responses") or []) for item in evidence)
    plural = "y" if len(evidence) == 1 else "ies"
    return f"{len(evidence)} quer{plural}, {count} source response{'' if count == 1 else 's'}"


def _figure_row(figure: Figure, index: int) -> str:
    kinds = " ".join(sorted({c.kind for c in figure.caveats}))
    return (
        f'<tr class="figure" data-figure-index="{index}" data-caveat-kinds="{_e(kinds)}">'
        f'<td class="label">{_e(figure.label)}{_evidence(figure)}</td>'
        f'<td class="value" data-value="{_data_value(figure.value)}">'
        f"{_e(_shown(figure))}</td></tr>"
    )


def _check(ev: Evaluation, index: int) -> str:
    check = ev.checks[index]
    rows = "".join(_figure_row(f, i) for i, f in enumerate(check.figures))
    table = f'<table class="figures">{rows}</table>' if rows else ""
    return (
        f'<div class="check" data-check-index="{index}" data-verdict="{_e(check.verdict)}">'
        f'<p>Check {index + 1}: {_badge(check.verdict)} <span class="check-reason">'
        f"{_e(check.reason)}</span></p>{table}</div>"
    )


def _claim(ev: Evaluation) -> str:
    claim = ev.claim
    conflict = ""
    if claim.conflicts_with:
        other = claim.conflicts_with
        conflict = (
            f'<p class="meta">Conflicts with <a href="#{_e(_anchor(other))}">{_e(other)}</a> '
            '(see <a href="#conflicts">side by side</a>)</p>'
        )
    checks = "".join(_check(ev, i) for i in range(len(ev.checks)))
    return (
        f'<section class="claim" id="{_e(_anchor(claim.id))}" data-claim-id="{_e(claim.id)}" '
        f'data-verdict="{_e(ev.verdict)}" data-compared-on="{ev.compared_on}">'
        f"<h3>{_badge(ev.verdict)} {_e(claim.said_by)}, {claim.said_on:%b %-d, %Y}</h3>"
        f'<blockquote class="quote">{_e(claim.quote)}</blockquote>'
        f'<p class="meta"><span class="said-by">{_e(claim.said_by)}</span>, '
        f'<time class="said-on" datetime="{claim.said_on}">{claim.said_on}</time>, in '
        f'<span class="article">{_e(claim.article)}</span>; id <code>{_e(claim.id)}</code>'
        f"</p>{conflict}"
        f'<p class="reason"><strong>Why:</strong> {_e(ev.reason)}</p>'
        f'<details class="more"><summary>What was stated, caveats ({len(ev.caveats)}), '
        f"values and evidence</summary>"
        f'<dl class="stated"><dt>Stated</dt><dd class="stated-value">{_e(claim.stated)}</dd>'
        f'<dt>Comparison</dt><dd class="comparison">{_e(claim.comparison)}</dd>'
        f"<dt>Compared on</dt><dd>{ev.compared_on}"
        f"{f' (data as known on {ev.known_on})' if ev.known_on else ''}</dd></dl>"
        f"<h4>Caveats</h4>{_caveats(ev.caveats)}<h4>Values</h4>{checks}</details></section>"
    )


def _side(ev: Evaluation | None, claim_id: str) -> str:
    """A compact card of one side of a conflict: enough to compare without scrolling."""
    if ev is None:
        return (
            f'<div class="side" data-ref="{_e(claim_id)}"><p><code>{_e(claim_id)}</code> '
            "is not in this ledger.</p></div>"
        )
    values = "".join(
        f'<li>{_e(f.label)}: <strong data-value="{_data_value(f.value)}">'
        f"{_e(_shown(f))}</strong></li>"
        for c in ev.checks
        for f in c.figures
    )
    return (
        f'<div class="side" data-ref="{_e(ev.claim.id)}" data-verdict="{_e(ev.verdict)}">'
        f'<p>{_badge(ev.verdict)} <a href="#{_e(_anchor(ev.claim.id))}"><code>'
        f"{_e(ev.claim.id)}</code></a></p><blockquote>{_e(ev.claim.quote)}</blockquote>"
        f'<p class="meta">{_e(ev.claim.said_by)}, {ev.claim.said_on}; stated: '
        f"{_e(ev.claim.stated)}</p><p>{_e(ev.reason)}</p><ul>{values}</ul></div>"
    )


def _conflicts(evaluations: Sequence[Evaluation]) -> str:
    by_id = {ev.claim.id: ev for ev in evaluations}
    pairs = [
        (ev.claim.id, ev.claim.conflicts_with) for ev in evaluations if ev.claim.conflicts_with
    ]
    if not pairs:
        return ""
    blocks = "".join(
        f'<div class="conflict" data-claims="{_e(a)} {_e(b)}">{_side(by_id.get(a), a)}'
        f"{_side(by_id.get(b), b)}</div>"
        for a, b in pairs
    )
    return (
        f'<section class="block" id="conflicts"><h2>Claims in conflict</h2><p class="sub">'
        f"Each pair says opposite things about the same facts.</p>{blocks}</section>"
    )


def _summary(evaluations: Sequence[Evaluation]) -> str:
    counts = Counter(ev.verdict for ev in evaluations)
    buttons = [
        f'<button type="button" data-verdict="all" aria-pressed="false">all '
        f'<strong data-verdict-count="all">{len(evaluations)}</strong></button>'
    ]
    buttons += [
        f'<button type="button" data-verdict="{v}" aria-pressed="false">{_badge(v)} '
        f'<strong data-verdict-count="{v}">{counts.get(v, 0)}</strong></button>'
        for v in VERDICTS
    ]
    return f'<div class="summary">{"".join(buttons)}</div>'


def _toc(evaluations: Sequence[Evaluation]) -> str:
    items = "".join(
        f'<li>{_badge(ev.verdict)} <a href="#{_e(_anchor(ev.claim.id))}">{_e(ev.claim.quote)}</a>'
        f' <span class="who">{_e(ev.claim.said_by)}</span></li>'
        for ev in evaluations
    )
    return f'<ol class="toc">{items}</ol>'


def _chart(src: str, cutoff: date) -> str:
    return (
        f'<section class="block chart" id="chart" data-cutoff="{cutoff}"><h2>Year to date</h2>'
        f'<p class="sub">Murders counted from January 1, this year against last, read at the '
        f"same day ({cutoff:%B} {cutoff.day}): every point is a count the ledger computes, for "
        "every jurisdiction with data. A shaded box is one total an agency reported for several "
        "months; a hollow mark is a partial count, and the legend says why.</p>"
        f'<img src="{_e(src)}" alt="Murders since January 1, {cutoff.year} against '
        f'{cutoff.year - 1}, cut-off {cutoff}"></section>'
    )


def _ledger_json(evaluations: Sequence[Evaluation]) -> str:
    """The ledger as data, safe inside <script>: `</` cannot close the element early."""
    text = json.dumps([ev.to_dict() for ev in evaluations], default=str, ensure_ascii=False)
    return text.replace("</", "<\\/")


def _chart_src(
    con: duckdb.DuckDBPyConnection, out: Path, cutoff: date, embed: bool, known_on: date | None
) -> str:
    """The chart's PNG beside the page, or inside it as a data: URI (the page travels alone)."""
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp) / "chart.png" if embed else out.with_suffix(".png")
        png = chart.ytd_chart(con, cutoff, where, known_on=known_on)
        data = base64.b64encode(png.read_bytes()).decode("ascii")
        return f"data:image/png;base64,{data}" if embed else png.name


def render(
    evaluations: Sequence[Evaluation],
    chart_src: str | None,
    cutoff: date,
    known_on: date | None = None,
) -> str:
    """The page as a string (no I/O): the ledger, conflicts side by side, the chart."""
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    known = f"; data as known on {known_on}" if known_on else ""
    compared = sorted({str(ev.compared_on) for ev in evaluations})
    body = (
        f'<header><h1>{_e(TITLE)}</h1><p class="sub">{len(evaluations)} claims, compared on '
        f"{_e(', '.join(compared))}{_e(known)}. Generated {generated}.</p>"
        f"{_summary(evaluations)}{_toc(evaluations)}</header>"
        f"{_chart(chart_src, cutoff) if chart_src else ''}{_conflicts(evaluations)}"
        f'<main id="ledger"><h2>Claims</h2>{"".join(_claim(ev) for ev in evaluations)}</main>'
        f"<footer>Verdicts: supported (the data agrees), contradicted (it disagrees), mixed "
        f"(true under one reading, false under another), unverifiable (nothing loaded can test "
        f"it). Every value links to the query and the source responses behind it.</footer>"
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(TITLE)}</title><style>{CSS}</style></head>"
        f'<body data-claims="{len(evaluations)}">{body}'
        f'<script type="application/json" id="ledger-data">{_ledger_json(evaluations)}</script>'
        f"<script>{SCRIPT}</script></body></html>\n"
    )


def write_report(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    evaluations: Sequence[Evaluation] | None = None,
    as_of: date | None = None,
    known_on: date | None = None,
    cutoff: date | None = None,
    embed_chart: bool = True,
) -> Path:
    """Write the HTML report. Evaluates every claim when `evaluations` is not given, without
    recording them: writing a page is not a new evaluation run. With `embed_chart=False` the
    PNG is written beside the page (same name, .png) instead of inside it."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    if evaluations is None:
        evaluations = evaluate_all(con, as_of=as_of, known_on=known_on)
    day = cutoff or chart.default_cutoff([ev.claim for ev in evaluations], as_of)
    src = _chart_src(con, out, day, embed_chart, known_on)
    out.write_text(render(evaluations, src, day, known_on), encoding="utf-8")
    return out
