"""Where message bodies and attachments live: bytes addressed by key, behind a small interface
so object storage can be added beside the local directory without touching the domains.

Two kinds of keys:
- `sha256/ab/cd/<hash>`: one file per blob, content-addressed, so writing the same bytes twice (a job
  that runs again after a crash) stores them once and never leaves a half-written file under a real key.
- `pack/<day>/<id>/<offset>+<length>`: a range of a pack file holding a whole fetched batch (raw mail and
  attachments). Creating a file, and the two shard directories above it, cost more than the
  write itself on a journaling filesystem (0.1-0.5 ms each, measured): a batch of 200 messages is one
  file instead of several hundred. A pack is written once and never changed; keys into it are
  handed out only after it is complete, so a batch whose writing crashed leaves an unreferenced file.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import hashlib
import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol


class BlobStore(Protocol):
    """Implementations must pickle: worker processes store what they prepare (`put_pack_blocking`)."""

    async def put(self, data: bytes) -> str: ...
    async def put_many(self, items: list[bytes]) -> list[str]: ...
    def put_pack_blocking(self, items: list[bytes], *, durable: bool = True) -> list[str]: ...
    async def make_durable(self) -> None: ...
    async def get(self, key: str) -> bytes: ...
    async def exists(self, key: str) -> bool: ...


class BlobNotFound(LookupError):
    pass


def content_key(data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    return f"sha256/{digest[:2]}/{digest[2:4]}/{digest}"


_KEY = re.compile(r"sha256/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}")
_PACK_KEY = re.compile(r"(pack/[0-9]{8}/[0-9a-f]{32})/([0-9]{1,12})\+([0-9]{1,12})")


def _load_syncfs() -> Callable[[int], int] | None:
    """Linux's syncfs(2): flush one filesystem (not every mounted one, as sync(2) does)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.syncfs
    except (OSError, AttributeError):
        return None


_syncfs = _load_syncfs()
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
_NEW_PACK = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC  # a pack name is never reused


class LocalBlobStore:
    """Files under a directory; a blob is written to a temporary name and renamed, so a key never
    names half a file, and `put` returns only once contents and names are on disk."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        # Only keys this store made: nothing else (no "..", no absolute path) can name a file.
        if not _KEY.fullmatch(key):
            raise BlobNotFound(key)
        return self.root / key

    def _pack_range(self, key: str) -> tuple[Path, int, int] | None:
        found = _PACK_KEY.fullmatch(key)
        if found is None:
            return None
        return self.root / f"{found.group(1)}.pack", int(found.group(2)), int(found.group(3))

    async def put(self, data: bytes) -> str:
        return (await self.put_many([data]))[0]

    async def put_many(self, items: list[bytes]) -> list[str]:
        return await asyncio.to_thread(self._put_files, items)

    def _put_files(self, items: list[bytes]) -> list[str]:
        """Store blobs as content-addressed files, then make them durable together with one filesystem
        sync, which covers their contents and their renames (a rename is only durable once its
        directory is synced): several blobs cost about one fsync."""
        keys = [content_key(data) for data in items]
        for key, data in {key: data for key, data in zip(keys, items, strict=True)}.items():
            self._write(key, data)
        if keys:
            # Also when every blob existed: another writer may have renamed one without syncing it yet.
            self._sync()
        return keys

    def put_pack_blocking(self, items: list[bytes], *, durable: bool = True) -> list[str]:
        """Store a fetched batch's blobs in one new pack file, from any thread or process; returns a key
        per item. `durable=False` leaves the sync to a later `make_durable()`, which must come before
        anything refers to the keys: a worker process can then write the next batch while this one syncs."""
        if not items:
            return []
        day = time.strftime("%Y%m%d", time.gmtime())
        name = f"pack/{day}/{secrets.token_hex(16)}"
        path = f"{self.root}/{name}.pack"
        try:
            descriptor = os.open(path, _NEW_PACK, 0o644)
        except FileNotFoundError:  # the first pack of the day
            os.makedirs(os.path.dirname(path), exist_ok=True)
            descriptor = os.open(path, _NEW_PACK, 0o644)
        keys = []
        offset = 0
        try:
            for data in items:
                view = memoryview(data)
                while view:
                    view = view[os.write(descriptor, view):]
                keys.append(f"{name}/{offset}+{len(data)}")
                offset += len(data)
        finally:
            os.close(descriptor)
        if durable:
            self._sync()
        return keys

    async def make_durable(self) -> None:
        """Sync what `put_pack_blocking(durable=False)` wrote, in this process or any other."""
        await asyncio.to_thread(self._sync)

    def _write(self, key: str, data: bytes) -> None:
        # os-level calls: a fetched batch writes thousands of files, and pathlib's overhead showed.
        path = str(self._path(key))
        if os.path.exists(path):
            return
        directory, _, name = path.rpartition("/")
        temporary = f"{directory}/.{name}.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            descriptor = os.open(temporary, _NEW_FILE, 0o644)
        except FileNotFoundError:  # the first blob of its directory
            os.makedirs(directory, exist_ok=True)
            descriptor = os.open(temporary, _NEW_FILE, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view):]
        finally:
            os.close(descriptor)
        os.replace(temporary, path)

    def _sync(self) -> None:
        if _syncfs is None:
            os.sync()
            return
        descriptor = os.open(self.root, os.O_RDONLY)
        try:
            if _syncfs(descriptor) != 0:
                raise OSError(ctypes.get_errno(), "syncfs failed", str(self.root))
        finally:
            os.close(descriptor)

    async def get(self, key: str) -> bytes:
        packed = self._pack_range(key)
        try:
            if packed is not None:
                return await asyncio.to_thread(_read_range, *packed)
            return await asyncio.to_thread(self._path(key).read_bytes)
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    async def exists(self, key: str) -> bool:
        packed = self._pack_range(key)
        if packed is not None:
            path, offset, length = packed
            return path.is_file() and path.stat().st_size >= offset + length
        return self._path(key).exists()


def _read_range(path: Path, offset: int, length: int) -> bytes:
    with open(path, "rb", buffering=0) as file:
        data = os.pread(file.fileno(), length, offset)
    if len(data) != length:  # a pack shorter than its keys say: never handed out, so damaged
        raise BlobNotFound(f"{path.name}: {offset}+{length} is beyond the end of the pack")
    return data
