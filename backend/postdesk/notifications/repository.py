"""Every notifications query, scoped to a company (the job's own lookups by id excepted)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.notifications.models import FailedCall, Notification, NotificationState


class NotificationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_all(self, rows: Sequence[object]) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    async def failed_call_by_external_id(self, company_id: uuid.UUID, external_id: str) -> FailedCall | None:
        query = select(FailedCall).where(FailedCall.company_id == company_id, FailedCall.external_id == external_id)
        return await self.session.scalar(query)

    async def failed_call(self, company_id: uuid.UUID, failed_call_id: uuid.UUID) -> FailedCall | None:
        query = select(FailedCall).where(FailedCall.company_id == company_id, FailedCall.id == failed_call_id)
        return await self.session.scalar(query)

    async def of_failed_call(self, failed_call_id: uuid.UUID) -> Sequence[Notification]:
        query = (select(Notification).where(Notification.failed_call_id == failed_call_id)
                 .order_by(Notification.recipient_email))
        return (await self.session.scalars(query)).all()

    async def get(self, company_id: uuid.UUID, notification_id: uuid.UUID) -> Notification | None:
        query = select(Notification).where(Notification.company_id == company_id, Notification.id == notification_id)
        return await self.session.scalar(query)

    async def list(
        self, company_id: uuid.UUID, *, campaign_id: uuid.UUID | None, state: NotificationState | None,
        failed_call_id: uuid.UUID | None, offset: int, limit: int,
    ) -> tuple[Sequence[Notification], int]:
        query = select(Notification).where(Notification.company_id == company_id)
        if campaign_id is not None:
            query = query.where(Notification.campaign_id == campaign_id)
        if state is not None:
            query = query.where(Notification.state == state)
        if failed_call_id is not None:
            query = query.where(Notification.failed_call_id == failed_call_id)
        total = await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await self.session.scalars(
            query.order_by(Notification.created_at.desc(), Notification.id).offset(offset).limit(limit))
        return rows.all(), total

    # For the job (it has only the id it was given).

    async def by_id(self, notification_id: uuid.UUID) -> Notification | None:
        return await self.session.get(Notification, notification_id, populate_existing=True)

    async def claim(self, notification_id: uuid.UUID, *, now: datetime, until: datetime) -> bool:
        """Take the row for one attempt: queued, or sending with an expired claim (its attempt died)."""
        result = await self.session.execute(
            update(Notification)
            .where(Notification.id == notification_id,
                   or_(Notification.state == NotificationState.queued,
                       (Notification.state == NotificationState.sending) & (Notification.claimed_until < now)))
            .values(state=NotificationState.sending, claimed_until=until, attempts=Notification.attempts + 1)
            .execution_options(synchronize_session=False))
        return result.rowcount == 1

    async def due(self, *, now: datetime, quiet_since: datetime, limit: int) -> Sequence[uuid.UUID]:
        """Rows whose job may have been lost: queued, due and untouched lately, or sending with an expired claim."""
        query = (select(Notification.id)
                 .where(or_((Notification.state == NotificationState.queued)
                            & (Notification.updated_at < quiet_since)
                            & or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now),
                            (Notification.state == NotificationState.sending) & (Notification.claimed_until < now)))
                 .order_by(Notification.created_at).limit(limit))
        return (await self.session.scalars(query)).all()
