"""Every templates query, scoped to a company."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.templates.models import Template, TemplateAttachment, TemplateKind


class TemplateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, template: Template) -> Template:
        self.session.add(template)
        await self.session.flush()
        return template

    async def delete(self, template: Template) -> None:
        await self.session.delete(template)
        await self.session.flush()

    async def get(self, company_id: uuid.UUID, template_id: uuid.UUID) -> Template | None:
        query = select(Template).where(Template.id == template_id, Template.company_id == company_id)
        return await self.session.scalar(query)

    async def list(
        self, company_id: uuid.UUID, *, kind: TemplateKind | None, campaign_id: uuid.UUID | None, search: str | None,
        offset: int, limit: int,
    ) -> tuple[Sequence[Template], int]:
        query = select(Template).where(Template.company_id == company_id)
        if kind is not None:
            query = query.where(Template.kind == kind)
        if campaign_id is not None:
            # What a campaign's agents can use: its own templates and the shared ones.
            query = query.where(or_(Template.campaign_id == campaign_id, Template.campaign_id.is_(None)))
        if search:
            query = query.where(func.lower(Template.name).contains(search.lower(), autoescape=True))
        total = await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await self.session.scalars(query.order_by(Template.name, Template.id).offset(offset).limit(limit))
        return rows.all(), total

    async def available_to_campaign(self, company_id: uuid.UUID, campaign_id: uuid.UUID) -> Sequence[Template]:
        query = select(Template).where(Template.company_id == company_id,
                                       or_(Template.campaign_id == campaign_id, Template.campaign_id.is_(None)))
        return (await self.session.scalars(query.order_by(Template.name))).all()

    async def name_taken(self, company_id: uuid.UUID, name: str, *, except_id: uuid.UUID | None = None) -> bool:
        query = select(Template.id).where(Template.company_id == company_id, func.lower(Template.name) == name.lower())
        if except_id:
            query = query.where(Template.id != except_id)
        return (await self.session.scalar(query.limit(1))) is not None

    # Attachments
    async def add_attachment(self, attachment: TemplateAttachment) -> TemplateAttachment:
        self.session.add(attachment)
        await self.session.flush()
        return attachment

    async def attachments(self, template_id: uuid.UUID) -> Sequence[TemplateAttachment]:
        query = (select(TemplateAttachment).where(TemplateAttachment.template_id == template_id)
                 .order_by(TemplateAttachment.created_at, TemplateAttachment.id))
        return (await self.session.scalars(query)).all()

    async def attachment(self, template_id: uuid.UUID, attachment_id: uuid.UUID) -> TemplateAttachment | None:
        query = select(TemplateAttachment).where(TemplateAttachment.id == attachment_id,
                                                 TemplateAttachment.template_id == template_id)
        return await self.session.scalar(query)

    async def lock(self, template: Template) -> None:
        """Serialise concurrent uploads to one template, so the count and size limits hold (PostgreSQL)."""
        await self.session.execute(select(Template.id).where(Template.id == template.id).with_for_update())
