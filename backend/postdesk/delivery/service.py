"""Outbound delivery: an outgoing Message row is written (queued) by the workspace or the auto-replier,
then sent by the `delivery.send_message` job through the campaign's email server.

States of the Message row: queued → sending → sent | failed (a transient failure goes back to queued
with `last_error` and a later due time, up to MAX_ATTEMPTS attempts).

Never twice, the rule: an attempt first CLAIMS the message (a conditional UPDATE of its outbox row,
so exactly one attempt wins) and commits `sending` before talking to the server. Another run of the
job that finds a live claim does nothing. A claim lasts longer than the job may run (the job's
timeout kills an attempt before its claim expires), so a claim that has expired belongs to an
attempt that died (worker killed, crash) after it may or may not have handed the message over. Such
a message is sent again WITH THE SAME Message-ID: we cannot know whether the server took it, and
losing a customer's reply is worse than a duplicate that mail clients and servers can recognise
(same Message-ID). This is the only case where a recipient can get a message twice.

A periodic sweep re-enqueues messages whose job was lost (e.g. Redis restarted after the commit)
and messages whose claim expired, so nothing stays queued forever.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.blacklist import service as blacklist_service
from postdesk.campaigns import service as campaign_service
from postdesk.campaigns.models import Campaign
from postdesk.db import utcnow
from postdesk.delivery import transport
from postdesk.delivery.models import OutboxEntry
from postdesk.delivery.repository import DeliveryRepository
from postdesk.errors import Invalid
from postdesk.interactions.models import Direction, Interaction, Message, MessageKind, MessageStatus
from postdesk.jobs.registry import RetryLater
from postdesk.mail import compose
from postdesk.mail.addresses import EmailAddress
from postdesk.mail.errors import InvalidMessage, PermanentDeliveryError, TransientDeliveryError
from postdesk.servers import service as server_service
from postdesk.servers.models import EmailServer
from postdesk.storage import BlobNotFound
from postdesk.uow import enqueue, publish, unit_of_work

if TYPE_CHECKING:
    from postdesk.runtime import Runtime

log = structlog.get_logger(__name__)

SEND_JOB = "delivery.send_message"
SEND_TIMEOUT_SECONDS = 180.0  # the job's timeout: an attempt never outlives it
CLAIM_SECONDS = SEND_TIMEOUT_SECONDS + 60  # longer than any live attempt, see the module docstring
# Waits after the 1st, 2nd... transient failure; greylisting and short outages pass within minutes.
RETRY_DELAYS_SECONDS = (5, 30, 120, 600, 1800, 3600)
MAX_ATTEMPTS = len(RETRY_DELAYS_SECONDS) + 1
SWEEP_AFTER_SECONDS = 60  # a queued message whose job has not claimed it by then is enqueued again
SWEEP_BATCH = 500


def job_id(message_id: uuid.UUID | str) -> str:
    return f"deliver:{message_id}"


# --- queueing (inside the caller's unit of work) ---------------------------------------------------------


async def queue_message(session: AsyncSession, *, message: Message) -> None:
    """Prepare an outbound Message row (status queued, already added to the session) and have it sent
    after the current transaction commits.

    Fills in what the campaign's server decides (server, From, from-name, Reply-To), gives it a
    Message-ID carrying the interaction's reference if it has none, refuses blacklisted recipients and
    messages that could never be built (422 naming the field), and enqueues the delivery job.
    """
    if message.direction != Direction.outbound or message.status != MessageStatus.queued:
        raise ValueError("queue_message takes outbound messages in status 'queued'")
    await session.flush()  # the row gets its id (and defaults) before anything refers to it
    repo = DeliveryRepository(session)
    interaction = await repo.interaction(message.company_id, message.interaction_id)
    if interaction is None:
        raise ValueError(f"message {message.id} has no interaction in its company")
    server, from_name = await _sending_server(session, repo, message, interaction)
    message.email_server_id = server.id
    message.from_address = server.sender_email
    message.from_name = message.from_name or from_name
    message.reply_to = message.reply_to or server.reply_to
    if not message.message_id_header:
        message.message_id_header = compose.make_message_id(_domain(server.sender_email),
                                                            token=interaction.reference)
    await _refuse_blacklisted(session, message)
    try:  # refused now with a clear 422 rather than failing later in the job
        compose.check_message(_outgoing(message, attachments=()))
    except InvalidMessage as invalid:
        raise Invalid(invalid.field, f"{invalid.field}: {invalid.problem}") from None
    await repo.add_outbox(OutboxEntry(message_id=message.id, company_id=message.company_id, due_at=utcnow()))
    await session.flush()
    enqueue(SEND_JOB, message.id, job_id=job_id(message.id))


async def _sending_server(session: AsyncSession, repo: DeliveryRepository, message: Message,
                          interaction: Interaction) -> tuple[EmailServer, str]:
    campaign = await _campaign(session, message.company_id, interaction.campaign_id)
    server = await sending_server(session, company_id=message.company_id, campaign=campaign,
                                  server_id=message.email_server_id)
    if server is None:
        raise Invalid("email_server_id", "No email server to send from: give the campaign an email server "
                                         "or mark one as the company's default.")
    return server, (campaign.from_name if campaign is not None and campaign.from_name else server.sender_name)


async def _campaign(session: AsyncSession, company_id: uuid.UUID, campaign_id: uuid.UUID | None) -> Campaign | None:
    if campaign_id is None:
        return None
    found = await campaign_service.campaigns_by_id(session, company_id, [campaign_id])
    return found[0] if found else None


async def sending_server(session: AsyncSession, *, company_id: uuid.UUID, campaign: Campaign | None,
                         server_id: uuid.UUID | None = None) -> EmailServer | None:
    """The server a message goes out through: the one chosen for it, else the campaign's, else the
    company's default (None when there is none)."""
    repo = DeliveryRepository(session)
    server = await repo.server(company_id, server_id) if server_id is not None else None
    if server is None and campaign is not None and campaign.email_server_id is not None:
        server = await repo.server(company_id, campaign.email_server_id)
    if server is None:
        server = await server_service.default_server(session, company_id)
    return server


async def _refuse_blacklisted(session: AsyncSession, message: Message) -> None:
    addresses = [entry["address"] for field in (message.to, message.cc, message.bcc) for entry in field or []]
    await blacklist_service.refuse_blacklisted(session, message.company_id, addresses, field="to")


def _domain(address: str) -> str:
    return address.rpartition("@")[2]


def _outgoing(message: Message, *, attachments: tuple[compose.Attachment, ...] | list[compose.Attachment]
              ) -> compose.OutgoingMessage:
    """The row as the mail adapters take it."""
    headers = dict((message.extra or {}).get("headers") or {})
    auto_submitted = next((headers.pop(name) for name in list(headers) if name.lower() == "auto-submitted"), None)
    if auto_submitted is None and message.kind == MessageKind.auto_reply:
        auto_submitted = "auto-replied"

    def addresses(entries: list[dict[str, str]] | None) -> list[EmailAddress]:
        return [EmailAddress(entry["address"], entry.get("name") or "") for entry in entries or []]

    return compose.OutgoingMessage(
        sender=EmailAddress(message.from_address, message.from_name or ""),
        to=addresses(message.to),
        cc=addresses(message.cc),
        bcc=addresses(message.bcc),
        reply_to=[message.reply_to] if message.reply_to else [],
        subject=message.subject or "",
        text=message.text_body or (None if message.html_body else ""),  # None: derived from the HTML
        html=message.html_body or None,
        message_id=message.message_id_header,
        in_reply_to=message.in_reply_to,
        references=list(message.references or []),
        auto_submitted=auto_submitted,
        attachments=attachments,
        headers=headers,
    )


# --- the job ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claimed:
    message_id: uuid.UUID
    company_id: uuid.UUID
    token: uuid.UUID
    attempt: int
    server: EmailServer
    outgoing: compose.OutgoingMessage


class _CannotSend(Exception):
    """The message can never go out as it is (blacklisted recipient, missing server or attachment)."""


async def deliver(runtime: Runtime, message_id: uuid.UUID) -> None:
    """One attempt at sending one message; safe to run any number of times (see the module docstring)."""
    async with unit_of_work(runtime) as session:
        claimed = await _claim(session, runtime, message_id)
    if claimed is None:
        return
    try:
        outcome = await transport.send_via_server(runtime, claimed.server, claimed.outgoing)
    except TransientDeliveryError as error:
        delay = await _record_transient(runtime, claimed, str(error), error.retry_after)
        if delay is not None:
            raise RetryLater(delay, str(error)) from error
        return
    except (PermanentDeliveryError, InvalidMessage) as error:
        await _record_failure(runtime, claimed, str(error))
        return
    except Exception as error:
        log.exception("delivery_attempt_crashed", message_id=str(message_id))
        delay = await _record_transient(runtime, claimed, f"unexpected error: {type(error).__name__}", None)
        if delay is not None:
            raise RetryLater(delay, "unexpected error") from error
        return
    raw_key = await runtime.blobs.put(outcome.raw)
    async with unit_of_work(runtime) as session:
        await _record_sent(session, claimed, outcome, raw_key)


async def _claim(session: AsyncSession, runtime: Runtime, message_id: uuid.UUID) -> _Claimed | None:
    repo = DeliveryRepository(session)
    message = await repo.message(message_id)
    if message is None or message.direction != Direction.outbound:
        return None
    if message.status not in (MessageStatus.queued, MessageStatus.sending):
        await repo.remove_outbox(message_id)  # sent, failed (or a draft): nothing to do, ever
        return None
    entry = await repo.outbox(message_id)
    if entry is None:  # queued without going through queue_message: adopt it
        entry = await repo.add_outbox(OutboxEntry(message_id=message_id, company_id=message.company_id))
    now = utcnow()
    if entry.claimed_until is not None and entry.claimed_until > now:
        return None  # a live attempt holds it; if it dies, the sweep brings the message back after its claim
    if message.attempts >= MAX_ATTEMPTS:
        _fail(message, message.last_error or "delivery attempts exhausted")
        await repo.remove_outbox(message_id)
        return None
    token = uuid.uuid4()
    if not await repo.claim(message_id, now=now, until=now + timedelta(seconds=CLAIM_SECONDS), token=token):
        return None  # another attempt claimed it between our read and our update
    if message.status == MessageStatus.sending:
        log.warning("delivery_resumed_after_dead_attempt", message_id=str(message_id),
                    message_id_header=message.message_id_header)
    message.status = MessageStatus.sending
    message.attempts += 1
    try:
        server, attachments = await _content(session, repo, runtime, message)
    except _CannotSend as cannot:
        _fail(message, str(cannot))
        await repo.remove_outbox(message_id)
        return None
    await session.flush()
    return _Claimed(message.id, message.company_id, token, message.attempts, server,
                    _outgoing(message, attachments=attachments))


async def _content(session: AsyncSession, repo: DeliveryRepository, runtime: Runtime,
                   message: Message) -> tuple[EmailServer, list[compose.Attachment]]:
    for entry in (*(message.to or []), *(message.cc or []), *(message.bcc or [])):
        if await blacklist_service.is_blacklisted(session, message.company_id, entry["address"]):
            raise _CannotSend(f"{entry['address']} is blacklisted; the message was not sent")
    server = await repo.server(message.company_id, message.email_server_id) if message.email_server_id else None
    if server is None:
        raise _CannotSend("the email server of this message no longer exists")
    attachments = []
    for row in await repo.attachments(message.company_id, message.id):
        try:
            data = await runtime.blobs.get(row.storage_key)
        except BlobNotFound:
            raise _CannotSend(f"the attachment {row.filename or row.id} is missing from storage") from None
        attachments.append(compose.Attachment(filename=row.filename or "attachment", content_type=row.content_type,
                                              data=data, content_id=row.content_id, inline=row.inline))
    return server, attachments


async def _owned(session: AsyncSession, claimed: _Claimed) -> tuple[Message | None, bool]:
    repo = DeliveryRepository(session)
    message = await repo.message(claimed.message_id)
    entry = await repo.outbox(claimed.message_id)
    return message, entry is not None and entry.claim_token == claimed.token


async def _record_sent(session: AsyncSession, claimed: _Claimed, outcome: transport.SendOutcome,
                       raw_key: str) -> None:
    message, _ = await _owned(session, claimed)
    if message is None or message.status == MessageStatus.sent:
        return
    # Recorded even if our claim was taken over: the server did accept the message.
    message.status = MessageStatus.sent
    message.sent_at = utcnow()
    message.provider_message_id = outcome.provider_message_id
    message.raw_key = raw_key
    message.size_bytes = len(outcome.raw)
    message.last_error = "; ".join(f"{r.address}: {r.code} {r.message}" for r in outcome.refused)
    await DeliveryRepository(session).remove_outbox(claimed.message_id)
    await session.flush()
    _announce("message.sent", message)


async def _record_transient(runtime: Runtime, claimed: _Claimed, error: str,
                            retry_after: float | None) -> float | None:
    """Back to queued with a later due time; returns the delay, or None when the message failed for good."""
    async with unit_of_work(runtime) as session:
        message, owned = await _owned(session, claimed)
        if message is None or not owned or message.status != MessageStatus.sending:
            return None
        if claimed.attempt >= MAX_ATTEMPTS:
            _fail(message, f"gave up after {claimed.attempt} attempts: {error}")
            await DeliveryRepository(session).remove_outbox(claimed.message_id)
            await _notify_failure(session, message)
            return None
        delay = float(RETRY_DELAYS_SECONDS[claimed.attempt - 1])
        if retry_after:  # the server asked for a wait; respect it, within reason
            delay = min(max(delay, retry_after), float(RETRY_DELAYS_SECONDS[-1]))
        message.status = MessageStatus.queued
        message.last_error = error
        entry = await DeliveryRepository(session).outbox(claimed.message_id)
        assert entry is not None
        entry.due_at = utcnow() + timedelta(seconds=delay)
        entry.claimed_until = None
        entry.claim_token = None
        await session.flush()
        _announce("message.retry_scheduled", message, retry_in_seconds=delay)
    return delay


async def _record_failure(runtime: Runtime, claimed: _Claimed, error: str) -> None:
    async with unit_of_work(runtime) as session:
        message, owned = await _owned(session, claimed)
        if message is None or not owned or message.status != MessageStatus.sending:
            return
        _fail(message, error)
        await DeliveryRepository(session).remove_outbox(claimed.message_id)
        await session.flush()
        await _notify_failure(session, message)


def _fail(message: Message, error: str) -> None:
    message.status = MessageStatus.failed
    message.last_error = error[:2000]
    log.info("delivery_failed", message_id=str(message.id), error=error[:300])
    _announce("message.failed", message)


def _announce(event: str, message: Message, **data: object) -> None:
    """To the agent who wrote it; automatic mail (no author) goes to supervisors."""
    payload = {"id": str(message.id), "interaction_id": str(message.interaction_id), "status": message.status.value,
               "kind": message.kind.value, "attempts": message.attempts, **data}
    if message.status == MessageStatus.failed or data:
        payload["error"] = message.last_error
    if message.author_id is not None:
        publish(event, message.company_id, payload, user_ids=[message.author_id])
    else:
        publish(event, message.company_id, payload, min_role="supervisor")


async def _notify_failure(session: AsyncSession, message: Message) -> None:
    """A message that failed for good is told to the campaign's email groups (when notifications exist)."""
    try:
        from postdesk.notifications import service as notifications
    except ImportError:
        return
    interaction = await DeliveryRepository(session).interaction(message.company_id, message.interaction_id)
    if interaction is None or interaction.campaign_id is None or not hasattr(notifications, "notify_groups"):
        return
    recipients = ", ".join(entry["address"] for entry in message.to or [])
    await notifications.notify_groups(
        session, company_id=message.company_id, campaign_id=interaction.campaign_id,
        subject=f"Message not delivered: {message.subject}"[:900].replace("\n", " ").replace("\r", " "),
        text=(f"A message of conversation {interaction.reference} to {recipients} could not be delivered.\n\n"
              f"Reason: {message.last_error}\n"),
    )


# --- the sweep ----------------------------------------------------------------------------------------------


async def sweep(session: AsyncSession) -> int:
    """Enqueue delivery for messages whose job was lost or whose attempt died; returns how many."""
    now = utcnow()
    ids = await DeliveryRepository(session).pending(
        now=now, queued_before=now - timedelta(seconds=SWEEP_AFTER_SECONDS), limit=SWEEP_BATCH)
    for message_id in ids:
        enqueue(SEND_JOB, message_id, job_id=job_id(message_id))
    return len(ids)
