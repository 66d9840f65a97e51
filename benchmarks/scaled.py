"""A Socrata-shaped dataset of N rows made at request time from the 8,922 real Chicago rows.

Why generated, not stored: 8 million rows are ~3.7 GB of SODA JSON. Row i is real row
i mod 8,922 with a new unique `id` (i + 1) and `:id` (`row-{i:09d}`), so ordering by `:id`
is ordering by i and any page is made from per-row byte templates without ever holding the
dataset: the server's memory does not grow with N.

SoQL understood: the two queries the Chicago collector sends (a `date` window ordered by
`:id`, which every generated row matches, and `:updated_at >= X` ordered by `:updated_at, :id`)
plus `$limit`/`$offset`. `$where` on `date` is not filtered: every real row lies in 2001-2017.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from loopback import Answer, Route, soda_rows

_ID, _RID = "@@ID@@", "@@RID@@"
_SINCE = re.compile(r":updated_at\s*>=\s*'([^']*)'")
DATASET = "ijzp-q8t2"


class ScaledDataset:
    """N generated rows; `page(offset, limit)` returns the JSON bytes of one page."""

    def __init__(self, total: int) -> None:
        base = soda_rows()
        self.total, self.n = total, len(base)
        self.templates = [self._template(row) for row in base]
        self.stamps = [row[":updated_at"].rstrip("Z") for row in base]
        self.saved: tuple[Path, int] | None = None  # pages written by `save`, and their size

    @staticmethod
    def _template(row: dict[str, object]) -> tuple[bytes, bytes, bytes]:
        text = json.dumps(row | {"id": _ID, ":id": _RID}, separators=(",", ":"))
        head, rest = text.split(_ID)
        middle, tail = rest.split(_RID)
        return head.encode(), middle.encode(), tail.encode()

    def row(self, i: int) -> bytes:
        head, middle, tail = self.templates[i % self.n]
        return b"%s%d%srow-%09d%s" % (head, i + 1, middle, i, tail)

    def page(self, indices: Iterator[int] | range) -> bytes:
        return b"[" + b",\n".join(self.row(i) for i in indices) + b"]"

    def changed_since(self, since: str) -> list[int]:
        """Row indices with :updated_at >= since, in (`:updated_at`, `:id`) order."""
        bases = sorted((self.stamps[b], b) for b in range(self.n) if self.stamps[b] >= since)
        out: list[int] = []
        start = 0
        while start < len(bases):
            end = start
            while end < len(bases) and bases[end][0] == bases[start][0]:
                end += 1
            group = [b for _, b in bases[start:end]]
            out.extend(
                i for k in range(0, self.total, self.n) for b in group if (i := k + b) < self.total
            )
            start = end
        return out

    def save(self, folder: Path, size: int) -> int:
        """Write the dataset as pages of `size` rows (`page_NNNNN.json`), which `answer` then
        serves instead of making them again; return the bytes written."""
        folder.mkdir(parents=True, exist_ok=True)
        written = 0
        for offset in range(0, self.total, size):
            body = self.page(range(offset, min(offset + size, self.total)))
            (folder / f"page_{offset // size:05d}.json").write_bytes(body)
            written += len(body)
        self.saved = (folder, size)
        return written

    def answer(self, params: dict[str, str]) -> bytes:
        offset, limit = int(params.get("$offset", 0)), int(params.get("$limit", 1000))
        since = _SINCE.search(params.get("$where", ""))
        if since:
            return self.page(iter(self.changed_since(since.group(1))[offset : offset + limit]))
        if self.saved and limit == self.saved[1] and offset % limit == 0 and offset < self.total:
            return (self.saved[0] / f"page_{offset // limit:05d}.json").read_bytes()
        return self.page(range(offset, min(offset + limit, self.total)))


def scaled_route(dataset: ScaledDataset, log: list[tuple[str, int]] | None = None) -> Route:
    """The Chicago resource over a scaled dataset; `log` collects (query, bytes) per request."""

    def route(path: str, params: dict[str, str]) -> Answer | None:
        if path != f"/resource/{DATASET}.json":
            return None
        body = dataset.answer(params)
        if log is not None:
            log.append((params.get("$where", ""), len(body)))
        return 200, "application/json;charset=utf-8", body

    return route
