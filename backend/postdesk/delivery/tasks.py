"""Delivery jobs: send one outbound message; a periodic sweep brings back messages whose job was lost."""

from __future__ import annotations

import uuid

from postdesk.delivery import service
from postdesk.jobs.registry import JobContext, job, periodic


# Not transactional: the attempt commits `sending` before talking to the server and records the
# outcome in a second transaction (see delivery.service).
@job(service.SEND_JOB, max_tries=20, timeout_seconds=service.SEND_TIMEOUT_SECONDS, transactional=False)
async def send_message(ctx: JobContext, message_id: str) -> None:
    await service.deliver(ctx.runtime, uuid.UUID(message_id))


@job("delivery.sweep", max_tries=1, timeout_seconds=60)
async def sweep(ctx: JobContext) -> None:
    assert ctx.session is not None
    await service.sweep(ctx.session)


periodic("delivery.sweep", second={15})
