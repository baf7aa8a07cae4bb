"""Routing's queries. The router runs as a job (no caller); each query is scoped by campaign,
whose company the job read from the campaign row itself."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.campaigns.models import Campaign, CampaignMember
from postdesk.interactions.models import Interaction, InteractionState
from postdesk.routing.models import Assignment, RoutingOffer


class RoutingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_campaign(self, campaign_id: uuid.UUID) -> Campaign | None:
        """Serialise routers of one campaign (same row lock as intake's admission).

        PostgreSQL: SELECT ... FOR UPDATE. SQLite ignores FOR UPDATE and would let a deferred
        transaction read a stale queue, so a no-op write takes its database write lock first.
        """
        if self.session.bind.dialect.name == "sqlite":
            await self.session.execute(text("UPDATE campaigns SET enabled = enabled WHERE id = :id"),
                                       {"id": campaign_id.hex})
        return await self.session.scalar(
            select(Campaign).where(Campaign.id == campaign_id).with_for_update()
            .execution_options(populate_existing=True))

    async def members(self, campaign_id: uuid.UUID) -> Sequence[CampaignMember]:
        query = (select(CampaignMember).where(CampaignMember.campaign_id == campaign_id)
                 .order_by(CampaignMember.position.is_(None), CampaignMember.position, CampaignMember.added_at,
                           CampaignMember.user_id))
        return (await self.session.scalars(query)).all()

    async def is_member(self, campaign_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        query = select(CampaignMember.user_id).where(CampaignMember.campaign_id == campaign_id,
                                                     CampaignMember.user_id == user_id)
        return (await self.session.scalar(query)) is not None

    async def queued(self, campaign_id: uuid.UUID, limit: int) -> Sequence[uuid.UUID]:
        """Waiting interactions, priority first then oldest; rows another transaction holds are skipped."""
        query = (select(Interaction.id)
                 .where(Interaction.campaign_id == campaign_id, Interaction.state == InteractionState.queued)
                 .order_by(Interaction.priority.desc(), Interaction.queued_at, Interaction.created_at)
                 .limit(limit).with_for_update(skip_locked=True))
        return (await self.session.scalars(query)).all()

    async def take(self, interaction_id: uuid.UUID, campaign_id: uuid.UUID, user_id: uuid.UUID,
                   now: datetime) -> bool:
        """Assign only if still queued in this campaign: the guard that makes double assignment impossible."""
        result = await self.session.execute(
            update(Interaction)
            .where(Interaction.id == interaction_id, Interaction.campaign_id == campaign_id,
                   Interaction.state == InteractionState.queued)
            .values(state=InteractionState.assigned, agent_id=user_id, assigned_at=now,
                    version=Interaction.version + 1, updated_at=now)
            .execution_options(synchronize_session=False))
        return result.rowcount == 1

    async def record(self, assignment: Assignment) -> None:
        self.session.add(assignment)
        await self.session.flush()

    async def stats(self, campaign_id: uuid.UUID, since: datetime) -> dict[uuid.UUID, tuple[int, datetime | None]]:
        """Per agent: assignments in this campaign since `since`, and their latest assignment ever."""
        rows = await self.session.execute(
            select(Assignment.user_id,
                   func.count().filter(Assignment.assigned_at >= since),
                   func.max(Assignment.assigned_at))
            .where(Assignment.campaign_id == campaign_id).group_by(Assignment.user_id))
        return {user_id: (int(count), last) for user_id, count, last in rows.all()}

    async def last_assigned_user(self, campaign_id: uuid.UUID) -> uuid.UUID | None:
        query = (select(Assignment.user_id).where(Assignment.campaign_id == campaign_id)
                 .order_by(Assignment.assigned_at.desc(), Assignment.id.desc()).limit(1))
        return await self.session.scalar(query)

    # Offers
    async def offers(self, campaign_id: uuid.UUID) -> set[tuple[uuid.UUID, uuid.UUID]]:
        rows = await self.session.execute(select(RoutingOffer.interaction_id, RoutingOffer.user_id)
                                          .where(RoutingOffer.campaign_id == campaign_id))
        return {(i, u) for i, u in rows.all()}

    async def offer(self, interaction_id: uuid.UUID, user_id: uuid.UUID) -> RoutingOffer | None:
        return await self.session.get(RoutingOffer, (interaction_id, user_id))

    async def offers_to(self, user_id: uuid.UUID) -> Sequence[RoutingOffer]:
        query = select(RoutingOffer).where(RoutingOffer.user_id == user_id).order_by(RoutingOffer.offered_at)
        return (await self.session.scalars(query)).all()

    async def add_offers(self, offers: list[RoutingOffer]) -> None:
        self.session.add_all(offers)
        await self.session.flush()

    async def remove_offers(self, campaign_id: uuid.UUID, pairs: set[tuple[uuid.UUID, uuid.UUID]]) -> None:
        for interaction_id, user_id in pairs:
            await self.session.execute(delete(RoutingOffer).where(RoutingOffer.interaction_id == interaction_id,
                                                                  RoutingOffer.user_id == user_id))

    async def clear_offers(self, *, campaign_id: uuid.UUID | None = None,
                           interaction_id: uuid.UUID | None = None) -> None:
        statement = delete(RoutingOffer)
        if campaign_id is not None:
            statement = statement.where(RoutingOffer.campaign_id == campaign_id)
        if interaction_id is not None:
            statement = statement.where(RoutingOffer.interaction_id == interaction_id)
        await self.session.execute(statement)

    async def campaigns_waiting(self) -> Sequence[uuid.UUID]:
        """Campaigns with queued interactions or outstanding offers (the periodic sweep's work list)."""
        queued = select(Interaction.campaign_id).where(Interaction.state == InteractionState.queued,
                                                       Interaction.campaign_id.is_not(None))
        offered = select(RoutingOffer.campaign_id)
        return (await self.session.scalars(queued.union(offered))).all()
