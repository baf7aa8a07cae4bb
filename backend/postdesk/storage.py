"""Where message bodies and attachments live: bytes addressed by key, behind a small interface
so object storage can be added beside the local directory without touching the domains.

Keys are content-addressed (`sha256/ab/cd/<hash>`), so writing the same bytes twice (a job that
runs again after a crash) stores them once and never leaves a half-written file under a real key.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol


class BlobStore(Protocol):
    """Implementations must pickle: worker processes store what they prepare (`put_many_blocking`)."""

    async def put(self, data: bytes) -> str: ...
    async def put_many(self, items: list[bytes]) -> list[str]: ...
    def put_many_blocking(self, items: list[bytes]) -> list[str]: ...
    async def get(self, key: str) -> bytes: ...
    async def exists(self, key: str) -> bool: ...


class BlobNotFound(LookupError):
    pass


def content_key(data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    return f"sha256/{digest[:2]}/{digest[2:4]}/{digest}"


_writer_pool: ThreadPoolExecutor | None = None


def _writers() -> ThreadPoolExecutor:
    """Threads for parallel fsyncs, started in the process that writes (a worker process has its own)."""
    global _writer_pool
    if _writer_pool is None:
        _writer_pool = ThreadPoolExecutor(8, thread_name_prefix="blob-write")
    return _writer_pool
_KEY = re.compile(r"sha256/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}")


class LocalBlobStore:
    """Files under a directory; writes are atomic (temporary file, fsync, rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        # Only keys this store made: nothing else (no "..", no absolute path) can name a file.
        if not _KEY.fullmatch(key):
            raise BlobNotFound(key)
        return self.root / key

    async def put(self, data: bytes) -> str:
        key = content_key(data)
        await asyncio.to_thread(self._write, key, data)
        return key

    async def put_many(self, items: list[bytes]) -> list[str]:
        return await asyncio.to_thread(self.put_many_blocking, items)

    def put_many_blocking(self, items: list[bytes]) -> list[str]:
        """Store several blobs at once (a fetched batch: messages and attachments), from any thread.

        Written by a few threads side by side: each write waits for its fsync, and the filesystem
        commits concurrent fsyncs together, so a batch costs a fraction of one-by-one writes.
        """
        keys = [content_key(data) for data in items]
        writes = {key: data for key, data in zip(keys, items, strict=True)}  # the same bytes once
        for done in [_writers().submit(self._write, key, data) for key, data in writes.items()]:
            done.result()
        return keys

    def _write(self, key: str, data: bytes) -> None:
        path = self._path(key)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)

    async def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    async def exists(self, key: str) -> bool:
        return self._path(key).exists()
