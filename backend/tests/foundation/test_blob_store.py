"""The local blob store: content-addressed keys, atomic names, one durable sync per batch; batches in pack files."""

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

    keys = store.put_pack_blocking([b"raw message", b"its attachment"], durable=False)
    assert syncs == []
    await store.make_durable()
    assert syncs == [1]
    assert [await store.get(key) for key in keys] == [b"raw message", b"its attachment"]


async def test_a_shard_directory_removed_meanwhile_is_made_again(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    [key] = await store.put_many([b"raw message"])
    (tmp_path / key).unlink()
    (tmp_path / key).parent.rmdir()  # a cleanup
    assert await store.put(b"raw message") == key and await store.get(key) == b"raw message"


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


async def test_a_fetched_batch_is_one_pack_file_read_back_by_range(tmp_path: Path, monkeypatch) -> None:
    syncs: list[int] = []
    real_sync = LocalBlobStore._sync
    monkeypatch.setattr(LocalBlobStore, "_sync", lambda self: (syncs.append(1), real_sync(self)))
    store = LocalBlobStore(tmp_path)
    items = [b"raw message one", b"its attachment", b"raw message one", b""]

    keys = store.put_pack_blocking(items)
    assert syncs == [1]
    assert [await store.get(key) for key in keys] == items
    assert len(set(keys)) == 4 and [await store.exists(key) for key in keys] == [True] * 4
    assert [p.relative_to(tmp_path).parts[0] for p in tmp_path.rglob("*") if p.is_file()] == ["pack"]
    # Another batch is another pack: packs are written once and never changed.
    [other] = store.put_pack_blocking([b"next batch"], durable=False)
    assert other.rpartition("/")[0] != keys[0].rpartition("/")[0] and await store.get(other) == b"next batch"
    assert len([p for p in tmp_path.rglob("*.pack")]) == 2


async def test_pack_keys_name_only_ranges_of_packs_the_store_made(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    [key] = store.put_pack_blocking([b"twelve bytes"])
    pack = key.rpartition("/")[0]
    for bad in (f"{pack}/0+13", f"{pack}/12+1", "pack/20261201/" + "0" * 32 + "/0+1"):
        assert not await store.exists(bad)
        with pytest.raises(BlobNotFound):
            await store.get(bad)
    for forged in (f"{pack}/../../secret/0+1", "pack/../../etc/passwd/0+1", f"{pack}/-1+5", f"{pack}/0+5/x"):
        with pytest.raises(BlobNotFound):
            await store.get(forged)
