"""Every workspace query on interactions, messages and attachments, scoped to a company."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.campaigns.models import Campaign, CampaignMember
from postdesk.interactions.models import Attachment, Interaction, InteractionState, Message, MessageStatus
from postdesk.routing.models import RoutingOffer


class InteractionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add[T](self, row: T) -> T:
        self.session.add(row)
        await self.session.flush()
        return row

    async def delete(self, row: object) -> None:
        await self.session.delete(row)
        await self.session.flush()

    async def get(self, company_id: uuid.UUID, interaction_id: uuid.UUID) -> Interaction | None:
        query = select(Interaction).where(Interaction.id == interaction_id, Interaction.company_id == company_id)
        return await self.session.scalar(query.execution_options(populate_existing=True))

    async def bump_version(self, company_id: uuid.UUID, interaction_id: uuid.UUID, expected: int) -> bool:
        """Optimistic check and row lock in one statement: only the holder of the current version wins."""
        result = await self.session.execute(
            update(Interaction)
            .where(Interaction.id == interaction_id, Interaction.company_id == company_id,
                   Interaction.version == expected)
            .values(version=expected + 1)
            .execution_options(synchronize_session=False))
        return result.rowcount == 1

    async def mark_read(self, interaction_id: uuid.UUID) -> None:
        await self.session.execute(update(Interaction).where(Interaction.id == interaction_id)
                                   .values(unread=False).execution_options(synchronize_session=False))

    async def messages(self, company_id: uuid.UUID, interaction_id: uuid.UUID) -> Sequence[Message]:
        query = (select(Message)
                 .where(Message.company_id == company_id, Message.interaction_id == interaction_id,
                        Message.status != MessageStatus.draft)
                 .order_by(Message.created_at, Message.id))
        return (await self.session.scalars(query)).all()

    async def message(self, company_id: uuid.UUID, interaction_id: uuid.UUID,
                      message_id: uuid.UUID) -> Message | None:
        query = select(Message).where(Message.id == message_id, Message.company_id == company_id,
                                      Message.interaction_id == interaction_id)
        return await self.session.scalar(query)

    async def drafts(self, company_id: uuid.UUID, interaction_id: uuid.UUID, author_id: uuid.UUID) -> Sequence[Message]:
        query = (select(Message)
                 .where(Message.company_id == company_id, Message.interaction_id == interaction_id,
                        Message.status == MessageStatus.draft, Message.author_id == author_id)
                 .order_by(Message.created_at))
        return (await self.session.scalars(query)).all()

    async def attachments(self, company_id: uuid.UUID, message_ids: Sequence[uuid.UUID]) -> Sequence[Attachment]:
        if not message_ids:
            return []
        query = (select(Attachment).where(Attachment.company_id == company_id,
                                          Attachment.message_id.in_(list(message_ids)))
                 .order_by(Attachment.filename, Attachment.id))
        return (await self.session.scalars(query)).all()

    async def attachment(self, company_id: uuid.UUID, interaction_id: uuid.UUID,
                         attachment_id: uuid.UUID) -> Attachment | None:
        query = (select(Attachment).join(Message, Message.id == Attachment.message_id)
                 .where(Attachment.id == attachment_id, Attachment.company_id == company_id,
                        Message.interaction_id == interaction_id))
        return await self.session.scalar(query)

    async def campaign_titles(self, campaign_ids: Sequence[uuid.UUID | None]) -> dict[uuid.UUID, str]:
        ids = [c for c in campaign_ids if c is not None]
        if not ids:
            return {}
        rows = await self.session.execute(select(Campaign.id, Campaign.title).where(Campaign.id.in_(ids)))
        return {campaign_id: title for campaign_id, title in rows.all()}

    async def member_campaign_ids(self, user_id: uuid.UUID) -> list[uuid.UUID]:
        return list(await self.session.scalars(select(CampaignMember.campaign_id)
                                               .where(CampaignMember.user_id == user_id)))

    async def is_member(self, campaign_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        query = select(CampaignMember.user_id).where(CampaignMember.campaign_id == campaign_id,
                                                     CampaignMember.user_id == user_id)
        return (await self.session.scalar(query)) is not None

    async def tray(self, company_id: uuid.UUID, user_id: uuid.UUID) -> Sequence[Interaction]:
        query = (select(Interaction)
                 .where(Interaction.company_id == company_id, Interaction.agent_id == user_id,
                        Interaction.state == InteractionState.assigned)
                 .order_by(Interaction.assigned_at, Interaction.id))
        return (await self.session.scalars(query)).all()

    async def offered_to(self, company_id: uuid.UUID, user_id: uuid.UUID) -> Sequence[Interaction]:
        query = (select(Interaction).join(RoutingOffer, RoutingOffer.interaction_id == Interaction.id)
                 .where(Interaction.company_id == company_id, RoutingOffer.user_id == user_id,
                        Interaction.state == InteractionState.queued)
                 .order_by(Interaction.priority.desc(), Interaction.queued_at))
        return (await self.session.scalars(query)).all()

    async def is_offered(self, interaction_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        return (await self.session.get(RoutingOffer, (interaction_id, user_id))) is not None

    async def search(
        self, company_id: uuid.UUID, *, visible_to_agent: uuid.UUID | None, q: str | None,
        campaign_id: uuid.UUID | None, state: InteractionState | None, agent_id: uuid.UUID | None,
        customer_email: str | None, offset: int, limit: int,
    ) -> tuple[Sequence[Interaction], int]:
        query: Select = (select(Interaction).outerjoin(Campaign, Campaign.id == Interaction.campaign_id)
                         .where(Interaction.company_id == company_id))
        if visible_to_agent is not None:
            mine = select(CampaignMember.campaign_id).where(CampaignMember.user_id == visible_to_agent)
            query = query.where(or_(Interaction.campaign_id.in_(mine), Interaction.agent_id == visible_to_agent))
        if q:
            needle = q.lower()
            query = query.where(or_(
                func.lower(Campaign.title).contains(needle, autoescape=True),
                func.lower(Interaction.customer_email).contains(needle, autoescape=True),
                func.lower(Interaction.subject).contains(needle, autoescape=True),
                func.lower(Interaction.customer_name).contains(needle, autoescape=True),
                func.lower(Interaction.reference) == needle,
            ))
        if campaign_id is not None:
            query = query.where(Interaction.campaign_id == campaign_id)
        if state is not None:
            query = query.where(Interaction.state == state)
        if agent_id is not None:
            query = query.where(Interaction.agent_id == agent_id)
        if customer_email:
            query = query.where(func.lower(Interaction.customer_email).contains(customer_email.lower(),
                                                                                autoescape=True))
        total = await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await self.session.scalars(
            query.order_by(Interaction.last_message_at.desc(), Interaction.id).offset(offset).limit(limit))
        return rows.all(), int(total)

    async def remove_draft(self, draft_id: uuid.UUID) -> None:
        await self.session.execute(delete(Message).where(Message.id == draft_id,
                                                         Message.status == MessageStatus.draft))
