from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Response

from postdesk.accounts.schemas import Page
from postdesk.deps import AgentCaller, RuntimeDep, SessionDep
from postdesk.errors import ERROR_RESPONSES
from postdesk.interactions import message_html as message_html_service
from postdesk.interactions import service
from postdesk.interactions.models import InteractionState
from postdesk.interactions.schemas import (
    CloseIn,
    Conversation,
    DraftIn,
    DraftPublic,
    ForwardIn,
    InteractionSummary,
    MessageHtml,
    MoveIn,
    NewInteractionIn,
    ReplyIn,
    SentPublic,
    Tray,
    VersionIn,
)
from postdesk.pagination import PageDep

router = APIRouter(prefix="/api/interactions", tags=["interactions"], responses=ERROR_RESPONSES)
tray_router = APIRouter(prefix="/api/agents", tags=["agents"], responses=ERROR_RESPONSES)


@tray_router.get("/me/tray")
async def my_tray(session: SessionDep, caller: AgentCaller) -> Tray:
    """Interactions assigned to me (unread state, waiting time) and those offered to me under ringall."""
    return await service.tray(session, caller)


@router.get("")
async def search_interactions(
    session: SessionDep,
    caller: AgentCaller,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=200, description="Campaign name, client email (partial), subject, "
                                                               "client name or reference.")] = None,
    campaign: Annotated[uuid.UUID | None, Query(description="Campaign id.")] = None,
    state: InteractionState | None = None,
    agent: Annotated[uuid.UUID | None, Query(description="Agent id.")] = None,
    customer_email: Annotated[str | None, Query(max_length=320)] = None,
) -> Page[InteractionSummary]:
    """Interactions the caller may see: an agent's campaigns and tray; the whole company for supervisors."""
    rows, total = await service.search(session, caller, q=q, campaign_id=campaign, state=state, agent_id=agent,
                                       customer_email=customer_email, offset=page.offset, limit=page.limit)
    return Page(items=rows, total=total, offset=page.offset, limit=page.limit)


@router.post("", status_code=201)
async def start_interaction(body: NewInteractionIn, session: SessionDep, caller: AgentCaller,
                            runtime: RuntimeDep) -> SentPublic:
    """A new outbound email interaction from a campaign the agent belongs to."""
    return await service.start_interaction(session, caller, body, settings=runtime.settings)


@router.get("/{interaction_id}")
async def get_conversation(interaction_id: uuid.UUID, session: SessionDep, caller: AgentCaller) -> Conversation:
    """The conversation (all messages, both directions, attachments) and the client's information; marks it read."""
    return await service.conversation(session, caller, interaction_id)


@router.get("/{interaction_id}/messages/{message_id}/html")
async def message_html(
    interaction_id: uuid.UUID,
    message_id: uuid.UUID,
    session: SessionDep,
    caller: AgentCaller,
    runtime: RuntimeDep,
    remote_images: Annotated[bool, Query(description="Keep the message's remote images (https only); "
                                                     "they are blocked by default.")] = False,
) -> MessageHtml:
    """A message's sanitised HTML, with its remote images only when the agent asked to see them."""
    return await message_html_service.message_html(session, caller, interaction_id, message_id,
                                                   remote_images=remote_images, blobs=runtime.blobs)


@router.get("/{interaction_id}/attachments/{attachment_id}", response_class=Response,
            responses={200: {"content": {"application/octet-stream": {}}}})
async def download_attachment(interaction_id: uuid.UUID, attachment_id: uuid.UUID, session: SessionDep,
                              caller: AgentCaller, runtime: RuntimeDep) -> Response:
    file = await service.download(session, caller, interaction_id, attachment_id, blobs=runtime.blobs)
    ascii_name = file.filename.encode("ascii", "replace").decode().replace('"', "'").replace("\\", "_")
    return Response(content=file.data, media_type=file.content_type, headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file.filename)}",
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Cache-Control": "private, no-store",
    })


@router.post("/{interaction_id}/accept")
async def accept_interaction(interaction_id: uuid.UUID, session: SessionDep, caller: AgentCaller) -> InteractionSummary:
    """Ringall: take an interaction offered to me; 409 when another agent accepted it first."""
    return await service.accept(session, caller, interaction_id)


@router.post("/{interaction_id}/reply", status_code=201)
async def reply(interaction_id: uuid.UUID, body: ReplyIn, session: SessionDep, caller: AgentCaller,
                runtime: RuntimeDep) -> SentPublic:
    """Reply to the customer (threaded under their last message), optionally quoting the history."""
    return await service.reply(session, caller, interaction_id, body, settings=runtime.settings)


@router.post("/{interaction_id}/forward", status_code=201)
async def forward(interaction_id: uuid.UUID, body: ForwardIn, session: SessionDep, caller: AgentCaller,
                  runtime: RuntimeDep) -> SentPublic:
    """Forward a message, with its attachments, to any number of addresses."""
    return await service.forward(session, caller, interaction_id, body, settings=runtime.settings)


@router.get("/{interaction_id}/drafts")
async def list_drafts(interaction_id: uuid.UUID, session: SessionDep, caller: AgentCaller) -> list[DraftPublic]:
    return await service.list_drafts(session, caller, interaction_id)


@router.post("/{interaction_id}/drafts", status_code=201)
async def save_draft(interaction_id: uuid.UUID, body: DraftIn, session: SessionDep,
                     caller: AgentCaller) -> DraftPublic:
    return await service.save_draft(session, caller, interaction_id, body)


@router.put("/{interaction_id}/drafts/{draft_id}")
async def update_draft(interaction_id: uuid.UUID, draft_id: uuid.UUID, body: DraftIn, session: SessionDep,
                       caller: AgentCaller) -> DraftPublic:
    return await service.update_draft(session, caller, interaction_id, draft_id, body)


@router.delete("/{interaction_id}/drafts/{draft_id}", status_code=204)
async def delete_draft(interaction_id: uuid.UUID, draft_id: uuid.UUID, session: SessionDep,
                       caller: AgentCaller) -> Response:
    await service.delete_draft(session, caller, interaction_id, draft_id)
    return Response(status_code=204)


@router.post("/{interaction_id}/put-back")
async def put_back(interaction_id: uuid.UUID, body: VersionIn, session: SessionDep,
                   caller: AgentCaller) -> InteractionSummary:
    return await service.put_back(session, caller, interaction_id, body)


@router.post("/{interaction_id}/move")
async def move(interaction_id: uuid.UUID, body: MoveIn, session: SessionDep, caller: AgentCaller) -> InteractionSummary:
    return await service.move(session, caller, interaction_id, body)


@router.post("/{interaction_id}/close")
async def close(interaction_id: uuid.UUID, body: CloseIn, session: SessionDep,
                caller: AgentCaller) -> InteractionSummary:
    return await service.close(session, caller, interaction_id, body)


routers = [tray_router, router]
