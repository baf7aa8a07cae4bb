from __future__ import annotations

import uuid

from fastapi import APIRouter

from postdesk.accounts.schemas import Page
from postdesk.deps import SessionDep, SupervisorCaller
from postdesk.errors import ERROR_RESPONSES
from postdesk.pagination import PageDep
from postdesk.supervision import service
from postdesk.supervision.schemas import AgentsBoard, CampaignsBoard, WaitingCustomer

router = APIRouter(prefix="/api/supervision", tags=["supervision"], responses=ERROR_RESPONSES)


@router.get("/campaigns")
async def list_campaign_stats(session: SessionDep, caller: SupervisorCaller) -> CampaignsBoard:
    """Each campaign's queue, backlog, longest wait, work in progress, closed today, service level today and
    agents logged in.

    Service level today: of the interactions whose wait began since midnight (campaign time zone), the share
    an agent took within the campaign's `service_level_seconds`. Counted: every answered one, and every
    unanswered one whose period is over unless it was closed (dismissed) within its period. Null when
    nothing is counted yet."""
    return await service.campaigns_board(session, caller)


@router.get("/agents")
async def list_agent_states(session: SessionDep, caller: SupervisorCaller) -> AgentsBoard:
    """Each agent's status (disconnected, busy, free, free on break, busy on break), break reason, time of the
    last change, interactions held against capacity, and campaigns."""
    return await service.agents_board(session, caller)


@router.get("/waiting")
async def list_waiting_customers(session: SessionDep, caller: SupervisorCaller, page: PageDep,
                                 campaign_id: uuid.UUID | None = None) -> Page[WaitingCustomer]:
    """Customers waiting for an agent (queue and backlog), longest wait first."""
    rows, total = await service.waiting_customers(session, caller, campaign_id=campaign_id, offset=page.offset,
                                                  limit=page.limit)
    return Page(items=rows, total=total, offset=page.offset, limit=page.limit)
