"""Every campaigns query, each scoped to a company (child rows through their campaign)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.campaigns.models import (
    Campaign,
    CampaignGroup,
    CampaignMember,
    CampaignTeam,
    ScheduleException,
    ScheduleWindow,
)


class CampaignRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add[T](self, row: T) -> T:
        self.session.add(row)
        await self.session.flush()
        return row

    async def delete(self, row: object) -> None:
        await self.session.delete(row)
        await self.session.flush()

    # Groups
    async def group(self, company_id: uuid.UUID, group_id: uuid.UUID) -> CampaignGroup | None:
        query = select(CampaignGroup).where(CampaignGroup.id == group_id, CampaignGroup.company_id == company_id)
        return await self.session.scalar(query)

    async def groups(self, company_id: uuid.UUID) -> Sequence[CampaignGroup]:
        query = select(CampaignGroup).where(CampaignGroup.company_id == company_id).order_by(CampaignGroup.name)
        return (await self.session.scalars(query)).all()

    async def group_name_taken(self, company_id: uuid.UUID, name: str, *, except_id: uuid.UUID | None = None) -> bool:
        query = select(CampaignGroup.id).where(CampaignGroup.company_id == company_id,
                                               func.lower(CampaignGroup.name) == name.lower())
        if except_id:
            query = query.where(CampaignGroup.id != except_id)
        return (await self.session.scalar(query.limit(1))) is not None

    # Campaigns
    async def get(self, company_id: uuid.UUID, campaign_id: uuid.UUID) -> Campaign | None:
        query = select(Campaign).where(Campaign.id == campaign_id, Campaign.company_id == company_id)
        return await self.session.scalar(query)

    async def many(self, company_id: uuid.UUID, campaign_ids: Iterable[uuid.UUID]) -> Sequence[Campaign]:
        query = select(Campaign).where(Campaign.company_id == company_id, Campaign.id.in_(list(campaign_ids)))
        return (await self.session.scalars(query.order_by(Campaign.title))).all()

    async def worked_by(self, company_id: uuid.UUID, user_id: uuid.UUID | None) -> Sequence[Campaign]:
        """The company's campaigns, only those `user_id` is a member of unless it is None."""
        query = select(Campaign).where(Campaign.company_id == company_id)
        if user_id is not None:
            query = query.join(CampaignMember, CampaignMember.campaign_id == Campaign.id).where(
                CampaignMember.user_id == user_id)
        return (await self.session.scalars(query.order_by(Campaign.title, Campaign.id))).all()

    async def list(
        self, company_id: uuid.UUID, *, group_id: uuid.UUID | None, enabled: bool | None, search: str | None,
        offset: int, limit: int,
    ) -> tuple[Sequence[Campaign], int]:
        query = select(Campaign).where(Campaign.company_id == company_id)
        if group_id is not None:
            query = query.where(Campaign.group_id == group_id)
        if enabled is not None:
            query = query.where(Campaign.enabled == enabled)
        if search:
            query = query.where(func.lower(Campaign.title).contains(search.lower(), autoescape=True))
        total = await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await self.session.scalars(query.order_by(Campaign.title, Campaign.id).offset(offset).limit(limit))
        return rows.all(), total

    async def title_taken(self, company_id: uuid.UUID, title: str, *, except_id: uuid.UUID | None = None) -> bool:
        query = select(Campaign.id).where(Campaign.company_id == company_id, func.lower(Campaign.title) == title.lower())
        if except_id:
            query = query.where(Campaign.id != except_id)
        return (await self.session.scalar(query.limit(1))) is not None

    async def in_group(self, company_id: uuid.UUID, group_id: uuid.UUID) -> Sequence[Campaign]:
        query = select(Campaign).where(Campaign.company_id == company_id, Campaign.group_id == group_id)
        return (await self.session.scalars(query.order_by(Campaign.title))).all()

    async def using_server(self, company_id: uuid.UUID, server_id: uuid.UUID) -> Sequence[Campaign]:
        query = select(Campaign).where(Campaign.company_id == company_id, Campaign.email_server_id == server_id)
        return (await self.session.scalars(query.order_by(Campaign.title))).all()

    async def using_template(self, company_id: uuid.UUID, template_id: uuid.UUID) -> Sequence[Campaign]:
        query = select(Campaign).where(
            Campaign.company_id == company_id,
            or_(Campaign.auto_reply_template_id == template_id, Campaign.signature_template_id == template_id),
        )
        return (await self.session.scalars(query.order_by(Campaign.title))).all()

    # Teams
    async def team_ids(self, campaign_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
        teams: dict[uuid.UUID, list[uuid.UUID]] = {campaign_id: [] for campaign_id in campaign_ids}
        if campaign_ids:
            rows = await self.session.execute(
                select(CampaignTeam.campaign_id, CampaignTeam.team_id)
                .where(CampaignTeam.campaign_id.in_(campaign_ids)).order_by(CampaignTeam.team_id)
            )
            for campaign_id, team_id in rows:
                teams[campaign_id].append(team_id)
        return teams

    async def replace_teams(self, campaign_id: uuid.UUID, team_ids: list[uuid.UUID]) -> None:
        await self.session.execute(delete(CampaignTeam).where(CampaignTeam.campaign_id == campaign_id))
        self.session.add_all(CampaignTeam(campaign_id=campaign_id, team_id=t) for t in dict.fromkeys(team_ids))
        await self.session.flush()

    # Members
    async def members(self, campaign_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[CampaignMember]]:
        members: dict[uuid.UUID, list[CampaignMember]] = {campaign_id: [] for campaign_id in campaign_ids}
        if campaign_ids:
            rows = await self.session.scalars(
                select(CampaignMember).where(CampaignMember.campaign_id.in_(campaign_ids))
                .order_by(CampaignMember.position.is_(None), CampaignMember.position, CampaignMember.added_at,
                          CampaignMember.user_id)
            )
            for member in rows:
                members[member.campaign_id].append(member)
        return members

    async def count_members(self, campaign_id: uuid.UUID) -> int:
        query = select(func.count()).where(CampaignMember.campaign_id == campaign_id)
        return await self.session.scalar(query) or 0

    async def remove_members(self, campaign_ids: list[uuid.UUID], user_ids: list[uuid.UUID] | None = None) -> None:
        statement = delete(CampaignMember).where(CampaignMember.campaign_id.in_(campaign_ids))
        if user_ids is not None:
            statement = statement.where(CampaignMember.user_id.in_(user_ids))
        await self.session.execute(statement)
        await self.session.flush()

    async def add_all(self, rows: Iterable[object]) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    # Schedules
    async def windows(self, campaign_id: uuid.UUID) -> Sequence[ScheduleWindow]:
        query = select(ScheduleWindow).where(ScheduleWindow.campaign_id == campaign_id)
        return (await self.session.scalars(query)).all()

    async def window(self, campaign_id: uuid.UUID, window_id: uuid.UUID) -> ScheduleWindow | None:
        query = select(ScheduleWindow).where(ScheduleWindow.id == window_id, ScheduleWindow.campaign_id == campaign_id)
        return await self.session.scalar(query)

    async def special_days(self, campaign_id: uuid.UUID) -> Sequence[ScheduleException]:
        query = select(ScheduleException).where(ScheduleException.campaign_id == campaign_id)
        return (await self.session.scalars(query.order_by(ScheduleException.day, ScheduleException.opens))).all()

    async def special_day(self, campaign_id: uuid.UUID, exception_id: uuid.UUID) -> ScheduleException | None:
        query = select(ScheduleException).where(ScheduleException.id == exception_id,
                                                ScheduleException.campaign_id == campaign_id)
        return await self.session.scalar(query)

    async def clear_schedule(self, campaign_id: uuid.UUID) -> None:
        await self.session.execute(delete(ScheduleWindow).where(ScheduleWindow.campaign_id == campaign_id))
        await self.session.execute(delete(ScheduleException).where(ScheduleException.campaign_id == campaign_id))
        await self.session.flush()
