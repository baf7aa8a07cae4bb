"""Every blacklist query, scoped to a company."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.blacklist.models import BlacklistEntry, BlacklistReason, EntryKind


class BlacklistRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_all(self, entries: Iterable[BlacklistEntry]) -> None:
        self.session.add_all(entries)
        await self.session.flush()

    async def delete(self, entry: BlacklistEntry) -> None:
        await self.session.delete(entry)
        await self.session.flush()

    async def get(self, company_id: uuid.UUID, entry_id: uuid.UUID) -> BlacklistEntry | None:
        return await self.session.scalar(
            select(BlacklistEntry).where(BlacklistEntry.id == entry_id, BlacklistEntry.company_id == company_id))

    async def list(
        self, company_id: uuid.UUID, *, kind: EntryKind | None, reason: BlacklistReason | None, search: str | None,
        offset: int, limit: int,
    ) -> tuple[Sequence[BlacklistEntry], int]:
        query = select(BlacklistEntry).where(BlacklistEntry.company_id == company_id)
        if kind is not None:
            query = query.where(BlacklistEntry.kind == kind)
        if reason is not None:
            query = query.where(BlacklistEntry.reason == reason)
        if search:
            query = query.where(BlacklistEntry.value.contains(search.lower(), autoescape=True))
        total = await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await self.session.scalars(query.order_by(BlacklistEntry.value).offset(offset).limit(limit))
        return rows.all(), total

    async def existing_values(self, company_id: uuid.UUID, values: Iterable[str]) -> set[str]:
        values = list(set(values))
        found: set[str] = set()
        for start in range(0, len(values), 500):  # keep IN lists within every backend's parameter limit
            chunk = values[start:start + 500]
            rows = await self.session.scalars(
                select(BlacklistEntry.value).where(BlacklistEntry.company_id == company_id,
                                                   BlacklistEntry.value.in_(chunk)))
            found.update(rows.all())
        return found
