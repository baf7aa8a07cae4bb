"""Every auto-reply query, each scoped to a company."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.autoreplies.models import AutoReplyLog
from postdesk.servers.models import EmailServer
from postdesk.templates.models import Template


class AutoReplyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def template(self, company_id: uuid.UUID, template_id: uuid.UUID) -> Template | None:
        # Read here: templates.service loads templates for API callers, and the pipeline has none.
        query = select(Template).where(Template.id == template_id, Template.company_id == company_id)
        return await self.session.scalar(query)

    async def own_addresses(self, company_id: uuid.UUID) -> set[str]:
        """Every address the company sends from or asks replies to (lower-cased)."""
        rows = (await self.session.execute(
            select(EmailServer.sender_email, EmailServer.reply_to).where(EmailServer.company_id == company_id)
        )).all()
        return {address.strip().lower() for row in rows for address in row if address}

    async def lock_sender(self, company_id: uuid.UUID, sender: str) -> None:
        """Serialise auto-replies to one sender until commit, so concurrent workers count each other's."""
        if self.session.get_bind().dialect.name != "postgresql":
            return  # SQLite has one writer at a time already
        digest = hashlib.sha256(f"auto-reply:{company_id}:{sender}".encode()).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        await self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

    async def sent_since(self, company_id: uuid.UUID, sender: str, since: datetime) -> int:
        query = select(func.count()).select_from(AutoReplyLog).where(
            AutoReplyLog.company_id == company_id, AutoReplyLog.sender == sender, AutoReplyLog.created_at >= since)
        return int(await self.session.scalar(query) or 0)

    async def add(self, entry: AutoReplyLog) -> AutoReplyLog:
        self.session.add(entry)
        await self.session.flush()
        return entry

    async def remove(self, rows: Sequence[object]) -> None:
        for row in rows:
            await self.session.delete(row)
        await self.session.flush()

