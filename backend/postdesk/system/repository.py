from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.system.models import JobCheck, WorkerHeartbeat


class SystemRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_check(self, check: JobCheck) -> JobCheck:
        self.session.add(check)
        await self.session.flush()
        return check

    async def check(self, company_id: uuid.UUID, check_id: uuid.UUID) -> JobCheck | None:
        query = select(JobCheck).where(JobCheck.id == check_id, JobCheck.company_id == company_id)
        return await self.session.scalar(query)

    async def check_for_job(self, check_id: uuid.UUID) -> JobCheck | None:
        return await self.session.get(JobCheck, check_id)

    async def record_heartbeat(self, worker: str, engine: str, at: datetime) -> None:
        row = await self.session.get(WorkerHeartbeat, worker)
        if row is None:
            self.session.add(WorkerHeartbeat(worker=worker, engine=engine, last_seen_at=at))
        else:
            row.engine, row.last_seen_at = engine, at
        await self.session.flush()

    async def heartbeats_since(self, since: datetime) -> Sequence[WorkerHeartbeat]:
        query = select(WorkerHeartbeat).where(WorkerHeartbeat.last_seen_at >= since).order_by(WorkerHeartbeat.worker)
        return (await self.session.scalars(query)).all()
