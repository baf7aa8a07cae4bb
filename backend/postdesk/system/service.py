from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from postdesk import __version__
from postdesk.accounts.caller import Caller
from postdesk.db import utcnow
from postdesk.errors import NotFound
from postdesk.jobs import enqueue
from postdesk.settings import Settings
from postdesk.system.models import JobCheck
from postdesk.system.repository import SystemRepository
from postdesk.system.schemas import SystemStatus, WorkerStatus
from postdesk.uow import publish

HEARTBEAT_FRESH_FOR = timedelta(minutes=3)


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def status(session: AsyncSession, settings: Settings) -> SystemStatus:
    beats = await SystemRepository(session).heartbeats_since(utcnow() - HEARTBEAT_FRESH_FOR)
    return SystemStatus(
        mode=settings.mode,
        version=__version__,
        database="sqlite" if settings.is_sqlite else "postgresql",
        workers=[WorkerStatus.model_validate(b) for b in beats],
    )


async def request_job_check(session: AsyncSession, caller: Caller) -> JobCheck:
    check = await SystemRepository(session).add_check(JobCheck(company_id=caller.company_id))
    enqueue("system.complete_job_check", check.id, job_id=f"job-check:{check.id}")
    return check


async def get_job_check(session: AsyncSession, caller: Caller, check_id: uuid.UUID) -> JobCheck:
    check = await SystemRepository(session).check(caller.company_id, check_id)
    if check is None:
        raise NotFound("Job check")
    return check


async def complete_job_check(session: AsyncSession, check_id: uuid.UUID, *, engine: str) -> None:
    check = await SystemRepository(session).check_for_job(check_id)
    if check is None:  # deleted meanwhile: nothing to do, and nothing to retry
        return
    check.runs += 1
    if check.completed_at is None:
        check.completed_at, check.engine, check.worker = utcnow(), engine, worker_identity()
    publish("system.job_check.completed", check.company_id, {"id": str(check.id), "engine": engine})


async def record_heartbeat(session: AsyncSession, *, engine: str) -> None:
    await SystemRepository(session).record_heartbeat(worker_identity(), engine, utcnow())
