"""Rules for notifications to email groups.

`notify_groups` writes one `Notification` row per group contact in the caller's transaction and asks
for one send job per row (job id = notification id, sent after commit). The job claims the row for a
bounded time, sends it through the campaign's email server (or the company's default) and records
the outcome, so:
- nothing is lost: the row exists before any send, and a periodic sweep re-asks for rows whose job
  vanished (a crash between commit and enqueue, a dead worker);
- nothing twice: a row is sent only from `queued` (or from an expired claim of a dead attempt); a
  second run of the job finds it `sent` and stops. Only a crash between the server's "250" and our
  commit can resend, and the resend carries the same Message-ID.
Transient failures (4xx, timeouts, server down) are retried on `RETRY_DELAYS_SECONDS`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.accounts.caller import Caller
from postdesk.campaigns import service as campaign_service
from postdesk.db import utcnow
from postdesk.delivery import service as delivery_service
from postdesk.delivery import transport
from postdesk.errors import NotFound, UnknownReference
from postdesk.groups import service as groups_service
from postdesk.groups.models import NotificationEvent
from postdesk.jobs.registry import RetryLater
from postdesk.mail.addresses import EmailAddress
from postdesk.mail.compose import OutgoingMessage, make_message_id
from postdesk.mail.errors import InvalidMessage, PermanentDeliveryError, TransientDeliveryError
from postdesk.notifications.models import FailedCall, Notification, NotificationState
from postdesk.notifications.repository import NotificationRepository
from postdesk.notifications.schemas import FailedCallIn, FailedCallPublic, NotificationPublic
from postdesk.servers.models import EmailServer
from postdesk.uow import enqueue, publish, unit_of_work

if TYPE_CHECKING:
    from postdesk.runtime import Runtime

log = structlog.get_logger(__name__)

SEND_JOB = "notifications.send"
RETRY_DELAYS_SECONDS = (5, 30, 120, 600, 1800)
MAX_ATTEMPTS = len(RETRY_DELAYS_SECONDS) + 1
# Longer than the send job's timeout, so a live attempt never loses its claim to another one.
CLAIM_SECONDS = 180
SEND_TIMEOUT_SECONDS = 120
SWEEP_QUIET_SECONDS = 60


def job_id(notification_id: uuid.UUID | str) -> str:
    return f"notification:{notification_id}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


async def notify_groups(
    session: AsyncSession, *, company_id: uuid.UUID, campaign_id: uuid.UUID, subject: str, text: str,
    event: NotificationEvent = NotificationEvent.delivery_failed, failed_call_id: uuid.UUID | None = None,
) -> list[Notification]:
    """Email every contact of the groups attached to the campaign for `event` (default: delivery
    problems). Rows are written now, sent by jobs after the caller's commit; returns the rows."""
    if await campaign_service.find_campaign(session, company_id, campaign_id) is None:
        raise UnknownReference("campaign_id", "Campaign")
    return await notify_groups_of_campaigns(session, company_id=company_id, campaign_ids=[campaign_id],
                                            subject=subject, text=text, event=event, failed_call_id=failed_call_id)


async def notify_groups_of_campaigns(
    session: AsyncSession, *, company_id: uuid.UUID, campaign_ids: list[uuid.UUID], subject: str, text: str,
    event: NotificationEvent, failed_call_id: uuid.UUID | None = None,
) -> list[Notification]:
    """`notify_groups` for news that concerns several campaigns at once (e.g. a mailbox they share): a
    contact attached through more than one of them gets one email, sent as from the first campaign."""
    rows: list[Notification] = []
    told: set[str] = set()
    for campaign_id in campaign_ids:
        for contact in await groups_service.recipients(session, company_id, campaign_id, event):
            if contact.email.lower() in told:
                continue
            told.add(contact.email.lower())
            rows.append(Notification(
                id=uuid.uuid4(), company_id=company_id, campaign_id=campaign_id, failed_call_id=failed_call_id,
                event=event.value, recipient_email=contact.email, recipient_name=contact.contact_name,
                subject=_one_line(subject)[:998] or event.value, text=text, state=NotificationState.queued,
                attempts=0))
    if not rows:
        return []
    await NotificationRepository(session).add_all(rows)
    for row in rows:
        enqueue(SEND_JOB, row.id, job_id=job_id(row.id))
    for campaign_id in dict.fromkeys(row.campaign_id for row in rows):
        publish("notifications.queued", company_id,
                {"campaign_id": str(campaign_id), "event": event.value,
                 "count": sum(1 for row in rows if row.campaign_id == campaign_id)}, min_role="supervisor")
    return rows


# Failed calls


def _failed_call_public(call: FailedCall, notifications: list[Notification], *, duplicate: bool) -> FailedCallPublic:
    return FailedCallPublic(
        id=call.id, campaign_id=call.campaign_id, caller=call.caller, caller_name=call.caller_name,
        reason=call.reason, occurred_at=call.occurred_at, external_id=call.external_id, created_at=call.created_at,
        duplicate=duplicate, notifications=[NotificationPublic.model_validate(n) for n in notifications])


async def report_failed_call(session: AsyncSession, caller: Caller, data: FailedCallIn) -> FailedCallPublic:
    """Record a failed or lost call and email the campaign's groups so someone calls the customer back."""
    repo = NotificationRepository(session)
    if data.external_id is not None:
        known = await repo.failed_call_by_external_id(caller.company_id, data.external_id)
        if known is not None:
            return _failed_call_public(known, list(await repo.of_failed_call(known.id)), duplicate=True)
    campaign = await campaign_service.find_campaign(session, caller.company_id, data.campaign_id)
    if campaign is None:
        raise UnknownReference("campaign_id", "Campaign")
    call = FailedCall(id=uuid.uuid4(), company_id=caller.company_id, campaign_id=campaign.id, caller=data.caller,
                      caller_name=data.caller_name, reason=data.reason, occurred_at=data.occurred_at.astimezone(UTC),
                      external_id=data.external_id)
    await repo.add_all([call])
    local = call.occurred_at.astimezone(ZoneInfo(campaign.schedule_timezone))
    who = f"{data.caller_name} ({data.caller})" if data.caller_name else data.caller
    text = (f"A call to campaign “{campaign.title}” failed and needs follow-up: offer the customer a "
            f"callback or reach them another way.\n\n"
            f"Caller: {who}\n"
            f"Campaign: {campaign.title}\n"
            f"Reason: {data.reason}\n"
            f"Time: {local:%Y-%m-%d %H:%M:%S} {campaign.schedule_timezone} "
            f"({call.occurred_at:%Y-%m-%d %H:%M:%S} UTC)\n")
    notifications = await notify_groups(
        session, company_id=caller.company_id, campaign_id=campaign.id,
        subject=f"Failed call from {who} — {campaign.title}", text=text, event=NotificationEvent.failed_call,
        failed_call_id=call.id)
    publish("failed_call.reported", caller.company_id, {"id": str(call.id), "campaign_id": str(campaign.id)},
            min_role="supervisor")
    return _failed_call_public(call, notifications, duplicate=False)


async def list_notifications(
    session: AsyncSession, caller: Caller, *, campaign_id: uuid.UUID | None, state: NotificationState | None,
    failed_call_id: uuid.UUID | None, offset: int, limit: int,
) -> tuple[list[Notification], int]:
    rows, total = await NotificationRepository(session).list(
        caller.company_id, campaign_id=campaign_id, state=state, failed_call_id=failed_call_id, offset=offset,
        limit=limit)
    return list(rows), total


async def get_notification(session: AsyncSession, caller: Caller, notification_id: uuid.UUID) -> Notification:
    notification = await NotificationRepository(session).get(caller.company_id, notification_id)
    if notification is None:
        raise NotFound("Notification")
    return notification


# The send job


@dataclass(frozen=True)
class _Claimed:
    id: uuid.UUID
    server: EmailServer
    outgoing: OutgoingMessage


async def deliver(runtime: Runtime, notification_id: uuid.UUID) -> None:
    """One attempt at sending one notification; safe to run any number of times."""
    async with unit_of_work(runtime) as session:
        claimed = await _claim(session, notification_id)
    if claimed is None:
        return
    try:
        outcome = await transport.send_via_server(runtime, claimed.server, claimed.outgoing)
    except TransientDeliveryError as error:
        await _retry_or_fail(runtime, claimed.id, str(error), error.retry_after)
        return
    except (PermanentDeliveryError, InvalidMessage) as error:
        await _finish(runtime, claimed.id, NotificationState.failed, str(error))
        return
    except Exception as error:  # unknown outcome: retried like a transient failure
        log.exception("notification_attempt_crashed", notification_id=str(notification_id))
        await _retry_or_fail(runtime, claimed.id, f"unexpected error: {type(error).__name__}", None)
        return
    refusals = [r for r in outcome.refused if r.address.lower() == claimed.outgoing.to[0].address.lower()]
    if refusals:
        refusal = refusals[0]
        reason = f"{refusal.code} {refusal.message}"
        if refusal.transient:
            await _retry_or_fail(runtime, claimed.id, reason, None)
        else:
            await _finish(runtime, claimed.id, NotificationState.failed, reason)
        return
    await _finish(runtime, claimed.id, NotificationState.sent, None)


async def _claim(session: AsyncSession, notification_id: uuid.UUID) -> _Claimed | None:
    repo = NotificationRepository(session)
    notification = await repo.by_id(notification_id)
    if notification is None or notification.state in (NotificationState.sent, NotificationState.failed):
        return None  # done already: a second run of the job changes nothing
    now = utcnow()
    if not await repo.claim(notification_id, now=now, until=now + timedelta(seconds=CLAIM_SECONDS)):
        return None  # queued for later, or a live attempt holds it
    notification = await repo.by_id(notification_id)
    assert notification is not None
    if notification.attempts > MAX_ATTEMPTS:
        _set_final(notification, NotificationState.failed, notification.last_error or "attempts exhausted")
        return None
    campaign = (await campaign_service.find_campaign(session, notification.company_id, notification.campaign_id)
                if notification.campaign_id else None)
    server = await delivery_service.sending_server(session, company_id=notification.company_id, campaign=campaign)
    if server is None:
        _set_final(notification, NotificationState.failed,
                   "No email server to send from: give the campaign one or mark one as the company's default.")
        return None
    notification.email_server_id = server.id
    if notification.message_id is None:
        notification.message_id = make_message_id(server.sender_email.rpartition("@")[2])
    await session.flush()
    sender_name = campaign.from_name if campaign is not None and campaign.from_name else server.sender_name
    outgoing = OutgoingMessage(
        sender=EmailAddress(server.sender_email, sender_name),
        to=[EmailAddress(notification.recipient_email, notification.recipient_name)],
        subject=notification.subject, text=notification.text, message_id=notification.message_id,
        auto_submitted="auto-generated",  # RFC 3834: no auto-replies to this, please
    )
    return _Claimed(notification.id, server, outgoing)


def _set_final(notification: Notification, state: NotificationState, error: str | None) -> None:
    notification.state = state
    notification.claimed_until = None
    notification.next_attempt_at = None
    notification.last_error = error[:2000] if error else None
    if state == NotificationState.sent:
        notification.sent_at = utcnow()
    else:
        log.warning("notification_failed", notification_id=str(notification.id), error=error)
    publish(f"notification.{state.value}", notification.company_id,
            {"id": str(notification.id), "campaign_id": str(notification.campaign_id)}, min_role="supervisor")


async def _finish(runtime: Runtime, notification_id: uuid.UUID, state: NotificationState, error: str | None) -> None:
    async with unit_of_work(runtime) as session:
        notification = await NotificationRepository(session).by_id(notification_id)
        if notification is not None and notification.state == NotificationState.sending:
            _set_final(notification, state, error)


async def _retry_or_fail(runtime: Runtime, notification_id: uuid.UUID, error: str,
                         retry_after: float | None) -> None:
    """Back to `queued` with a delay (then RetryLater), or failed for good after the last attempt."""
    async with unit_of_work(runtime) as session:
        notification = await NotificationRepository(session).by_id(notification_id)
        if notification is None or notification.state != NotificationState.sending:
            return
        if notification.attempts >= MAX_ATTEMPTS:
            _set_final(notification, NotificationState.failed, f"gave up after {notification.attempts} attempts: "
                                                               f"{error}")
            return
        delay = max(RETRY_DELAYS_SECONDS[notification.attempts - 1], retry_after or 0)
        notification.state = NotificationState.queued
        notification.claimed_until = None
        notification.last_error = error[:2000]
        notification.next_attempt_at = utcnow() + timedelta(seconds=delay)
    raise RetryLater(delay, error)


async def sweep(session: AsyncSession) -> int:
    """Ask again for the jobs of rows that should be moving but are not; returns how many."""
    now = utcnow()
    due = await NotificationRepository(session).due(now=now, quiet_since=now - timedelta(seconds=SWEEP_QUIET_SECONDS),
                                                    limit=500)
    for notification_id in due:
        enqueue(SEND_JOB, notification_id, job_id=job_id(notification_id))
    return len(due)
