"""Turning fetched mail into messages and interactions, exactly once.

A fetched message goes through two steps:

1. `prepare` (no database, see `inbound.prepare`): parse, sanitise, store the raw bytes and the
   attachments in the blob store (content-addressed, so doing it again after a crash stores nothing
   twice); in a worker process for fetched batches.
2. `record` (inside the caller's transaction): write the ledger row (unique per server/folder/
   UIDVALIDITY/UID or per POP3 UIDL), recognise our own mail and duplicates, thread follow-ups,
   choose the campaign and open the interaction. The fetcher commits it together with the new sync
   position, and only then marks the message seen or deletes it on the server.

Threading, first match wins: the conversation token in one of our Message-IDs (In-Reply-To, then
References newest first); a stored message with that Message-ID (any direction); the subject
reference "[#REFERENCE]" (what outbound subjects may carry, see SUBJECT_REFERENCE).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import date

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.accounts.caller import Caller
from postdesk.blacklist import service as blacklist_service
from postdesk.campaigns.models import Campaign
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
from postdesk.inbound.repository import InboundRepository
from postdesk.interactions import intake
from postdesk.interactions.models import (
    Attachment,
    Direction,
    Interaction,
    Message,
    MessageKind,
    MessageStatus,
)
from postdesk.mail.compose import conversation_token
from postdesk.mail.errors import MessageLimitExceeded
from postdesk.mail.parse import ParsedMessage
from postdesk.storage import BlobStore

log = structlog.get_logger(__name__)

# Outbound subjects may carry the interaction reference as "[#0A1B2C3D4E5F]"; replies keep it.
SUBJECT_REFERENCE = re.compile(r"\[#([0-9A-F]{12})\]")
MAX_THREAD_IDS = 30  # In-Reply-To plus the newest References looked at


@dataclass(frozen=True)
class MailSource:
    """Where a fetched message came from: an IMAP folder position or a POP3 UIDL."""

    company_id: uuid.UUID
    server_id: uuid.UUID
    folder: str = ""
    uidvalidity: int | None = None
    uid: int | None = None
    uidl: str | None = None


@dataclass
class BatchLookups:
    """What recording a batch must know from the database, read with a few queries for the whole batch
    instead of several per message, and kept current as the batch's messages are recorded."""

    recorded_uids: set[int]  # IMAP: UIDs of the batch's folder position already in the ledger
    recorded_uidls: set[str]  # POP3
    own_outbound: dict[str, Message]  # Message-ID -> our sent message
    same_content: dict[tuple[str | None, str], InboundMail]  # (Message-ID, content hash) -> ledger row
    blacklisted: set[str]  # sender addresses the blacklist covers (lower case)
    routing: dict = field(default_factory=dict)  # channel filters and default campaign, per server

    @classmethod
    async def load(cls, session: AsyncSession, source: MailSource,
                   batch: list[tuple[MailSource, Prepared | None]]) -> BatchLookups:
        """`source`: where the batch comes from (company, server, folder position); `batch`: its messages."""
        repo = InboundRepository(session)
        uids = [item.uid for item, _ in batch if item.uid is not None]
        uidls = [item.uidl for item, _ in batch if item.uidl is not None]
        recorded_uids = (await repo.imap_recorded(source.server_id, source.folder, source.uidvalidity, uids)
                         if uids and source.uidvalidity is not None else set())
        recorded_uidls = set(await repo.pop3_known(source.server_id, uidls)) if uidls else set()
        prepared = [ready for _, ready in batch if ready is not None]
        message_ids = sorted({p.parsed.message_id[:998] for p in prepared if p.parsed.message_id})
        own = await repo.own_outbound_many(source.company_id, message_ids) if message_ids else {}
        same = {(row.message_id_header, row.content_hash): row
                for row in await repo.same_content_many(source.server_id, sorted({p.content_hash for p in prepared}))}
        senders = [p.parsed.sender.address for p in prepared if p.parsed.sender is not None]
        blacklisted = {a.lower() for a in await blacklist_service.blacklisted_among(session, source.company_id, senders)}
        return cls(recorded_uids, recorded_uidls, own, same, blacklisted)

    def is_recorded(self, source: MailSource) -> bool:
        if source.uidl is not None:
            return source.uidl in self.recorded_uidls
        return source.uid in self.recorded_uids

    def remember(self, source: MailSource, ledger: InboundMail) -> None:
        """A message of the batch was recorded: later ones must see it (a duplicate within the batch)."""
        if source.uidl is not None:
            self.recorded_uidls.add(source.uidl)
        elif source.uid is not None:
            self.recorded_uids.add(source.uid)
        if ledger.outcome in (MailOutcome.ingested, MailOutcome.own) and ledger.content_hash:
            self.same_content.setdefault((ledger.message_id_header, ledger.content_hash), ledger)


@dataclass(frozen=True)
class Recorded:
    mail_id: uuid.UUID
    outcome: MailOutcome
    interaction_id: uuid.UUID | None
    note: str
    opened: bool = False  # a new interaction was opened (and queued or stored)


# --- step 1: prepare (no database) ---------------------------------------------------------------


async def prepare(blobs: BlobStore, raw: bytes) -> Prepared:
    """Parse and store one message in a thread of this process (fetched mail goes through a `MailPreparer`).
    Raises on parse limits or storage failure."""
    return await asyncio.to_thread(prepare_one, blobs, raw)


# --- step 2: record (in the caller's transaction) ------------------------------------------------


async def already_recorded(session: AsyncSession, source: MailSource) -> bool:
    repo = InboundRepository(session)
    if source.uidl is not None:
        return source.uidl in await repo.pop3_known(source.server_id, [source.uidl])
    assert source.uidvalidity is not None and source.uid is not None
    return await repo.imap_seen(source.server_id, source.folder, source.uidvalidity, source.uid) is not None


async def record(session: AsyncSession, prepared: Prepared, source: MailSource, *,
                 ledger: InboundMail | None = None, lookups: BatchLookups | None = None) -> Recorded:
    """Write the message and what it leads to. `ledger`: an existing (quarantined) row to complete.

    `lookups`: loaded once for a whole batch (see BatchLookups); loaded for this message otherwise.
    """
    if lookups is None:
        lookups = await BatchLookups.load(session, source, [(source, prepared)])
    return await _record(session, prepared, source, ledger, lookups)


async def _record(session: AsyncSession, prepared: Prepared, source: MailSource, ledger: InboundMail | None,
                  lookups: BatchLookups) -> Recorded:
    repo = InboundRepository(session)
    parsed = prepared.parsed
    if ledger is None:
        ledger = InboundMail(id=uuid.uuid4(), company_id=source.company_id, email_server_id=source.server_id, folder=source.folder,
                             uidvalidity=source.uidvalidity, uid=source.uid, uidl=source.uidl,
                             outcome=MailOutcome.ingested, content_hash=prepared.content_hash)
        session.add(ledger)
    ledger.message_id_header = (parsed.message_id or "")[:998] or None
    ledger.content_hash = prepared.content_hash
    ledger.size_bytes = prepared.size
    ledger.raw_key = prepared.raw_key
    ledger.error = ""

    own = lookups.own_outbound.get(ledger.message_id_header) if ledger.message_id_header else None
    if own is not None:
        return _finish(lookups, source, ledger, MailOutcome.own, own.id, own.interaction_id, "own outbound mail")
    same = lookups.same_content.get((ledger.message_id_header, prepared.content_hash))
    if same is not None and same.id != ledger.id:
        return _finish(lookups, source, ledger, MailOutcome.duplicate, same.message_id, same.interaction_id,
                       "same Message-ID and content")

    message = _message(prepared, source)
    existing = await _thread(repo, source.company_id, parsed)
    if existing is not None:
        # A blacklisted sender's follow-up is kept in its conversation but reopens no closed work.
        blacklisted = parsed.sender is not None and parsed.sender.address.lower() in lookups.blacklisted
        await intake.append_message(session, interaction=existing, message=message, reopen=not blacklisted)
        _add_attachments(session, message, prepared)
        return _finish(lookups, source, ledger, MailOutcome.ingested, message.id, existing.id, "follow-up")

    interaction, opened_note, campaign = await _open(session, prepared, source, lookups)
    await intake.append_message(session, interaction=interaction, message=message)
    _add_attachments(session, message, prepared)
    # Most campaigns have no auto-reply: skip its checks then.
    if interaction.state in intake.WAITING and campaign is not None and campaign.auto_reply_template_id is not None:
        await _auto_reply(session, interaction, message, parsed)
    return _finish(lookups, source, ledger, MailOutcome.ingested, message.id, interaction.id, opened_note,
                   opened=True)


def _finish(lookups: BatchLookups, source: MailSource, ledger: InboundMail, outcome: MailOutcome,
            message_id: uuid.UUID | None, interaction_id: uuid.UUID | None, note: str, *,
            opened: bool = False) -> Recorded:
    """Complete the ledger row; it is written with the rest of the batch (one flush, at commit)."""
    ledger.outcome = outcome
    ledger.message_id = message_id
    ledger.interaction_id = interaction_id
    ledger.note = note[:200]
    lookups.remember(source, ledger)
    return Recorded(ledger.id, outcome, interaction_id, note, opened)


def _message(prepared: Prepared, source: MailSource) -> Message:
    parsed = prepared.parsed
    sender = parsed.sender
    extra: dict[str, object] = {"source": {"folder": source.folder, "uidvalidity": source.uidvalidity,
                                           "uid": source.uid, "uidl": source.uidl}}
    if parsed.problems:
        extra["problems"] = list(parsed.problems)[:20]
    if prepared.note:
        extra["note"] = prepared.note
    if prepared.delivered_to:
        extra["delivered_to"] = prepared.delivered_to[:10]
    return Message(
        id=uuid.uuid4(),
        direction=Direction.inbound,
        kind=MessageKind.customer,
        status=MessageStatus.received,
        email_server_id=source.server_id,
        message_id_header=(parsed.message_id or "")[:998] or None,
        in_reply_to=(parsed.in_reply_to or "")[:998] or None,
        references=[r[:998] for r in parsed.references[-50:]],
        subject=parsed.subject[:998],
        from_address=(sender.address if sender else "")[:320],
        from_name=(sender.name if sender else "")[:200],
        to=[{"address": a.address, "name": a.name} for a in parsed.to[:100]],
        cc=[{"address": a.address, "name": a.name} for a in parsed.cc[:100]],
        reply_to=parsed.reply_to[0].address[:320] if parsed.reply_to else None,
        text_body=parsed.text or "",
        html_body=prepared.html,
        raw_key=prepared.raw_key,
        content_hash=prepared.content_hash,
        size_bytes=prepared.size,
        sent_at=parsed.date,
        extra=extra,
    )


def _add_attachments(session: AsyncSession, message: Message, prepared: Prepared) -> None:
    for stored in prepared.attachments:
        session.add(Attachment(
            id=stored.attachment_id, company_id=message.company_id, message_id=message.id,
            filename=(stored.filename or "")[:255], content_type=stored.content_type[:200],
            size_bytes=stored.size, storage_key=stored.key,
            content_id=(stored.content_id or "")[:998] or None, inline=stored.inline, sha256=stored.sha256,
        ))


async def _thread(repo: InboundRepository, company_id: uuid.UUID, parsed: ParsedMessage) -> Interaction | None:
    """The interaction a reply belongs to, or None for a new conversation."""
    ids = [i for i in [parsed.in_reply_to, *reversed(parsed.references)] if i][:MAX_THREAD_IDS]
    for message_id in ids:
        domain = message_id.strip().rstrip(">").rpartition("@")[2]
        token = conversation_token(message_id, domain) if domain else None
        if token:
            found = await repo.interaction_by_reference(company_id, token)
            if found is not None:
                return found
    if ids:
        known = {m.message_id_header: m for m in await repo.messages_by_header(company_id, ids)}
        for message_id in ids:
            if message_id in known:
                found = await repo.interaction(company_id, known[message_id].interaction_id)
                if found is not None:
                    return found
    for reference in SUBJECT_REFERENCE.findall(parsed.subject):
        found = await repo.interaction_by_reference(company_id, reference)
        if found is not None:
            return found
    return None


async def _open(session: AsyncSession, prepared: Prepared, source: MailSource,
                lookups: BatchLookups) -> tuple[Interaction, str, Campaign | None]:
    from postdesk.filters import service as filter_service

    parsed = prepared.parsed
    customer = parsed.sender
    decision = await filter_service.choose_campaign(session, company_id=source.company_id, server_id=source.server_id,
                                                    message=parsed, delivered_to=prepared.delivered_to or None,
                                                    cache=lookups.routing)
    campaign = await session.get(Campaign, decision.campaign_id) if decision.campaign_id else None
    if campaign is not None and campaign.company_id != source.company_id:
        campaign = None
    reason = None
    if customer is not None and customer.address.lower() in lookups.blacklisted:
        reason = intake.StoredReason.blacklisted
    interaction = await intake.open_interaction(
        session, company_id=source.company_id, campaign=campaign,
        customer_email=customer.address if customer else "", customer_name=customer.name if customer else "",
        subject=parsed.subject, stored_reason=reason, arrived_at=utcnow(),
    )
    note = interaction.state_reason or interaction.state.value
    return interaction, note, campaign


async def _auto_reply(session: AsyncSession, interaction: Interaction, message: Message,
                      parsed: ParsedMessage) -> None:
    try:
        from postdesk.autoreplies.service import maybe_auto_reply
    except ImportError:  # the auto-reply module is built separately; without it no auto-replies go out
        return
    await maybe_auto_reply(session, interaction=interaction, message=message, parsed=parsed)


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
