"""Tells a campaign's email groups when its mailbox cannot be read, once per outage.

The rule. A mailbox's outage begins with its first failure (status `error`) after it was last read and
ends when it is read again (`ok`) or no longer fetched (`stopped`). Once an outage has lasted
`inbound_alert_after_failures` failures in a row or `inbound_alert_after_minutes`, whichever comes first,
every contact of the groups attached for `delivery_failed` to the enabled, receiving campaigns that use
the mailbox's server gets one email. Nothing more is sent for that outage, not even when it ends: groups
subscribe to kinds of events and none of them means "working again". The next outage is told again.

Who checks. Every supervisor (one in each process that runs fetchers: several in production) calls
`check` on each reconcile, for every mailbox it wants fetched, not only those it fetches itself, so an
outage is noticed while its fetcher moves between workers. The fetcher writes failures on the mailbox
row, but a repeated identical error only once: a mailbox failing the same way keeps a low
`consecutive_failures`, and the minutes rule is what catches it.

Exactly once. Opening and closing outages are conditional UPDATEs that any number of supervisors may
run at the same time. Telling one is a transaction that first sets `alerted_at` only where it is still
empty (`UPDATE ... WHERE alerted_at IS NULL`): the one supervisor whose UPDATE changed the row writes
the notification rows in that transaction, and their send jobs leave after its commit (see
postdesk.notifications). A crash before the commit leaves `alerted_at` empty and the next check tries
again; after it, the notifications' own sweep sends what a lost job did not.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.campaigns import service as campaign_service
from postdesk.db import utcnow
from postdesk.groups.models import NotificationEvent
from postdesk.inbound.models import InboundMailbox, MailboxStatus
from postdesk.inbound.repository import InboundRepository
from postdesk.notifications import service as notification_service
from postdesk.servers.models import EmailServer, IncomingProtocol
from postdesk.settings import Settings
from postdesk.uow import unit_of_work

if TYPE_CHECKING:
    from postdesk.runtime import Runtime

log = structlog.get_logger(__name__)

ALERT_EVENT = NotificationEvent.delivery_failed


@dataclass(frozen=True)
class AlertRule:
    """When an outage is worth an email: this many failures in a row, or failing for this long."""

    after_failures: int
    after: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> AlertRule:
        return cls(settings.inbound_alert_after_failures, timedelta(minutes=settings.inbound_alert_after_minutes))


async def check(runtime: Runtime, *, wanted_server_ids: Collection[uuid.UUID]) -> int:
    """Close ended outages, open new ones, and tell the groups of those now due; returns how many were told."""
    rule = AlertRule.from_settings(runtime.settings)
    now = utcnow()
    async with unit_of_work(runtime) as session:
        repo = MailboxAlertRepository(session)
        for mailbox_id in await repo.close_ended_outages():
            log.info("inbound_mailbox_outage_ended", mailbox_id=str(mailbox_id))
        await repo.open_outages(now)
        due = [mailbox_id for mailbox_id, server_id in await repo.due(rule, now) if server_id in wanted_server_ids]
    told = 0
    for mailbox_id in due:
        # One transaction per mailbox: one company's trouble must not hold back another's email.
        try:
            async with unit_of_work(runtime) as session:
                told += await _tell(session, mailbox_id, rule, now, public_url=runtime.settings.public_url)
        except Exception:
            log.warning("inbound_mailbox_alert_failed", mailbox_id=str(mailbox_id), exc_info=True)
    return told


async def _tell(session: AsyncSession, mailbox_id: uuid.UUID, rule: AlertRule, now: datetime, *,
                public_url: str) -> int:
    if not await MailboxAlertRepository(session).claim(mailbox_id, rule, now):
        return 0  # another supervisor told it first, or the mailbox was read again meanwhile
    mailbox = await MailboxAlertRepository(session).mailbox(mailbox_id)
    server = await InboundRepository(session).server(mailbox.email_server_id)
    campaigns = await campaign_service.receiving_campaigns(session, mailbox.company_id, mailbox.email_server_id)
    if server is None or not campaigns:
        return 1  # nobody left to tell; the outage still counts as told
    subject, text = _message(mailbox, server, [c.title for c in campaigns], public_url=public_url)
    notifications = await notification_service.notify_groups_of_campaigns(
        session, company_id=mailbox.company_id, campaign_ids=[c.id for c in campaigns], subject=subject,
        text=text, event=ALERT_EVENT)
    log.warning("inbound_mailbox_alerted", mailbox_id=str(mailbox_id), server_id=str(server.id),
                failing_since=mailbox.failing_since.isoformat() if mailbox.failing_since else None,
                recipients=len(notifications))
    return 1


def _message(mailbox: InboundMailbox, server: EmailServer, campaign_titles: list[str], *,
             public_url: str) -> tuple[str, str]:
    protocol = "IMAP" if server.incoming_protocol is IncomingProtocol.imap else "POP3"
    where = f"{server.incoming_username or ''} on {server.incoming_host}:{server.incoming_port or 'default port'}"
    folder = f", folder {mailbox.folder}" if mailbox.folder else ""
    since = f"{mailbox.failing_since:%Y-%m-%d %H:%M} UTC" if mailbox.failing_since else "unknown"
    titles = ", ".join(f"“{title}”" for title in campaign_titles)
    subject = f"Incoming mail stopped: Postdesk cannot read the mailbox of “{server.name}”"
    text = (f"Postdesk cannot read the mailbox of the email server “{server.name}”, so new customer email "
            f"to {titles} is not reaching the agents.\n\n"
            f"Mailbox: {where} ({protocol}{folder})\n"
            f"Failing since: {since}\n"
            f"Last error: {mailbox.last_error or 'unknown'}\n\n"
            f"Postdesk keeps trying. Mail that arrives meanwhile stays on the server and is fetched once the "
            f"mailbox can be read again. Check the server's password and connection settings (the connection "
            f"test shows what fails): {public_url.rstrip('/')}/email-servers\n\n"
            f"You will not be emailed again about this outage.\n")
    return subject, text


class MailboxAlertRepository:
    """The queries of the rule above, on the mailbox rows (all companies: the supervisors serve them all).

    Kept beside the rule rather than in InboundRepository: they are its whole state machine, and each
    condition here is part of the exactly-once argument in the module docstring.
    """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def close_ended_outages(self) -> Sequence[uuid.UUID]:
        """Read again, or no longer fetched: the outage is over (the next failure starts a new one)."""
        result = await self.session.execute(
            update(InboundMailbox)
            .where(InboundMailbox.status.in_((MailboxStatus.ok, MailboxStatus.stopped)),
                   or_(InboundMailbox.failing_since.is_not(None), InboundMailbox.alerted_at.is_not(None)))
            .values(failing_since=None, alerted_at=None)
            .returning(InboundMailbox.id)
            .execution_options(synchronize_session=False))
        return result.scalars().all()

    async def open_outages(self, now: datetime) -> None:
        """Failing with no outage open, or with one that began before the mailbox was last read (a
        recovery and a new failure both happened between two checks): a new outage, not told yet."""
        ok_after_outage = and_(InboundMailbox.last_ok_at.is_not(None),
                               InboundMailbox.last_ok_at > InboundMailbox.failing_since)
        last_error_at = func.coalesce(InboundMailbox.last_error_at, now)
        # Never before the last success (clocks of two processes may differ): the outage stays closed to
        # the test above once opened, so it is opened once.
        began = case((and_(InboundMailbox.last_ok_at.is_not(None), InboundMailbox.last_ok_at > last_error_at),
                      InboundMailbox.last_ok_at), else_=last_error_at)
        await self.session.execute(
            update(InboundMailbox)
            .where(InboundMailbox.status == MailboxStatus.error,
                   or_(InboundMailbox.failing_since.is_(None), ok_after_outage))
            .values(failing_since=began, alerted_at=None)
            .execution_options(synchronize_session=False))

    @staticmethod
    def _due(rule: AlertRule, now: datetime) -> tuple:
        return (InboundMailbox.status == MailboxStatus.error,
                InboundMailbox.failing_since.is_not(None),
                InboundMailbox.alerted_at.is_(None),
                or_(InboundMailbox.last_ok_at.is_(None), InboundMailbox.last_ok_at <= InboundMailbox.failing_since),
                or_(InboundMailbox.consecutive_failures >= rule.after_failures,
                    InboundMailbox.failing_since <= now - rule.after))

    async def due(self, rule: AlertRule, now: datetime) -> Sequence[tuple[uuid.UUID, uuid.UUID]]:
        """(mailbox id, server id) of outages that should be told and were not."""
        # Only the folder the server reads now: a row left by a former folder keeps its last status forever.
        current_folder = case((EmailServer.incoming_protocol == IncomingProtocol.imap, EmailServer.imap_folder),
                              else_="")
        rows = await self.session.execute(
            select(InboundMailbox.id, InboundMailbox.email_server_id)
            .join(EmailServer, EmailServer.id == InboundMailbox.email_server_id)
            .where(*self._due(rule, now), InboundMailbox.folder == current_folder))
        return [(row.id, row.email_server_id) for row in rows]

    async def claim(self, mailbox_id: uuid.UUID, rule: AlertRule, now: datetime) -> bool:
        """Mark the outage told; True only for the one transaction whose UPDATE changed the row."""
        result = await self.session.execute(
            update(InboundMailbox)
            .where(InboundMailbox.id == mailbox_id, *self._due(rule, now))
            .values(alerted_at=now)
            .execution_options(synchronize_session=False))
        return result.rowcount == 1

    async def mailbox(self, mailbox_id: uuid.UUID) -> InboundMailbox:
        mailbox = await self.session.get(InboundMailbox, mailbox_id, populate_existing=True)
        assert mailbox is not None
        return mailbox
