from __future__ import annotations

import uuid

from postdesk.jobs import JobContext, job, periodic
from postdesk.system import service


@job("system.complete_job_check", max_tries=3)
async def complete_job_check(ctx: JobContext, check_id: str) -> None:
    assert ctx.session is not None
    await service.complete_job_check(ctx.session, uuid.UUID(check_id), engine=ctx.engine)


@job("system.heartbeat", max_tries=1, timeout_seconds=30)
async def heartbeat(ctx: JobContext) -> None:
    assert ctx.session is not None
    await service.record_heartbeat(ctx.session, engine=ctx.engine)


periodic("system.heartbeat", second={0, 30}, run_at_startup=True)
