"""Notification jobs: one send per notification row, and a sweep for rows whose job was lost."""

from __future__ import annotations

import uuid

from postdesk.jobs.registry import JobContext, job, periodic
from postdesk.notifications import service


# Not transactional: the row is claimed and committed before the send, and the outcome after it.
# max_tries leaves room above the service's own attempt counter, which decides when to give up.
@job(service.SEND_JOB, max_tries=service.MAX_ATTEMPTS + 2, timeout_seconds=service.SEND_TIMEOUT_SECONDS,
     transactional=False)
async def send_notification(ctx: JobContext, notification_id: str) -> None:
    await service.deliver(ctx.runtime, uuid.UUID(notification_id))


@job("notifications.sweep", max_tries=1, timeout_seconds=60)
async def sweep(ctx: JobContext) -> None:
    assert ctx.session is not None
    await service.sweep(ctx.session)


periodic("notifications.sweep", second={20})
