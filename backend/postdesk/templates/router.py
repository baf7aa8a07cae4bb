from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from postdesk.accounts.schemas import Page
from postdesk.deps import AdminCaller, SessionDep, SupervisorCaller
from postdesk.errors import ERROR_RESPONSES
from postdesk.pagination import PageDep
from postdesk.templates import service
from postdesk.templates.models import TemplateKind
from postdesk.templates.schemas import (
    PreviewRequest,
    TemplateCreate,
    TemplatePreview,
    TemplatePublic,
    TemplateUpdate,
)

router = APIRouter(prefix="/api/templates", tags=["templates"], responses=ERROR_RESPONSES)


@router.get("")
async def list_templates(
    session: SessionDep, caller: SupervisorCaller, page: PageDep, kind: TemplateKind | None = None,
    campaign_id: Annotated[uuid.UUID | None, Query(description="Templates this campaign can use.")] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[TemplatePublic]:
    rows, total = await service.list_templates(session, caller, kind=kind, campaign_id=campaign_id, search=q,
                                               offset=page.offset, limit=page.limit)
    return Page(items=[service.public(t) for t in rows], total=total, offset=page.offset, limit=page.limit)


@router.post("", status_code=201)
async def create_template(body: TemplateCreate, session: SessionDep, caller: AdminCaller) -> TemplatePublic:
    return service.public(await service.create_template(session, caller, body))


@router.get("/{template_id}")
async def get_template(template_id: uuid.UUID, session: SessionDep, caller: SupervisorCaller) -> TemplatePublic:
    return service.public(await service.get_template(session, caller, template_id))


@router.patch("/{template_id}")
async def update_template(template_id: uuid.UUID, body: TemplateUpdate, session: SessionDep,
                          caller: AdminCaller) -> TemplatePublic:
    return service.public(await service.update_template(session, caller, template_id, body))


@router.delete("/{template_id}", status_code=204, responses={409: {"description": "Still used by campaigns."}})
async def delete_template(template_id: uuid.UUID, session: SessionDep, caller: AdminCaller) -> Response:
    await service.delete_template(session, caller, template_id)
    return Response(status_code=204)


@router.post("/{template_id}/preview")
async def preview_template(template_id: uuid.UUID, body: PreviewRequest, session: SessionDep,
                           caller: SupervisorCaller) -> TemplatePreview:
    """Render with the given variables (HTML-escaped in the HTML body) and list the variables used."""
    return await service.preview(session, caller, template_id, body.variables)
