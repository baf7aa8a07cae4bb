from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Query, Response, UploadFile

from postdesk.accounts.schemas import Page
from postdesk.deps import AdminCaller, RuntimeDep, SessionDep, SupervisorCaller
from postdesk.errors import ERROR_RESPONSES
from postdesk.pagination import PageDep
from postdesk.templates import service
from postdesk.templates.models import TemplateKind
from postdesk.templates.schemas import (
    PreviewRequest,
    TemplateAttachmentPublic,
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


@router.get("/{template_id}/attachments")
async def list_template_attachments(template_id: uuid.UUID, session: SessionDep,
                                    caller: SupervisorCaller) -> list[TemplateAttachmentPublic]:
    return [TemplateAttachmentPublic.model_validate(a)
            for a in await service.list_attachments(session, caller, template_id)]


@router.post("/{template_id}/attachments", status_code=201,
             responses={413: {"description": "File (or the template's total) over the size limit."}})
async def upload_template_attachment(
    template_id: uuid.UUID, file: Annotated[UploadFile, File(description=(
        f"At most {service.MAX_ATTACHMENT_BYTES} bytes; at most {service.MAX_ATTACHMENTS_PER_TEMPLATE} files "
        f"and {service.MAX_TOTAL_ATTACHMENT_BYTES} bytes per template."))],
    session: SessionDep, caller: AdminCaller, runtime: RuntimeDep,
) -> TemplateAttachmentPublic:
    # Read one byte past the limit: enough to know it is too large without holding more.
    data = await file.read(service.MAX_ATTACHMENT_BYTES + 1)
    attachment = await service.add_attachment(session, caller, template_id, filename=file.filename,
                                              content_type=file.content_type, data=data, blobs=runtime.blobs)
    return TemplateAttachmentPublic.model_validate(attachment)


@router.get("/{template_id}/attachments/{attachment_id}",
            responses={200: {"content": {"application/octet-stream": {}}, "description": "The file."}})
async def download_template_attachment(template_id: uuid.UUID, attachment_id: uuid.UUID, session: SessionDep,
                                       caller: SupervisorCaller, runtime: RuntimeDep) -> Response:
    attachment, data = await service.download_attachment(session, caller, template_id, attachment_id,
                                                         blobs=runtime.blobs)
    ascii_name = attachment.filename.encode("ascii", "replace").decode().replace("?", "_")
    return Response(content=data, media_type=attachment.content_type, headers={
        # Always a download, never rendered in our origin (an uploaded .html must not run as our page).
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(attachment.filename)}",
        "Content-Security-Policy": "sandbox",
    })


@router.delete("/{template_id}/attachments/{attachment_id}", status_code=204)
async def delete_template_attachment(template_id: uuid.UUID, attachment_id: uuid.UUID, session: SessionDep,
                                     caller: AdminCaller) -> Response:
    await service.delete_attachment(session, caller, template_id, attachment_id)
    return Response(status_code=204)
