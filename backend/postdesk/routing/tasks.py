"""Routing jobs. PLACEHOLDER owned by the routing work: the real router replaces this body."""

from __future__ import annotations

from postdesk.jobs.registry import JobContext, job


@job("routing.route_campaign")
async def route_campaign(ctx: JobContext, campaign_id: str) -> None:
    """Assign the campaign's waiting interactions to eligible agents."""
