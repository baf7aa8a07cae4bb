"""Step 1 of ingestion, without the database: parse, sanitise, and store raw mail and attachments.

Pure CPU and file work. In a thread its Python parts hold the GIL against the event loop that reads
IMAP and writes the database, so `MailPreparer` runs whole batches in a small pool of worker
processes (`INBOUND_PARSE_PROCESSES`, shared by every fetcher of the process; 0 keeps it in a
thread), and only what recording needs comes back: no attachment bytes. A batch's blobs are one
pack file (`BlobStore.put_pack_blocking`); a batch prepared again after a crash writes a new pack,
and the first one, never referenced by a committed row, only takes disk space.

A message that makes the parser fail comes back as its exception, in its place in the batch. A
message that kills the worker process (native parser code can crash) must not take the fetcher's
process down with it: the pool is replaced and the batch prepared again one message per call, so
only the culprit gets a `PreparerCrashed` in its place (retried, then quarantined like any failure).
In a thread (0 processes) there is no such protection.

This module must stay light to import (no SQLAlchemy, no domains): spawned workers import it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import multiprocessing
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

import structlog

from postdesk.mail.html import sanitize_html
from postdesk.mail.parse import ParsedAttachment, ParsedMessage, parse_message
from postdesk.storage import BlobStore

log = structlog.get_logger(__name__)

# What an inline `cid:` image's src becomes: its stored attachment's id, under a scheme nothing fetches. The
# sandboxed frame cannot send the agent's token, so the SPA downloads the image and substitutes a data: URI.
ATTACHMENT_URL = "postdesk-attachment:{id}"


@dataclass(frozen=True)
class StoredAttachment:
    attachment_id: uuid.UUID
    filename: str | None
    content_type: str
    size: int
    content_id: str | None
    inline: bool
    key: str
    sha256: str


@dataclass
class Prepared:
    """A message parsed and stored in the blob store, ready to be recorded in a transaction.

    `parsed.attachments` is empty (their bytes are in the blob store): see `attachments`; `parsed.html` is
    None: `html` is the sanitised body (what crosses back from the worker process is only what recording uses)."""

    raw_key: str
    content_hash: str
    size: int
    parsed: ParsedMessage
    html: str  # sanitised, inline images pointing at their stored attachments
    delivered_to: list[str]
    attachments: list[StoredAttachment] = field(default_factory=list)
    note: str = ""


def prepare_batch(blobs: BlobStore, batch: list[tuple[bytes, int | None]], *,
                  durable: bool = True) -> list[Prepared | Exception]:
    """Prepare each (raw, oversized_size) of a fetched batch, stored with one blob-store call
    (`durable=False`: the caller syncs the store before recording, see `BlobStore.put_pack_blocking`).

    `oversized_size`: `raw` holds only the header section of a message of that size (too large to
    download); it is recorded with a note instead of a body. A message that fails to parse gets its
    exception in its place; a storage failure raises (it is nobody's message's fault)."""
    parsed_all: list[tuple[bytes, ParsedMessage, str] | Exception] = []
    for raw, oversized_size in batch:
        try:
            parsed_all.append((raw, *_oversized(parse_message(raw), oversized_size)))
        except Exception as exc:  # noqa: BLE001 - this message is retried or quarantined alone
            parsed_all.append(exc)
    stored = iter(_store(blobs, [item for item in parsed_all if not isinstance(item, Exception)], durable=durable))
    return [item if isinstance(item, Exception) else next(stored) for item in parsed_all]


def prepare_one(blobs: BlobStore, raw: bytes) -> Prepared:
    """Raises on parse limits (MessageLimitExceeded) or storage failure."""
    return _store(blobs, [(raw, parse_message(raw), "")])[0]


def prepare_headers_only(blobs: BlobStore, raw: bytes, problem: str) -> Prepared:
    """For a message that cannot be parsed whole: its headers, and the original as an .eml attachment.

    The headers are read by the stdlib only (pure Python): safe in any process, even for a message
    that crashed the fast parser."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0][:256 * 1024] + b"\r\n\r\n"
    parsed = _replace_text(parse_message(head, fast=False), f"[This message could not be displayed ({problem}); "
                                                            "the original is attached.]")
    parsed = dataclasses.replace(parsed, attachments=(
        ParsedAttachment(filename="original.eml", content_type="message/rfc822", data=raw),))
    return _store(blobs, [(raw, parsed, "headers only")])[0]


def _oversized(parsed: ParsedMessage, oversized_size: int | None) -> tuple[ParsedMessage, str]:
    if oversized_size is None:
        return parsed, ""
    return _replace_text(parsed, f"[This message is {oversized_size / 1_048_576:.1f} MB, above the download "
                                 "limit; it was left on the mail server.]"), "too large"


def _replace_text(parsed: ParsedMessage, text: str) -> ParsedMessage:
    return dataclasses.replace(parsed, text=text, html=None)


def _store(blobs: BlobStore, batch: list[tuple[bytes, ParsedMessage, str]], *, durable: bool = True) -> list[Prepared]:
    """Store each (raw, parsed, note) with its attachments, the whole batch in one pack."""
    keys = iter(blobs.put_pack_blocking([data for raw, parsed, _ in batch
                                         for data in (raw, *(part.data for part in parsed.attachments))],
                                        durable=durable))
    prepared_all = []
    for raw, parsed, note in batch:
        raw_key = next(keys)
        attachments = []
        for part in parsed.attachments:
            key = next(keys)
            attachments.append(StoredAttachment(
                attachment_id=uuid.uuid4(), filename=part.filename, content_type=part.content_type,
                size=len(part.data), content_id=part.content_id, inline=part.inline, key=key,
                sha256=hashlib.sha256(part.data).hexdigest()))
        prepared_all.append(Prepared(
            raw_key=raw_key, content_hash=hashlib.sha256(raw).hexdigest(), size=len(raw),
            parsed=dataclasses.replace(parsed, attachments=(), html=None), html=_html(parsed, attachments),
            delivered_to=list(parsed.delivered_to), attachments=attachments, note=note))
    return prepared_all


def _html(parsed: ParsedMessage, attachments: list[StoredAttachment]) -> str:
    if not parsed.html:
        return ""
    by_cid = {stored.content_id: stored.attachment_id for stored in attachments if stored.content_id}

    def resolve(content_id: str) -> str | None:
        found = by_cid.get(content_id)
        return ATTACHMENT_URL.format(id=found) if found else None

    return sanitize_html(parsed.html, resolve_cid=resolve)


# Called as prepare(blobs, batch, durable=False): `MailPreparer` syncs the store itself.
type PrepareBatch = Callable[..., list[Prepared | Exception]]


def _ready() -> None:
    """Runs in a new worker process: importing this module was the work."""


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
        """Each (raw, oversized_size) prepared, or its parse failure in its place; storage failures raise.

        Returns once the stored blobs are durable. The sync runs here, in a thread, rather than in the
        worker process, so that the worker goes on with the next batch while the disk confirms this one."""
        if not batch:
            return []
        prepare = functools.partial(self._prepare, durable=False)
        if self.processes <= 0:
            prepared = await asyncio.to_thread(prepare, blobs, batch)
        else:
            try:
                prepared = await asyncio.get_running_loop().run_in_executor(self._executor(), prepare, blobs, batch)
            except BrokenProcessPool:
                return await self._prepare_after_crash(blobs, batch)
        await blobs.make_durable()
        return prepared

    async def _prepare_after_crash(self, blobs: BlobStore,
                                   batch: list[tuple[bytes, int | None]]) -> list[Prepared | Exception]:
        """The worker process died: replace the pool and prepare the batch again one message per call."""
        self.close()
        if len(batch) == 1:
            log.error("mail_preparer_crashed", size=len(batch[0][0]))
            return [PreparerCrashed("the process preparing this message died")]
        log.warning("mail_preparer_pool_broken", messages=len(batch))
        return [result for item in batch for result in await self.prepare_many(blobs, [item])]

    def warm_up(self) -> None:
        """Start the worker processes now, in the background (spawning one and importing the parser
        costs about a second of CPU): a process that fetches mail does it before the first batch waits."""
        if self.processes > 0:
            executor = self._executor()
            for _ in range(self.processes):
                executor.submit(_ready)

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # "spawn": forking a process that runs an event loop and threads is unsafe.
            self._pool = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
