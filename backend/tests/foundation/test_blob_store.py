"""The local blob store: content-addressed keys, atomic names, one durable sync per batch."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from postdesk import storage
from postdesk.storage import BlobNotFound, LocalBlobStore


async def test_a_batch_is_stored_once_per_content_and_synced_once(tmp_path: Path, monkeypatch) -> None:
    syncs: list[int] = []
    real_sync = LocalBlobStore._sync
    monkeypatch.setattr(LocalBlobStore, "_sync", lambda self: (syncs.append(1), real_sync(self)))
    store = LocalBlobStore(tmp_path)

    keys = await store.put_many([b"first", b"second", b"first"])
    assert keys[0] == keys[2] != keys[1]
    assert keys[1] == f"sha256/{hashlib.sha256(b'second').hexdigest()[:2]}/" \
                      f"{hashlib.sha256(b'second').hexdigest()[2:4]}/{hashlib.sha256(b'second').hexdigest()}"
    assert [await store.get(key) for key in keys] == [b"first", b"second", b"first"]
    assert syncs == [1]
    # Writing it again stores nothing new, and no temporary file is ever left behind.
    assert await store.put(b"second") == keys[1]
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(k.rpartition("/")[2] for k in keys[:2])


async def test_a_batch_written_by_another_process_is_made_durable_by_the_caller(tmp_path: Path, monkeypatch) -> None:
    # The preparing worker writes without syncing; the fetcher syncs before it records anything.
    syncs: list[int] = []
    real_sync = LocalBlobStore._sync
    monkeypatch.setattr(LocalBlobStore, "_sync", lambda self: (syncs.append(1), real_sync(self)))
    store = LocalBlobStore(tmp_path)

    keys = store.put_many_blocking([b"raw message", b"its attachment"], durable=False)
    assert syncs == []
    await store.make_durable()
    assert syncs == [1]
    assert [await store.get(key) for key in keys] == [b"raw message", b"its attachment"]
    # A shard directory removed meanwhile (a cleanup) is made again.
    for key in keys:
        (tmp_path / key).unlink()
        (tmp_path / key).parent.rmdir()
    assert store.put_many_blocking([b"raw message"]) == keys[:1] and await store.get(keys[0]) == b"raw message"


async def test_only_keys_the_store_made_name_files(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    (tmp_path / "secret").write_bytes(b"not a blob")
    for key in ("../secret", "/etc/passwd", "sha256/00/00/../../secret", "secret"):
        with pytest.raises(BlobNotFound):
            await store.get(key)
    with pytest.raises(BlobNotFound):
        await store.get("sha256/00/00/" + "0" * 64)


async def test_a_failed_sync_fails_the_write(tmp_path: Path, monkeypatch) -> None:
    # Nothing may be recorded as stored when the disk did not confirm it (the fetcher retries the batch).
    assert storage._syncfs is not None  # Linux, where this suite runs; elsewhere the store uses sync(2)
    monkeypatch.setattr(storage, "_syncfs", lambda descriptor: -1)
    with pytest.raises(OSError, match="syncfs failed"):
        await LocalBlobStore(tmp_path).put(b"unconfirmed")
