"""Every presence and break-reason query, scoped to a company."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.accounts.models import Role, User
from postdesk.agents.models import AgentPresence, BreakReason, PresenceState
from postdesk.campaigns.models import CampaignMember
from postdesk.interactions.models import Interaction, InteractionState


class AgentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add[T](self, row: T) -> T:
        self.session.add(row)
        await self.session.flush()
        return row

    async def delete(self, row: object) -> None:
        await self.session.delete(row)
        await self.session.flush()

    async def presence(self, user_id: uuid.UUID, *, lock: bool = False) -> AgentPresence | None:
        query = select(AgentPresence).where(AgentPresence.user_id == user_id)
        if lock:
            query = query.with_for_update()
        return await self.session.scalar(query.execution_options(populate_existing=True))

    async def available(self, user_ids: Sequence[uuid.UUID], *, lock: bool) -> list[uuid.UUID]:
        """The active users among `user_ids` who are available; `lock` holds their rows (sorted, no deadlocks)."""
        if not user_ids:
            return []
        query = (select(AgentPresence.user_id)
                 .join(User, User.id == AgentPresence.user_id)
                 .where(AgentPresence.user_id.in_(list(user_ids)), AgentPresence.state == PresenceState.available,
                        User.is_active.is_(True))
                 .order_by(AgentPresence.user_id))
        if lock:
            query = query.with_for_update(of=AgentPresence)
        return list(await self.session.scalars(query))

    async def company_users(self, company_id: uuid.UUID) -> Sequence[User]:
        query = select(User).where(User.company_id == company_id, User.is_active.is_(True),
                                   User.role.in_([Role.agent, Role.supervisor])).order_by(User.name, User.id)
        return (await self.session.scalars(query)).all()

    async def presences(self, company_id: uuid.UUID) -> dict[uuid.UUID, AgentPresence]:
        rows = await self.session.scalars(select(AgentPresence).where(AgentPresence.company_id == company_id))
        return {row.user_id: row for row in rows}

    async def assigned_counts(self, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        if not user_ids:
            return {}
        rows = await self.session.execute(
            select(Interaction.agent_id, func.count())
            .where(Interaction.agent_id.in_(list(user_ids)), Interaction.state == InteractionState.assigned)
            .group_by(Interaction.agent_id))
        return {user_id: int(count) for user_id, count in rows.all()}

    async def campaign_ids_of(self, user_id: uuid.UUID) -> list[uuid.UUID]:
        return list(await self.session.scalars(select(CampaignMember.campaign_id)
                                               .where(CampaignMember.user_id == user_id)))

    # Break reasons
    async def reasons(self, company_id: uuid.UUID) -> Sequence[BreakReason]:
        query = select(BreakReason).where(BreakReason.company_id == company_id).order_by(BreakReason.name)
        return (await self.session.scalars(query)).all()

    async def reason(self, company_id: uuid.UUID, reason_id: uuid.UUID) -> BreakReason | None:
        query = select(BreakReason).where(BreakReason.company_id == company_id, BreakReason.id == reason_id)
        return await self.session.scalar(query)

    async def reason_name_taken(self, company_id: uuid.UUID, name: str, *, except_id: uuid.UUID | None = None) -> bool:
        query = select(BreakReason.id).where(BreakReason.company_id == company_id,
                                             func.lower(BreakReason.name) == name.lower())
        if except_id is not None:
            query = query.where(BreakReason.id != except_id)
        return (await self.session.scalar(query.limit(1))) is not None

    async def has_active_reasons(self, company_id: uuid.UUID) -> bool:
        query = select(BreakReason.id).where(BreakReason.company_id == company_id, BreakReason.active.is_(True))
        return (await self.session.scalar(query.limit(1))) is not None
