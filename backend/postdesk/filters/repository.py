"""Every channel-filter query, scoped to a company."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.filters.models import ChannelDefault, ChannelFilter


class FilterRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add[T](self, row: T) -> T:
        self.session.add(row)
        await self.session.flush()
        return row

    async def delete(self, row: object) -> None:
        await self.session.delete(row)
        await self.session.flush()

    async def filters(self, company_id: uuid.UUID, server_id: uuid.UUID) -> Sequence[ChannelFilter]:
        query = (select(ChannelFilter)
                 .where(ChannelFilter.company_id == company_id, ChannelFilter.email_server_id == server_id)
                 .order_by(ChannelFilter.position, ChannelFilter.created_at, ChannelFilter.id))
        return (await self.session.scalars(query)).all()

    async def get(self, company_id: uuid.UUID, server_id: uuid.UUID, filter_id: uuid.UUID) -> ChannelFilter | None:
        query = select(ChannelFilter).where(ChannelFilter.id == filter_id, ChannelFilter.company_id == company_id,
                                            ChannelFilter.email_server_id == server_id)
        return await self.session.scalar(query)

    async def next_position(self, company_id: uuid.UUID, server_id: uuid.UUID) -> int:
        query = select(func.max(ChannelFilter.position)).where(ChannelFilter.company_id == company_id,
                                                               ChannelFilter.email_server_id == server_id)
        current = await self.session.scalar(query)
        return 0 if current is None else current + 1

    async def default(self, company_id: uuid.UUID, server_id: uuid.UUID) -> ChannelDefault | None:
        query = select(ChannelDefault).where(ChannelDefault.company_id == company_id,
                                             ChannelDefault.email_server_id == server_id)
        return await self.session.scalar(query)

    async def routing_to_campaign(
        self, company_id: uuid.UUID, campaign_id: uuid.UUID,
    ) -> tuple[Sequence[ChannelFilter], Sequence[ChannelDefault]]:
        filters = await self.session.scalars(
            select(ChannelFilter).where(ChannelFilter.company_id == company_id,
                                        ChannelFilter.campaign_id == campaign_id)
            .order_by(ChannelFilter.name))
        defaults = await self.session.scalars(
            select(ChannelDefault).where(ChannelDefault.company_id == company_id,
                                         ChannelDefault.campaign_id == campaign_id))
        return filters.all(), defaults.all()

    async def name_taken(self, company_id: uuid.UUID, server_id: uuid.UUID, name: str, *,
                         except_id: uuid.UUID | None = None) -> bool:
        query = select(ChannelFilter.id).where(ChannelFilter.company_id == company_id,
                                               ChannelFilter.email_server_id == server_id,
                                               func.lower(ChannelFilter.name) == name.lower())
        if except_id:
            query = query.where(ChannelFilter.id != except_id)
        return (await self.session.scalar(query.limit(1))) is not None
