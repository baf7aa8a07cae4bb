"""Preparing fetched mail away from the event loop.

Parsing, sanitising and storing mail (`inbound.prepare`) is CPU and file work. In a thread its
Python parts hold the GIL against the event loop that reads IMAP and writes the database, so a
mailbox drains no faster than one core allows. A small process pool (`INBOUND_PARSE_PROCESSES`,
shared by every fetcher of the process) prepares whole batches on other cores instead, and only
what recording needs comes back (no attachment bytes); 0 keeps it in a thread.

A message that makes the parser fail comes back as its exception, in its place in the batch; a
pool that broke (a worker process died) is replaced and the batch is prepared again in a thread.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import structlog

from postdesk.inbound.prepare import Prepared, prepare_batch
from postdesk.storage import BlobStore

log = structlog.get_logger(__name__)


class MailPreparer:
    """Prepares batches of raw messages in `processes` worker processes (started on first use)."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None

    async def prepare_many(self, blobs: BlobStore,
                           batch: list[tuple[bytes, int | None]]) -> list[Prepared | Exception]:
        """Each (raw, oversized_size) prepared, or its parse failure in its place; storage failures raise."""
        if not batch:
            return []
        if self.processes <= 0:
            return await asyncio.to_thread(prepare_batch, blobs, batch)
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor(), prepare_batch, blobs, batch)
        except BrokenProcessPool:
            log.warning("mail_preparer_pool_broken", messages=len(batch))
            self.close()
            return await asyncio.to_thread(prepare_batch, blobs, batch)

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # "spawn": forking a process that runs an event loop and threads is unsafe.
            self._pool = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
