"""Where message bodies and attachments live: bytes addressed by key, behind a small interface
so object storage can be added beside the local directory without touching the domains.

Keys are content-addressed (`sha256/ab/cd/<hash>`), so writing the same bytes twice (a job that
runs again after a crash) stores them once and never leaves a half-written file under a real key.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import hashlib
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol


class BlobStore(Protocol):
    """Implementations must pickle: worker processes store what they prepare (`put_many_blocking`)."""

    async def put(self, data: bytes) -> str: ...
    async def put_many(self, items: list[bytes]) -> list[str]: ...
    def put_many_blocking(self, items: list[bytes], *, durable: bool = True) -> list[str]: ...
    async def make_durable(self) -> None: ...
    async def get(self, key: str) -> bytes: ...
    async def exists(self, key: str) -> bool: ...


class BlobNotFound(LookupError):
    pass


def content_key(data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    return f"sha256/{digest[:2]}/{digest[2:4]}/{digest}"


_KEY = re.compile(r"sha256/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}")


def _load_syncfs() -> Callable[[int], int] | None:
    """Linux's syncfs(2): flush one filesystem (not every mounted one, as sync(2) does)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.syncfs
    except (OSError, AttributeError):
        return None


_syncfs = _load_syncfs()
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC


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

    async def put(self, data: bytes) -> str:
        return (await self.put_many([data]))[0]

    async def put_many(self, items: list[bytes]) -> list[str]:
        return await asyncio.to_thread(self.put_many_blocking, items)

    def put_many_blocking(self, items: list[bytes], *, durable: bool = True) -> list[str]:
        """Store several blobs at once (a fetched batch: messages and attachments), from any thread.

        The files are written, then made durable together with one filesystem sync, which covers
        their contents and their renames (a rename is only durable once its directory is synced).
        One sync per batch instead of two per file makes a batch cost about one fsync.

        `durable=False` leaves the sync to a later `make_durable()`, which must come before anything
        refers to the keys: a worker process can then write the next batch while this one syncs.
        """
        keys = [content_key(data) for data in items]
        for key, data in {key: data for key, data in zip(keys, items, strict=True)}.items():
            self._write(key, data)
        if keys and durable:
            # Also when every blob existed: another writer may have renamed one without syncing it yet.
            self._sync()
        return keys

    async def make_durable(self) -> None:
        """Sync what `put_many_blocking(durable=False)` wrote, in this process or any other."""
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
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    async def exists(self, key: str) -> bool:
        return self._path(key).exists()
