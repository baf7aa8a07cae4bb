"""Channel filters of one email server: /api/email-servers/{server_id}/filters (+ default campaign, test)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from postdesk.deps import AdminCaller, SessionDep, SupervisorCaller
from postdesk.errors import ERROR_RESPONSES
from postdesk.filters import service  # also registers the campaign dependents finder
from postdesk.filters.schemas import (
    ChannelFilterCreate,
    ChannelFilterPublic,
    ChannelFilterUpdate,
    DefaultCampaignIn,
    DefaultCampaignPublic,
    FilterOrder,
    FilterTestRequest,
    FilterTestResult,
)

router = APIRouter(prefix="/api/email-servers/{server_id}", tags=["channel_filters"], responses=ERROR_RESPONSES)


@router.get("/filters")
async def list_channel_filters(server_id: uuid.UUID, session: SessionDep,
                               caller: SupervisorCaller) -> list[ChannelFilterPublic]:
    """The server's filters in evaluation order (first match wins)."""
    return [ChannelFilterPublic.model_validate(f) for f in await service.list_filters(session, caller, server_id)]


@router.post("/filters", status_code=201)
async def create_channel_filter(server_id: uuid.UUID, body: ChannelFilterCreate, session: SessionDep,
                                caller: AdminCaller) -> ChannelFilterPublic:
    return ChannelFilterPublic.model_validate(await service.create_filter(session, caller, server_id, body))


@router.put("/filters/order")
async def reorder_channel_filters(server_id: uuid.UUID, body: FilterOrder, session: SessionDep,
                                  caller: AdminCaller) -> list[ChannelFilterPublic]:
    """Set the evaluation order: list every filter of the server once."""
    rows = await service.reorder(session, caller, server_id, body.filter_ids)
    return [ChannelFilterPublic.model_validate(f) for f in rows]


@router.post("/filters/test")
async def test_channel_filters(server_id: uuid.UUID, body: FilterTestRequest, session: SessionDep,
                               caller: SupervisorCaller) -> FilterTestResult:
    """Which campaign a pasted raw message would be delivered to, and which filter matched. Changes nothing."""
    return await service.test_message(session, caller, server_id, body)


@router.get("/filters/{filter_id}")
async def get_channel_filter(server_id: uuid.UUID, filter_id: uuid.UUID, session: SessionDep,
                             caller: SupervisorCaller) -> ChannelFilterPublic:
    return ChannelFilterPublic.model_validate(await service.get_filter(session, caller, server_id, filter_id))


@router.patch("/filters/{filter_id}")
async def update_channel_filter(server_id: uuid.UUID, filter_id: uuid.UUID, body: ChannelFilterUpdate,
                                session: SessionDep, caller: AdminCaller) -> ChannelFilterPublic:
    return ChannelFilterPublic.model_validate(
        await service.update_filter(session, caller, server_id, filter_id, body))


@router.delete("/filters/{filter_id}", status_code=204)
async def delete_channel_filter(server_id: uuid.UUID, filter_id: uuid.UUID, session: SessionDep,
                                caller: AdminCaller) -> Response:
    await service.delete_filter(session, caller, server_id, filter_id)
    return Response(status_code=204)


@router.get("/default-campaign")
async def get_default_campaign(server_id: uuid.UUID, session: SessionDep,
                               caller: SupervisorCaller) -> DefaultCampaignPublic:
    """The campaign that takes mail no filter matched."""
    return await service.get_default(session, caller, server_id)


@router.put("/default-campaign")
async def set_default_campaign(server_id: uuid.UUID, body: DefaultCampaignIn, session: SessionDep,
                               caller: AdminCaller) -> DefaultCampaignPublic:
    return await service.set_default(session, caller, server_id, body.campaign_id)
