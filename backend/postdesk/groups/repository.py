"""Every email-groups query, scoped to a company (contacts and attachments through their group)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.groups.models import CampaignEmailGroup, EmailGroup, EmailGroupContact


class GroupRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add[T](self, row: T) -> T:
        self.session.add(row)
        await self.session.flush()
        return row

    async def delete(self, row: object) -> None:
        await self.session.delete(row)
        await self.session.flush()

    async def get(self, company_id: uuid.UUID, group_id: uuid.UUID) -> EmailGroup | None:
        return await self.session.scalar(
            select(EmailGroup).where(EmailGroup.id == group_id, EmailGroup.company_id == company_id))

    async def list(self, company_id: uuid.UUID, *, search: str | None, offset: int,
                   limit: int) -> tuple[Sequence[EmailGroup], int]:
        query = select(EmailGroup).where(EmailGroup.company_id == company_id)
        if search:
            query = query.where(func.lower(EmailGroup.name).contains(search.lower(), autoescape=True))
        total = await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await self.session.scalars(query.order_by(EmailGroup.name, EmailGroup.id).offset(offset).limit(limit))
        return rows.all(), total

    async def name_taken(self, company_id: uuid.UUID, name: str, *, except_id: uuid.UUID | None = None) -> bool:
        query = select(EmailGroup.id).where(EmailGroup.company_id == company_id,
                                            func.lower(EmailGroup.name) == name.lower())
        if except_id:
            query = query.where(EmailGroup.id != except_id)
        return (await self.session.scalar(query.limit(1))) is not None

    async def contacts(self, group_id: uuid.UUID) -> Sequence[EmailGroupContact]:
        query = select(EmailGroupContact).where(EmailGroupContact.group_id == group_id)
        return (await self.session.scalars(query.order_by(EmailGroupContact.email))).all()

    async def contact(self, group_id: uuid.UUID, contact_id: uuid.UUID) -> EmailGroupContact | None:
        return await self.session.scalar(select(EmailGroupContact).where(
            EmailGroupContact.id == contact_id, EmailGroupContact.group_id == group_id))

    async def contact_email_taken(self, group_id: uuid.UUID, email: str) -> bool:
        query = select(EmailGroupContact.id).where(EmailGroupContact.group_id == group_id,
                                                   func.lower(EmailGroupContact.email) == email.lower())
        return (await self.session.scalar(query.limit(1))) is not None

    async def attachments(self, group_id: uuid.UUID) -> Sequence[CampaignEmailGroup]:
        query = select(CampaignEmailGroup).where(CampaignEmailGroup.group_id == group_id)
        return (await self.session.scalars(query)).all()

    async def attachment(self, group_id: uuid.UUID, campaign_id: uuid.UUID) -> CampaignEmailGroup | None:
        return await self.session.get(CampaignEmailGroup, (campaign_id, group_id))

    async def attachments_of_campaign(self, campaign_id: uuid.UUID) -> Sequence[CampaignEmailGroup]:
        query = select(CampaignEmailGroup).where(CampaignEmailGroup.campaign_id == campaign_id)
        return (await self.session.scalars(query)).all()
