"""Turning fetched mail into messages and interactions, exactly once; the quarantine and mailbox status.

A fetched message goes through two steps:

1. prepare (no database, `inbound.prepare`): parse, sanitise, store the raw bytes and the
   attachments in the blob store (a batch in one pack file: doing it again after a crash writes a
   new pack, and nothing refers to the first); in a worker process for fetched batches.
2. record (inside the caller's transaction, `inbound.recording`): the ledger row, our own mail and
   duplicates recognised, follow-ups threaded, the campaign chosen and the interaction opened.

A message that keeps failing is quarantined: kept raw, listed, and re-processable.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import uuid
from datetime import date

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.accounts.caller import Caller
from postdesk.db import utcnow
from postdesk.errors import Conflict, NotFound
from postdesk.inbound.models import InboundMail, InboundMailbox, MailOutcome
from postdesk.inbound.prepare import (
    MailPreparer,
    Prepared,
    PreparerCrashed,
    prepare_headers_only,
    prepare_one,
)
from postdesk.inbound.recording import MailSource, record
from postdesk.inbound.repository import InboundRepository
from postdesk.mail.errors import MessageLimitExceeded
from postdesk.storage import BlobStore

log = structlog.get_logger(__name__)


# --- prepare one message (no database) ----------------------------------------------------------


async def prepare(blobs: BlobStore, raw: bytes) -> Prepared:
    """Parse and store one message in a thread of this process (fetched mail goes through a `MailPreparer`).
    Raises on parse limits or storage failure."""
    return await asyncio.to_thread(prepare_one, blobs, raw)


# --- quarantine ----------------------------------------------------------------------------------


async def quarantine(session: AsyncSession, source: MailSource, *, raw_key: str | None, raw: bytes,
                     error: str, attempts: int) -> uuid.UUID:
    """Keep a message that keeps failing, so the rest of the mailbox goes on (listed, re-processable)."""
    mail = InboundMail(company_id=source.company_id, email_server_id=source.server_id, folder=source.folder,
                       uidvalidity=source.uidvalidity, uid=source.uid, uidl=source.uidl,
                       outcome=MailOutcome.quarantined, content_hash=hashlib.sha256(raw).hexdigest(),
                       size_bytes=len(raw), raw_key=raw_key, attempts=attempts, error=error[:4000],
                       message_id_header=_header_message_id(raw))
    session.add(mail)
    await session.flush()
    from postdesk.uow import publish

    publish("inbound.quarantined", source.company_id, {"id": str(mail.id), "email_server_id": str(source.server_id),
                                                       "error": error[:300]}, min_role="supervisor")
    return mail.id


def _header_message_id(raw: bytes) -> str | None:
    found = re.search(rb"^Message-ID:\s*(<[^<>\s]{1,900}>)", raw[:64 * 1024], re.IGNORECASE | re.MULTILINE)
    return found.group(1).decode("ascii", "replace") if found else None


async def list_quarantine(session: AsyncSession, caller: Caller, *, offset: int,
                          limit: int) -> tuple[list[InboundMail], int]:
    return await InboundRepository(session).quarantine(caller.company_id, offset=offset, limit=limit)


async def reprocess(session: AsyncSession, caller: Caller, mail_id: uuid.UUID, *, blobs: BlobStore,
                    preparer: MailPreparer) -> InboundMail:
    """Ingest a quarantined message again; when it still cannot be parsed, keep its headers and attach it whole.

    Prepared in a worker process like fetched mail: a message that crashes the parser must not take
    the API process with it."""
    repo = InboundRepository(session)
    mail = await repo.mail(caller.company_id, mail_id, for_update=True)
    if mail is None:
        raise NotFound("Quarantined message")
    if mail.outcome is not MailOutcome.quarantined:
        raise Conflict(None, f"This message is no longer quarantined (it was {mail.outcome.value}).")
    if not mail.raw_key:
        raise Conflict(None, "The original of this message could not be kept; it cannot be processed again.")
    raw = await blobs.get(mail.raw_key)
    [prepared] = await preparer.prepare_many(blobs, [(raw, None)])
    if isinstance(prepared, MessageLimitExceeded | PreparerCrashed):
        prepared = await asyncio.to_thread(prepare_headers_only, blobs, raw, str(prepared))
    elif isinstance(prepared, Exception):
        raise prepared
    source = MailSource(mail.company_id, mail.email_server_id, mail.folder, mail.uidvalidity, mail.uid, mail.uidl)
    await record(session, prepared, source, ledger=mail)
    mail.reprocessed_at = utcnow()
    mail.attempts += 1
    await session.flush()
    return mail


# --- mailbox status ------------------------------------------------------------------------------


async def list_mailboxes(session: AsyncSession, caller: Caller) -> list[InboundMailbox]:
    return list(await InboundRepository(session).mailboxes(caller.company_id))


async def set_sync_since(session: AsyncSession, caller: Caller, server_id: uuid.UUID,
                         sync_since: date | None) -> InboundMailbox:
    """Choose what the first sync takes: everything (None) or mail received since a day."""
    from postdesk.servers import service as server_service

    server = await server_service.get_server(session, caller, server_id)
    repo = InboundRepository(session)
    folder = server.imap_folder if server.incoming_protocol.value == "imap" else ""
    mailbox = await repo.ensure_mailbox(caller.company_id, server.id, folder)
    if mailbox.uidvalidity is not None or mailbox.fetched_total:
        raise Conflict("sync_since", "This mailbox was already synchronised; the first-sync date no longer applies.")
    mailbox.sync_since = sync_since
    await session.flush()
    return mailbox
