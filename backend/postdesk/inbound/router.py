from __future__ import annotations

import uuid

from fastapi import APIRouter

from postdesk.accounts.schemas import Page
from postdesk.deps import AdminCaller, RuntimeDep, SessionDep, SupervisorCaller
from postdesk.errors import ERROR_RESPONSES
from postdesk.inbound import service
from postdesk.inbound.schemas import MailboxPublic, MailboxSyncUpdate, QuarantinedMailPublic, ReprocessResult
from postdesk.pagination import PageDep

router = APIRouter(prefix="/api/inbound", tags=["inbound"], responses=ERROR_RESPONSES)


@router.get("/mailboxes")
async def list_mailboxes(session: SessionDep, caller: SupervisorCaller) -> list[MailboxPublic]:
    """Each fetched mailbox's health (ok / error with the last error) and sync position."""
    return [MailboxPublic.model_validate(m) for m in await service.list_mailboxes(session, caller)]


@router.put("/mailboxes/{server_id}")
async def update_mailbox_sync(server_id: uuid.UUID, body: MailboxSyncUpdate, session: SessionDep,
                              caller: AdminCaller) -> MailboxPublic:
    """Before the first sync: take everything, or only mail received since a day."""
    return MailboxPublic.model_validate(await service.set_sync_since(session, caller, server_id, body.sync_since))


@router.get("/quarantine")
async def list_quarantine(session: SessionDep, caller: SupervisorCaller, page: PageDep) -> Page[QuarantinedMailPublic]:
    """Messages that failed to parse or store several times, with their error; the originals are kept."""
    rows, total = await service.list_quarantine(session, caller, offset=page.offset, limit=page.limit)
    return Page(items=[QuarantinedMailPublic.model_validate(r) for r in rows], total=total, offset=page.offset,
                limit=page.limit)


@router.post("/quarantine/{mail_id}/reprocess")
async def reprocess_quarantined(mail_id: uuid.UUID, session: SessionDep, caller: SupervisorCaller,
                                runtime: RuntimeDep) -> ReprocessResult:
    """Ingest a quarantined message again (headers and the original attached if it still cannot be parsed)."""
    return ReprocessResult.model_validate(await service.reprocess(session, caller, mail_id, blobs=runtime.blobs,
                                                                  preparer=runtime.mail_preparer))
