"""Parsing fetched mail away from the event loop.

MIME parsing is pure-Python CPU work (about a millisecond for a typical 50 KB message). In a thread
it holds the GIL against the event loop that reads IMAP and writes the database, so a mailbox
drains no faster than one core allows. A small process pool (`INBOUND_PARSE_PROCESSES`, shared by
every fetcher of the process) parses whole batches on other cores instead; 0 keeps it in a thread.

A message that makes the parser fail comes back as its exception, in its place in the batch; a
pool that broke (a worker process died) is replaced and the batch is parsed again in a thread.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import structlog

from postdesk.mail.parse import ParsedMessage, parse_message

log = structlog.get_logger(__name__)


def parse_all(raws: list[bytes]) -> list[ParsedMessage | Exception]:
    """Parse each message; a failure is returned in the message's place (the rest still parse)."""
    results: list[ParsedMessage | Exception] = []
    for raw in raws:
        try:
            results.append(parse_message(raw))
        except Exception as exc:  # noqa: BLE001 - the caller retries or quarantines this message alone
            results.append(exc)
    return results


class MailParser:
    """Parses batches of raw messages in `processes` worker processes (started on first use)."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None

    async def parse_many(self, raws: list[bytes]) -> list[ParsedMessage | Exception]:
        if not raws:
            return []
        if self.processes <= 0:
            return await asyncio.to_thread(parse_all, raws)
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor(), parse_all, raws)
        except BrokenProcessPool:
            log.warning("mail_parser_pool_broken", messages=len(raws))
            self.close()
            return await asyncio.to_thread(parse_all, raws)

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # "spawn": forking a process that runs an event loop and threads is unsafe.
            self._pool = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
