"""Routing jobs: a pass over one campaign (on events) and a periodic sweep over all of them."""

from __future__ import annotations

import uuid

from postdesk.jobs.registry import JobContext, job, periodic
from postdesk.routing import service


@job("routing.route_campaign", max_tries=3, timeout_seconds=60)
async def route_campaign(ctx: JobContext, campaign_id: str) -> None:
    """Assign the campaign's waiting interactions to eligible agents."""
    assert ctx.session is not None
    await service.route_campaign(ctx.session, campaign_id=uuid.UUID(campaign_id))


@job("routing.sweep", max_tries=1, timeout_seconds=60)
async def sweep(ctx: JobContext) -> None:
    assert ctx.session is not None
    await service.sweep(ctx.session)


# Every 30 seconds: schedule openings, agents freed without an event, requests lost to a crash.
periodic("routing.sweep", second={15, 45})
