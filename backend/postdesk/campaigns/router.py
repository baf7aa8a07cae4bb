from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from postdesk.accounts.schemas import Page
from postdesk.campaigns import service  # also registers the email-server dependents finder
from postdesk.campaigns.schemas import (
    CampaignCreate,
    CampaignDetails,
    CampaignGroupCreate,
    CampaignGroupPublic,
    CampaignGroupUpdate,
    CampaignMembers,
    CampaignPublic,
    CampaignUpdate,
    MemberPublic,
    MembershipChange,
    MembersReplace,
    OpenNow,
    ScheduleIn,
    SchedulePublic,
    SpecialDayIn,
    SpecialDayPublic,
    WindowIn,
    WindowPublic,
)
from postdesk.deps import AdminCaller, SessionDep, SupervisorCaller
from postdesk.errors import ERROR_RESPONSES
from postdesk.pagination import PageDep

groups_router = APIRouter(prefix="/api/campaign-groups", tags=["campaign_groups"], responses=ERROR_RESPONSES)
router = APIRouter(prefix="/api/campaigns", tags=["campaigns"], responses=ERROR_RESPONSES)
STILL_USED = {409: {"description": "Still referenced; the body lists what."}}


@groups_router.get("")
async def list_campaign_groups(session: SessionDep, caller: SupervisorCaller) -> list[CampaignGroupPublic]:
    return [CampaignGroupPublic.model_validate(g) for g in await service.list_groups(session, caller)]


@groups_router.post("", status_code=201)
async def create_campaign_group(body: CampaignGroupCreate, session: SessionDep,
                                caller: AdminCaller) -> CampaignGroupPublic:
    return CampaignGroupPublic.model_validate(await service.create_group(session, caller, body))


@groups_router.get("/{group_id}")
async def get_campaign_group(group_id: uuid.UUID, session: SessionDep,
                             caller: SupervisorCaller) -> CampaignGroupPublic:
    return CampaignGroupPublic.model_validate(await service.get_group(session, caller, group_id))


@groups_router.patch("/{group_id}")
async def update_campaign_group(group_id: uuid.UUID, body: CampaignGroupUpdate, session: SessionDep,
                                caller: AdminCaller) -> CampaignGroupPublic:
    return CampaignGroupPublic.model_validate(await service.update_group(session, caller, group_id, body))


@groups_router.delete("/{group_id}", status_code=204, responses=STILL_USED)
async def delete_campaign_group(group_id: uuid.UUID, session: SessionDep, caller: AdminCaller) -> Response:
    await service.delete_group(session, caller, group_id)
    return Response(status_code=204)


@router.get("")
async def list_campaigns(
    session: SessionDep, caller: SupervisorCaller, page: PageDep, group_id: uuid.UUID | None = None,
    enabled: bool | None = None, q: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[CampaignPublic]:
    rows, total = await service.list_campaigns(session, caller, group_id=group_id, enabled=enabled, search=q,
                                               offset=page.offset, limit=page.limit)
    return Page(items=rows, total=total, offset=page.offset, limit=page.limit)


@router.post("", status_code=201)
async def create_campaign(body: CampaignCreate, session: SessionDep, caller: AdminCaller) -> CampaignPublic:
    return await service.create_campaign(session, caller, body)


@router.post("/memberships")
async def change_memberships(body: MembershipChange, session: SessionDep,
                             caller: AdminCaller) -> list[CampaignMembers]:
    """Add and/or remove several agents across several campaigns at once (the Members screen)."""
    return await service.change_memberships(session, caller, body)


@router.get("/{campaign_id}")
async def get_campaign(campaign_id: uuid.UUID, session: SessionDep, caller: SupervisorCaller) -> CampaignPublic:
    return await service.public(session, await service.get_campaign(session, caller, campaign_id))


@router.patch("/{campaign_id}")
async def update_campaign(campaign_id: uuid.UUID, body: CampaignUpdate, session: SessionDep,
                          caller: AdminCaller) -> CampaignPublic:
    return await service.update_campaign(session, caller, campaign_id, body)


@router.delete("/{campaign_id}", status_code=204)
async def delete_campaign(campaign_id: uuid.UUID, session: SessionDep, caller: AdminCaller) -> Response:
    await service.delete_campaign(session, caller, campaign_id)
    return Response(status_code=204)


@router.get("/{campaign_id}/details")
async def get_campaign_details(campaign_id: uuid.UUID, session: SessionDep,
                               caller: SupervisorCaller) -> CampaignDetails:
    """Settings summary plus the templates the campaign's agents can use (name, subject, added on)."""
    return await service.details(session, caller, campaign_id)


@router.get("/{campaign_id}/members")
async def list_campaign_members(campaign_id: uuid.UUID, session: SessionDep,
                                caller: SupervisorCaller) -> list[MemberPublic]:
    return await service.list_members(session, caller, campaign_id)


@router.put("/{campaign_id}/members")
async def replace_campaign_members(campaign_id: uuid.UUID, body: MembersReplace, session: SessionDep,
                                   caller: AdminCaller) -> list[MemberPublic]:
    return await service.replace_members(session, caller, campaign_id, body.members)


@router.get("/{campaign_id}/schedule")
async def get_schedule(campaign_id: uuid.UUID, session: SessionDep, caller: SupervisorCaller) -> SchedulePublic:
    return await service.get_schedule(session, caller, campaign_id)


@router.put("/{campaign_id}/schedule")
async def replace_schedule(campaign_id: uuid.UUID, body: ScheduleIn, session: SessionDep,
                           caller: AdminCaller) -> SchedulePublic:
    return await service.replace_schedule(session, caller, campaign_id, body)


@router.post("/{campaign_id}/schedule/windows", status_code=201)
async def add_schedule_window(campaign_id: uuid.UUID, body: WindowIn, session: SessionDep,
                              caller: AdminCaller) -> WindowPublic:
    return await service.add_window(session, caller, campaign_id, body)


@router.delete("/{campaign_id}/schedule/windows/{window_id}", status_code=204)
async def remove_schedule_window(campaign_id: uuid.UUID, window_id: uuid.UUID, session: SessionDep,
                                 caller: AdminCaller) -> Response:
    await service.remove_window(session, caller, campaign_id, window_id)
    return Response(status_code=204)


@router.post("/{campaign_id}/schedule/exceptions", status_code=201)
async def add_schedule_exception(campaign_id: uuid.UUID, body: SpecialDayIn, session: SessionDep,
                                 caller: AdminCaller) -> SpecialDayPublic:
    return await service.add_special_day(session, caller, campaign_id, body)


@router.delete("/{campaign_id}/schedule/exceptions/{exception_id}", status_code=204)
async def remove_schedule_exception(campaign_id: uuid.UUID, exception_id: uuid.UUID, session: SessionDep,
                                    caller: AdminCaller) -> Response:
    await service.remove_special_day(session, caller, campaign_id, exception_id)
    return Response(status_code=204)


@router.get("/{campaign_id}/open-now")
async def campaign_open_now(campaign_id: uuid.UUID, session: SessionDep, caller: SupervisorCaller) -> OpenNow:
    """Whether the campaign's schedule is open at this moment, and the time in its zone."""
    return await service.open_now(session, caller, campaign_id)


routers = [groups_router, router]
