"""Preparing fetched mail away from the event loop.

Parsing, sanitising and storing mail (`inbound.prepare`) is CPU and file work. In a thread its
Python parts hold the GIL against the event loop that reads IMAP and writes the database, so a
mailbox drains no faster than one core allows. A small process pool (`INBOUND_PARSE_PROCESSES`,
shared by every fetcher of the process) prepares whole batches on other cores instead, and only
what recording needs comes back (no attachment bytes); 0 keeps it in a thread.

A message that makes the parser fail comes back as its exception, in its place in the batch. A
message that kills the worker process (native parser code can crash) must not take the fetcher's
process down with it: the pool is replaced and the batch prepared again one message per call, so
only the culprit gets a `PreparerCrashed` in its place (retried, then quarantined like any failure).
In a thread (0 processes) there is no such protection.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import structlog

from postdesk.inbound.prepare import Prepared, prepare_batch
from postdesk.storage import BlobStore

log = structlog.get_logger(__name__)

type PrepareBatch = Callable[[BlobStore, list[tuple[bytes, int | None]]], list[Prepared | Exception]]


class PreparerCrashed(Exception):
    """The worker process died while preparing this message."""


class MailPreparer:
    """Prepares batches of raw messages in `processes` worker processes (started on first use)."""

    def __init__(self, processes: int, prepare: PrepareBatch = prepare_batch) -> None:
        self.processes = processes
        self._prepare = prepare  # a module-level function (it is pickled to the workers)
        self._pool: ProcessPoolExecutor | None = None

    async def prepare_many(self, blobs: BlobStore,
                           batch: list[tuple[bytes, int | None]]) -> list[Prepared | Exception]:
        """Each (raw, oversized_size) prepared, or its parse failure in its place; storage failures raise."""
        if not batch:
            return []
        if self.processes <= 0:
            return await asyncio.to_thread(self._prepare, blobs, batch)
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor(), self._prepare, blobs, batch)
        except BrokenProcessPool:
            self.close()
            if len(batch) == 1:
                log.error("mail_preparer_crashed", size=len(batch[0][0]))
                return [PreparerCrashed("the process preparing this message died")]
            log.warning("mail_preparer_pool_broken", messages=len(batch))
            return [result for item in batch for result in await self.prepare_many(blobs, [item])]

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # "spawn": forking a process that runs an event loop and threads is unsafe.
            self._pool = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
