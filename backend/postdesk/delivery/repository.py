"""Every delivery query. Reads of messages, interactions and servers are scoped to a company; the job
starts from a message id it was given and scopes everything else to that message's company."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.delivery.models import OutboxEntry
from postdesk.interactions.models import Attachment, Interaction, Message
from postdesk.servers.models import EmailServer


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def message(self, message_id: uuid.UUID) -> Message | None:
        return await self.session.get(Message, message_id, populate_existing=True)

    async def interaction(self, company_id: uuid.UUID, interaction_id: uuid.UUID) -> Interaction | None:
        query = select(Interaction).where(Interaction.id == interaction_id, Interaction.company_id == company_id)
        return await self.session.scalar(query)

    async def server(self, company_id: uuid.UUID, server_id: uuid.UUID) -> EmailServer | None:
        # Read here rather than through servers.service, which wants an API caller; the job has none.
        query = select(EmailServer).where(EmailServer.id == server_id, EmailServer.company_id == company_id)
        return await self.session.scalar(query)

    async def attachments(self, company_id: uuid.UUID, message_id: uuid.UUID) -> Sequence[Attachment]:
        query = (select(Attachment)
                 .where(Attachment.message_id == message_id, Attachment.company_id == company_id)
                 .order_by(Attachment.filename, Attachment.id))
        return (await self.session.scalars(query)).all()

    async def outbox(self, message_id: uuid.UUID) -> OutboxEntry | None:
        return await self.session.get(OutboxEntry, message_id, populate_existing=True)

    async def add_outbox(self, entry: OutboxEntry) -> OutboxEntry:
        self.session.add(entry)
        await self.session.flush()
        return entry

    async def claim(self, message_id: uuid.UUID, *, now: datetime, until: datetime, token: uuid.UUID) -> bool:
        """Take the right to send, atomically: only one attempt wins, whatever the number of workers."""
        result = await self.session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.message_id == message_id,
                   or_(OutboxEntry.claimed_until.is_(None), OutboxEntry.claimed_until <= now))
            .values(claimed_until=until, claim_token=token)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1

    async def remove_outbox(self, message_id: uuid.UUID) -> None:
        await self.session.execute(delete(OutboxEntry).where(OutboxEntry.message_id == message_id))

    async def pending(self, *, now: datetime, queued_before: datetime, limit: int) -> Sequence[uuid.UUID]:
        """Messages whose job may have been lost: due and unclaimed for a while, or claimed by a dead attempt."""
        query = (select(OutboxEntry.message_id)
                 .where(or_(
                     (OutboxEntry.claimed_until.is_(None)) & (OutboxEntry.due_at <= queued_before),
                     OutboxEntry.claimed_until <= now,
                 ))
                 .order_by(OutboxEntry.due_at)
                 .limit(limit))
        return (await self.session.scalars(query)).all()
