"""Step 2 of ingestion: recording prepared mail in the caller's transaction, a fetched batch at a time.

Per message: the ledger row (unique per server/folder/UIDVALIDITY/UID or per POP3 UIDL), our own
mail and duplicates recognised, follow-ups threaded, the campaign chosen and the interaction opened.
The fetcher commits it together with the new sync position, and only then marks the message seen
or deletes it on the server.

Threading, first match wins: the conversation token in one of our Message-IDs (In-Reply-To, then
References newest first); a stored message with that Message-ID (any direction); the subject
reference "[#REFERENCE]" (what outbound subjects may carry, see SUBJECT_REFERENCE).

A batch is recorded with a few queries for the whole batch (`BatchLookups`) and a few multi-row
INSERTs: message, attachment and ledger rows are plain rows, not ORM objects, because a first sync
turns tens of thousands of mails into rows and building ORM objects for them was most of the event
loop's time. Interactions stay ORM objects: the queue rules in `intake` work on them.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.blacklist import service as blacklist_service
from postdesk.campaigns.models import Campaign
from postdesk.db import utcnow
from postdesk.inbound.models import InboundMail, MailOutcome
from postdesk.inbound.prepare import Prepared
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
from postdesk.mail.parse import ParsedMessage

# Outbound subjects may carry the interaction reference as "[#0A1B2C3D4E5F]"; replies keep it.
SUBJECT_REFERENCE = re.compile(r"\[#([0-9A-F]{12})\]")
MAX_THREAD_IDS = 30  # In-Reply-To plus the newest References looked at

type Row = dict[str, Any]
# What recording writes into an existing (quarantined) ledger row.
_COMPLETED_FIELDS = ("message_id_header", "content_hash", "size_bytes", "raw_key", "error", "outcome", "message_id",
                     "interaction_id", "note")


@dataclass(frozen=True)
class MailSource:
    """Where a fetched message came from: an IMAP folder position or a POP3 UIDL."""

    company_id: uuid.UUID
    server_id: uuid.UUID
    folder: str = ""
    uidvalidity: int | None = None
    uid: int | None = None
    uidl: str | None = None


class Taken(NamedTuple):
    """A ledger entry a later copy of the same mail is a duplicate of."""

    mail_id: uuid.UUID
    message_id: uuid.UUID | None
    interaction_id: uuid.UUID | None


@dataclass
class BatchLookups:
    """What recording a batch must know from the database, read with a few queries for the whole batch
    instead of several per message, and kept current as the batch's messages are recorded."""

    recorded_uids: set[int]  # IMAP: UIDs of the batch's folder position already in the ledger
    recorded_uidls: set[str]  # POP3
    own_outbound: dict[str, Message]  # Message-ID -> our sent message
    same_content: dict[tuple[str | None, str], Taken]  # (Message-ID, content hash) -> ledger entry
    blacklisted: set[str]  # sender addresses the blacklist covers (lower case)
    routing: dict = field(default_factory=dict)  # channel filters and default campaign, per server
    campaigns: dict[uuid.UUID, Campaign | None] = field(default_factory=dict)

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
        same = {(row.message_id_header, row.content_hash): Taken(row.id, row.message_id, row.interaction_id)
                for row in await repo.same_content_many(source.server_id, sorted({p.content_hash for p in prepared}))}
        senders = [p.parsed.sender.address for p in prepared if p.parsed.sender is not None]
        blacklisted = {a.lower() for a in await blacklist_service.blacklisted_among(session, source.company_id, senders)}
        return cls(recorded_uids, recorded_uidls, own, same, blacklisted)

    def is_recorded(self, source: MailSource) -> bool:
        if source.uidl is not None:
            return source.uidl in self.recorded_uidls
        return source.uid in self.recorded_uids

    def remember(self, source: MailSource, ledger: Row) -> None:
        """A message of the batch was recorded: later ones must see it (a duplicate within the batch)."""
        if source.uidl is not None:
            self.recorded_uidls.add(source.uidl)
        elif source.uid is not None:
            self.recorded_uids.add(source.uid)
        if ledger["outcome"] in (MailOutcome.ingested, MailOutcome.own) and ledger["content_hash"]:
            self.same_content.setdefault((ledger["message_id_header"], ledger["content_hash"]),
                                         Taken(ledger["id"], ledger["message_id"], ledger["interaction_id"]))


@dataclass(frozen=True)
class Recorded:
    mail_id: uuid.UUID
    outcome: MailOutcome
    interaction_id: uuid.UUID | None
    note: str
    opened: bool = False  # a new interaction was opened (and queued or stored)


class BatchRecording:
    """Records messages in one transaction; `write()` inserts the rows recorded so far. Call it
    before the transaction ends (and it is called before any query that must see those rows)."""

    def __init__(self, session: AsyncSession, lookups: BatchLookups) -> None:
        self.session = session
        self.lookups = lookups
        self.repo = InboundRepository(session)
        self._messages: list[Row] = []
        self._attachments: list[Row] = []
        self._ledger: list[Row] = []
        self._completed: list[tuple[InboundMail, Row]] = []  # existing ledger rows and their new values

    @classmethod
    async def start(cls, session: AsyncSession, source: MailSource,
                    batch: list[tuple[MailSource, Prepared | None]]) -> BatchRecording:
        return cls(session, await BatchLookups.load(session, source, batch))

    def is_recorded(self, source: MailSource) -> bool:
        return self.lookups.is_recorded(source)

    async def write(self) -> None:
        if not (self._messages or self._ledger or self._completed):
            return
        await self.session.flush()  # the interactions these rows refer to
        await intake.write_opened(self.session)
        # Parents first: attachments refer to messages, the ledger to both.
        for table, rows in ((Message.__table__, self._messages), (Attachment.__table__, self._attachments),
                            (InboundMail.__table__, self._ledger)):
            if rows:
                await self.session.execute(insert(table), rows)
                rows.clear()
        for ledger, entry in self._completed:
            for name in _COMPLETED_FIELDS:
                setattr(ledger, name, entry[name])
        self._completed.clear()

    async def record(self, prepared: Prepared, source: MailSource, *, ledger: InboundMail | None = None) -> Recorded:
        """Record one message. `ledger`: an existing (quarantined) row to complete instead of a new one."""
        parsed = prepared.parsed
        message_id_header = (parsed.message_id or "")[:998] or None
        entry: Row = {
            "id": ledger.id if ledger is not None else uuid.uuid4(), "company_id": source.company_id,
            "email_server_id": source.server_id, "folder": source.folder, "uidvalidity": source.uidvalidity,
            "uid": source.uid, "uidl": source.uidl, "message_id_header": message_id_header,
            "content_hash": prepared.content_hash, "size_bytes": prepared.size, "raw_key": prepared.raw_key,
            "error": "",
        }

        own = self.lookups.own_outbound.get(message_id_header) if message_id_header else None
        if own is not None:
            return self._finish(source, entry, ledger, MailOutcome.own, own.id, own.interaction_id,
                                "own outbound mail")
        same = self.lookups.same_content.get((message_id_header, prepared.content_hash))
        if same is not None and same.mail_id != entry["id"]:
            return self._finish(source, entry, ledger, MailOutcome.duplicate, same.message_id, same.interaction_id,
                                "same Message-ID and content")

        message = _message_row(prepared, source)
        existing = await self._thread(source.company_id, parsed)
        if existing is not None:
            # A blacklisted sender's follow-up is kept in its conversation but reopens no closed work.
            blacklisted = parsed.sender is not None and parsed.sender.address.lower() in self.lookups.blacklisted
            self._add_message(message, prepared, existing)
            await intake.append_message(self.session, interaction=existing, message_id=message["id"],
                                        reopen=not blacklisted)
            return self._finish(source, entry, ledger, MailOutcome.ingested, message["id"], existing.id, "follow-up")

        interaction, opened_note, campaign = await self._open(prepared, source)
        self._add_message(message, prepared, interaction)
        await intake.append_message(self.session, interaction=interaction, message_id=message["id"])
        # Most campaigns have no auto-reply: skip its checks then.
        if interaction.state in intake.WAITING and campaign is not None and campaign.auto_reply_template_id is not None:
            from postdesk.autoreplies.service import maybe_auto_reply

            await self.write()  # the reply's row refers to the interaction
            await maybe_auto_reply(self.session, interaction=interaction, parsed=parsed)
        return self._finish(source, entry, ledger, MailOutcome.ingested, message["id"], interaction.id, opened_note,
                            opened=True)

    def _finish(self, source: MailSource, entry: Row, ledger: InboundMail | None, outcome: MailOutcome,
                message_id: uuid.UUID | None, interaction_id: uuid.UUID | None, note: str, *,
                opened: bool = False) -> Recorded:
        entry.update(outcome=outcome, message_id=message_id, interaction_id=interaction_id, note=note[:200])
        if ledger is None:
            self._ledger.append(entry)
        else:
            self._completed.append((ledger, entry))
        self.lookups.remember(source, entry)
        return Recorded(entry["id"], outcome, interaction_id, note, opened)

    def _add_message(self, message: Row, prepared: Prepared, interaction: Interaction | intake.NewInteraction) -> None:
        message.update(interaction_id=interaction.id, company_id=interaction.company_id)
        self._messages.append(message)
        self._attachments.extend({
            "id": stored.attachment_id, "company_id": interaction.company_id, "message_id": message["id"],
            "filename": (stored.filename or "")[:255], "content_type": stored.content_type[:200],
            "size_bytes": stored.size, "storage_key": stored.key,
            "content_id": (stored.content_id or "")[:998] or None, "inline": stored.inline, "sha256": stored.sha256,
        } for stored in prepared.attachments)

    async def _thread(self, company_id: uuid.UUID, parsed: ParsedMessage) -> Interaction | None:
        """The interaction a reply belongs to, or None for a new conversation."""
        ids = [i for i in [parsed.in_reply_to, *reversed(parsed.references)] if i][:MAX_THREAD_IDS]
        for message_id in ids:
            domain = message_id.strip().rstrip(">").rpartition("@")[2]
            token = conversation_token(message_id, domain) if domain else None
            if token:
                found = await self.repo.interaction_by_reference(company_id, token)
                if found is not None:
                    return found
        if ids:
            await self.write()  # a reply to a message recorded earlier in this batch
            known = {m.message_id_header: m for m in await self.repo.messages_by_header(company_id, ids)}
            for message_id in ids:
                if message_id in known:
                    found = await self.repo.interaction(company_id, known[message_id].interaction_id)
                    if found is not None:
                        return found
        for reference in SUBJECT_REFERENCE.findall(parsed.subject):
            found = await self.repo.interaction_by_reference(company_id, reference)
            if found is not None:
                return found
        return None

    async def _open(self, prepared: Prepared,
                    source: MailSource) -> tuple[intake.NewInteraction, str, Campaign | None]:
        from postdesk.filters import service as filter_service

        parsed = prepared.parsed
        customer = parsed.sender
        decision = await filter_service.choose_campaign(
            self.session, company_id=source.company_id, server_id=source.server_id, message=parsed,
            delivered_to=prepared.delivered_to or None, cache=self.lookups.routing)
        campaign = await self._campaign(decision.campaign_id, source.company_id)
        reason = None
        if customer is not None and customer.address.lower() in self.lookups.blacklisted:
            reason = intake.StoredReason.blacklisted
        interaction = await intake.open_interaction(
            self.session, company_id=source.company_id, campaign=campaign,
            customer_email=customer.address if customer else "", customer_name=customer.name if customer else "",
            subject=parsed.subject, stored_reason=reason, arrived_at=utcnow(),
        )
        note = interaction.state_reason or interaction.state.value
        return interaction, note, campaign

    async def _campaign(self, campaign_id: uuid.UUID | None, company_id: uuid.UUID) -> Campaign | None:
        if campaign_id is None:
            return None
        if campaign_id not in self.lookups.campaigns:
            campaign = await self.session.get(Campaign, campaign_id)
            self.lookups.campaigns[campaign_id] = campaign if campaign is not None and campaign.company_id == company_id \
                else None
        return self.lookups.campaigns[campaign_id]


def _message_row(prepared: Prepared, source: MailSource) -> Row:
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
    return {
        "id": uuid.uuid4(),
        "direction": Direction.inbound,
        "kind": MessageKind.customer,
        "status": MessageStatus.received,
        "email_server_id": source.server_id,
        "message_id_header": (parsed.message_id or "")[:998] or None,
        "in_reply_to": (parsed.in_reply_to or "")[:998] or None,
        "references": [r[:998] for r in parsed.references[-50:]],
        "subject": parsed.subject[:998],
        "from_address": (sender.address if sender else "")[:320],
        "from_name": (sender.name if sender else "")[:200],
        "to": [{"address": a.address, "name": a.name} for a in parsed.to[:100]],
        "cc": [{"address": a.address, "name": a.name} for a in parsed.cc[:100]],
        "reply_to": parsed.reply_to[0].address[:320] if parsed.reply_to else None,
        "text_body": parsed.text or "",
        "html_body": prepared.html,
        "raw_key": prepared.raw_key,
        "content_hash": prepared.content_hash,
        "size_bytes": prepared.size,
        "sent_at": parsed.date,
        "extra": extra,
    }


async def already_recorded(session: AsyncSession, source: MailSource) -> bool:
    repo = InboundRepository(session)
    if source.uidl is not None:
        return source.uidl in await repo.pop3_known(source.server_id, [source.uidl])
    assert source.uidvalidity is not None and source.uid is not None
    return await repo.imap_seen(source.server_id, source.folder, source.uidvalidity, source.uid) is not None


async def record(session: AsyncSession, prepared: Prepared, source: MailSource, *,
                 ledger: InboundMail | None = None) -> Recorded:
    """Record one message (a retry, a reprocessed one) in the caller's transaction."""
    recording = await BatchRecording.start(session, source, [(source, prepared)])
    recorded = await recording.record(prepared, source, ledger=ledger)
    await recording.write()
    return recorded
