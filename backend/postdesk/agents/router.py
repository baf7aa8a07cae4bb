from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from postdesk.agents import service
from postdesk.agents.schemas import (
    AgentPresenceRow,
    BreakReasonCreate,
    BreakReasonPublic,
    BreakReasonUpdate,
    PresencePublic,
    PresenceUpdate,
    WorkspaceCampaign,
)
from postdesk.deps import AdminCaller, AgentCaller, SessionDep, SupervisorCaller
from postdesk.errors import ERROR_RESPONSES

router = APIRouter(prefix="/api/agents", tags=["agents"], responses=ERROR_RESPONSES)


@router.get("/me/presence")
async def get_my_presence(session: SessionDep, caller: AgentCaller) -> PresencePublic:
    return await service.my_presence(session, caller)


@router.put("/me/presence")
async def set_my_presence(body: PresenceUpdate, session: SessionDep, caller: AgentCaller) -> PresencePublic:
    """Change state: offline, available, busy, or break with a reason from the company's list."""
    return await service.set_presence(session, caller, body)


@router.post("/me/workspace")
async def enter_workspace(session: SessionDep, caller: AgentCaller) -> PresencePublic:
    """Log in to the workspace: the agent becomes available."""
    return await service.enter_workspace(session, caller)


@router.delete("/me/workspace")
async def leave_workspace(session: SessionDep, caller: AgentCaller) -> PresencePublic:
    """Log out of the workspace: the agent goes offline."""
    return await service.leave_workspace(session, caller)


@router.get("/me/campaigns")
async def list_my_campaigns(session: SessionDep, caller: AgentCaller) -> list[WorkspaceCampaign]:
    """The campaigns the caller works (supervisors and admins: all), with their composer rules, reply templates
    and rendered signature, which the send appends by itself."""
    return await service.my_campaigns(session, caller)


@router.get("/presence")
async def list_agent_presence(session: SessionDep, caller: SupervisorCaller) -> list[AgentPresenceRow]:
    """Every agent and supervisor with their state and the time since their last change."""
    return await service.list_presence(session, caller)


@router.get("/break-reasons")
async def list_break_reasons(session: SessionDep, caller: AgentCaller) -> list[BreakReasonPublic]:
    return [BreakReasonPublic.model_validate(r) for r in await service.list_reasons(session, caller)]


@router.post("/break-reasons", status_code=201)
async def create_break_reason(body: BreakReasonCreate, session: SessionDep, caller: AdminCaller) -> BreakReasonPublic:
    return BreakReasonPublic.model_validate(await service.create_reason(session, caller, body))


@router.patch("/break-reasons/{reason_id}")
async def update_break_reason(reason_id: uuid.UUID, body: BreakReasonUpdate, session: SessionDep,
                              caller: AdminCaller) -> BreakReasonPublic:
    return BreakReasonPublic.model_validate(await service.update_reason(session, caller, reason_id, body))


@router.delete("/break-reasons/{reason_id}", status_code=204)
async def delete_break_reason(reason_id: uuid.UUID, session: SessionDep, caller: AdminCaller) -> Response:
    await service.delete_reason(session, caller, reason_id)
    return Response(status_code=204)
