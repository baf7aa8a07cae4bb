from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from postdesk.accounts.schemas import Page
from postdesk.deps import AdminCaller, SessionDep, SupervisorCaller
from postdesk.errors import ERROR_RESPONSES
from postdesk.groups import service
from postdesk.groups.schemas import (
    Attachment,
    ContactIn,
    ContactPublic,
    EmailGroupCreate,
    EmailGroupPublic,
    EmailGroupSummary,
    EmailGroupUpdate,
)
from postdesk.pagination import PageDep

router = APIRouter(prefix="/api/email-groups", tags=["email_groups"], responses=ERROR_RESPONSES)


@router.get("")
async def list_email_groups(session: SessionDep, caller: SupervisorCaller, page: PageDep,
                            q: Annotated[str | None, Query(max_length=200)] = None) -> Page[EmailGroupSummary]:
    rows, total = await service.list_groups(session, caller, search=q, offset=page.offset, limit=page.limit)
    return Page(items=[EmailGroupSummary.model_validate(g) for g in rows], total=total, offset=page.offset,
                limit=page.limit)


@router.post("", status_code=201)
async def create_email_group(body: EmailGroupCreate, session: SessionDep, caller: AdminCaller) -> EmailGroupPublic:
    return await service.create_group(session, caller, body)


@router.get("/{group_id}")
async def get_email_group(group_id: uuid.UUID, session: SessionDep, caller: SupervisorCaller) -> EmailGroupPublic:
    return await service.get_group(session, caller, group_id)


@router.patch("/{group_id}")
async def update_email_group(group_id: uuid.UUID, body: EmailGroupUpdate, session: SessionDep,
                             caller: AdminCaller) -> EmailGroupPublic:
    return await service.update_group(session, caller, group_id, body)


@router.delete("/{group_id}", status_code=204, responses={409: {"description": "Still attached to campaigns."}})
async def delete_email_group(group_id: uuid.UUID, session: SessionDep, caller: AdminCaller) -> Response:
    await service.delete_group(session, caller, group_id)
    return Response(status_code=204)


@router.post("/{group_id}/contacts", status_code=201)
async def add_contact(group_id: uuid.UUID, body: ContactIn, session: SessionDep, caller: AdminCaller) -> ContactPublic:
    return await service.add_contact(session, caller, group_id, body)


@router.delete("/{group_id}/contacts/{contact_id}", status_code=204)
async def remove_contact(group_id: uuid.UUID, contact_id: uuid.UUID, session: SessionDep,
                         caller: AdminCaller) -> Response:
    await service.remove_contact(session, caller, group_id, contact_id)
    return Response(status_code=204)


@router.put("/{group_id}/campaigns/{campaign_id}")
async def attach_to_campaign(group_id: uuid.UUID, campaign_id: uuid.UUID, body: Attachment, session: SessionDep,
                             caller: AdminCaller) -> EmailGroupPublic:
    """Notify this group of the listed events of the campaign (replaces the events if already attached)."""
    return await service.attach(session, caller, group_id, campaign_id, body.events)


@router.delete("/{group_id}/campaigns/{campaign_id}", status_code=204)
async def detach_from_campaign(group_id: uuid.UUID, campaign_id: uuid.UUID, session: SessionDep,
                               caller: AdminCaller) -> Response:
    await service.detach(session, caller, group_id, campaign_id)
    return Response(status_code=204)
