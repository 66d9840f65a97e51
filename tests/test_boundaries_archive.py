"""The archive's write order (issue 17): a manifest line only ever names a blob that is
already on disk, so a crash between the two writes leaves at most an orphan blob (harmless:
content-addressed), never a line whose body is missing. Corrupted blobs are covered by
test_rebuild_damage (deleted, cut short, swapped) and test_archive_and_rebuild (not gzip).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from sanctuarywatch.http import Fetched
from sanctuarywatch.load.archive import Archive, read_blob

BODY = b'[{"id": "1"}]'


def _fetched(body: bytes = BODY) -> Fetched:
    return Fetched(
        "il_chicago_crimes",
        "http://127.0.0.1/resource/ijzp-q8t2.json?$offset=0",
        200,
        "application/json",
        body,
        datetime(2024, 1, 15, 3, tzinfo=UTC),
    )


def test_a_crash_writing_the_blob_leaves_no_manifest_line(archive: Archive) -> None:
    """The blob cannot be written (its folder's place is taken by a file): the store fails
    before the manifest is touched."""
    entry = Archive.entry(_fetched(), "run-1", "rows")
    archive.root.mkdir(parents=True)
    (archive.root / "blobs").write_bytes(b"not a folder")
    with pytest.raises(OSError):
        archive.store(entry, BODY)
    assert not archive.manifest.exists()
    assert list(archive.entries()) == []


def test_a_crash_writing_the_manifest_leaves_only_the_blob(archive: Archive) -> None:
    entry = Archive.entry(_fetched(), "run-1", "rows")
    archive.root.mkdir(parents=True)
    archive.manifest.mkdir()  # the manifest cannot be opened for appending
    with pytest.raises(OSError):
        archive.store(entry, BODY)
    assert read_blob(archive.blob_path(entry.sha256)) == BODY


def test_store_writes_the_blob_then_one_line_per_fetch(archive: Archive) -> None:
    entry = Archive.entry(_fetched(), "run-1", "rows")
    assert entry.sha256 == hashlib.sha256(BODY).hexdigest() and entry.bytes == len(BODY)
    archive.store(entry, BODY)
    archive.store(entry, BODY)
    path = archive.blob_path(entry.sha256)
    assert path.name == f"{entry.sha256}.zst" and path.parent.name == entry.sha256[:2]
    assert read_blob(path) == BODY == archive.body(entry)
    assert list(archive.entries()) == [entry, entry]
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    assert archive.fetched(entry) == _fetched()
