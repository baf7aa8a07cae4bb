from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.servers.models import EmailServer


class ServerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, server: EmailServer) -> EmailServer:
        self.session.add(server)
        await self.session.flush()
        return server

    async def get(self, company_id: uuid.UUID, server_id: uuid.UUID) -> EmailServer | None:
        query = select(EmailServer).where(EmailServer.id == server_id, EmailServer.company_id == company_id)
        return await self.session.scalar(query)

    async def list(self, company_id: uuid.UUID) -> Sequence[EmailServer]:
        query = select(EmailServer).where(EmailServer.company_id == company_id).order_by(EmailServer.name)
        return (await self.session.scalars(query)).all()

    async def default(self, company_id: uuid.UUID) -> EmailServer | None:
        query = select(EmailServer).where(EmailServer.company_id == company_id, EmailServer.is_default)
        return await self.session.scalar(query)

    async def name_taken(self, company_id: uuid.UUID, name: str, *, except_id: uuid.UUID | None = None) -> bool:
        query = select(EmailServer.id).where(EmailServer.company_id == company_id,
                                             func.lower(EmailServer.name) == name.lower())
        if except_id is not None:
            query = query.where(EmailServer.id != except_id)
        return (await self.session.scalar(query.limit(1))) is not None

    async def clear_default(self, company_id: uuid.UUID, *, except_id: uuid.UUID) -> None:
        await self.session.execute(
            update(EmailServer)
            .where(EmailServer.company_id == company_id, EmailServer.id != except_id, EmailServer.is_default)
            .values(is_default=False)
        )

    async def delete(self, server: EmailServer) -> None:
        await self.session.delete(server)
        await self.session.flush()

    async def all_with_secrets(self) -> Sequence[EmailServer]:
        query = select(EmailServer).where(
            EmailServer.sendgrid_api_token_encrypted.is_not(None)
            | EmailServer.smtp_password_encrypted.is_not(None)
            | EmailServer.incoming_password_encrypted.is_not(None)
        )
        return (await self.session.scalars(query)).all()
