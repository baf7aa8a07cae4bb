"""Every ratings query. The public page finds its message by a signed id; aggregates are company-scoped."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.accounts.models import User
from postdesk.campaigns.models import Campaign
from postdesk.interactions.models import Interaction, Message
from postdesk.ratings.models import Rating


class RatingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def rated_message(self, message_id: uuid.UUID) -> tuple[Message, Interaction, Campaign | None] | None:
        query = (select(Message, Interaction, Campaign)
                 .join(Interaction, (Interaction.id == Message.interaction_id)
                       & (Interaction.company_id == Message.company_id))
                 .outerjoin(Campaign, (Campaign.id == Interaction.campaign_id)
                            & (Campaign.company_id == Interaction.company_id))
                 .where(Message.id == message_id))
        row = (await self.session.execute(query)).first()
        return (row[0], row[1], row[2]) if row else None

    async def rating_of(self, message_id: uuid.UUID) -> Rating | None:
        return await self.session.scalar(select(Rating).where(Rating.message_id == message_id))

    async def add_once(self, values: dict[str, Any]) -> bool:
        """Insert unless the message is rated already; False when it was (also under a race)."""
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(Rating).values(id=uuid.uuid4(), **values).on_conflict_do_nothing(
            index_elements=[Rating.message_id])
        result = await self.session.execute(statement)
        return result.rowcount == 1

    def _filtered(self, query, company_id: uuid.UUID, *, campaign_id: uuid.UUID | None,
                  agent_id: uuid.UUID | None, since: datetime | None, until: datetime | None):
        query = query.where(Rating.company_id == company_id)
        if campaign_id is not None:
            query = query.where(Rating.campaign_id == campaign_id)
        if agent_id is not None:
            query = query.where(Rating.agent_id == agent_id)
        if since is not None:
            query = query.where(Rating.created_at >= since)
        if until is not None:
            query = query.where(Rating.created_at < until)
        return query

    async def totals(self, company_id: uuid.UUID, **filters: Any) -> tuple[int, float | None, dict[int, int]]:
        query = self._filtered(select(Rating.score, func.count()).group_by(Rating.score), company_id, **filters)
        distribution = {int(score): int(count) for score, count in (await self.session.execute(query)).all()}
        count = sum(distribution.values())
        average = sum(score * n for score, n in distribution.items()) / count if count else None
        return count, average, distribution

    async def by_campaign(self, company_id: uuid.UUID, **filters: Any) -> list[tuple[uuid.UUID | None, str, int, float]]:
        query = self._filtered(
            select(Rating.campaign_id, Campaign.title, func.count(), func.avg(Rating.score))
            .outerjoin(Campaign, (Campaign.id == Rating.campaign_id) & (Campaign.company_id == Rating.company_id))
            .group_by(Rating.campaign_id, Campaign.title)
            .order_by(Campaign.title),
            company_id, **filters)
        return [(row[0], row[1] or "", int(row[2]), float(row[3])) for row in (await self.session.execute(query)).all()]

    async def by_agent(self, company_id: uuid.UUID, **filters: Any) -> list[tuple[uuid.UUID | None, str, int, float]]:
        query = self._filtered(
            select(Rating.agent_id, User.name, func.count(), func.avg(Rating.score))
            .outerjoin(User, (User.id == Rating.agent_id) & (User.company_id == Rating.company_id))
            .group_by(Rating.agent_id, User.name)
            .order_by(User.name),
            company_id, **filters)
        return [(row[0], row[1] or "", int(row[2]), float(row[3])) for row in (await self.session.execute(query)).all()]
