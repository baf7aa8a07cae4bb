from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from postdesk.accounts.schemas import Page
from postdesk.blacklist import service
from postdesk.blacklist.models import BlacklistReason, EntryKind
from postdesk.blacklist.schemas import (
    BlacklistCheck,
    BlacklistEntryCreate,
    BlacklistEntryPublic,
    BlacklistImport,
    ImportResult,
)
from postdesk.deps import AdminCaller, SessionDep, SupervisorCaller
from postdesk.errors import ERROR_RESPONSES
from postdesk.pagination import PageDep

router = APIRouter(prefix="/api/blacklist", tags=["blacklist"], responses=ERROR_RESPONSES)


@router.get("")
async def list_blacklist(
    session: SessionDep, caller: SupervisorCaller, page: PageDep, kind: EntryKind | None = None,
    reason: BlacklistReason | None = None, q: Annotated[str | None, Query(max_length=320)] = None,
) -> Page[BlacklistEntryPublic]:
    rows, total = await service.list_entries(session, caller, kind=kind, reason=reason, search=q, offset=page.offset,
                                             limit=page.limit)
    return Page(items=[BlacklistEntryPublic.model_validate(r) for r in rows], total=total, offset=page.offset,
                limit=page.limit)


@router.post("", status_code=201)
async def add_blacklist_entry(body: BlacklistEntryCreate, session: SessionDep,
                              caller: AdminCaller) -> BlacklistEntryPublic:
    return BlacklistEntryPublic.model_validate(await service.add_entry(session, caller, body))


@router.post("/import")
async def import_blacklist(body: BlacklistImport, session: SessionDep, caller: AdminCaller) -> ImportResult:
    """Add many entries from JSON rows or CSV text; invalid rows are reported, the others added."""
    return await service.import_entries(session, caller, body)


@router.get("/check")
async def check_address(session: SessionDep, caller: SupervisorCaller,
                        address: Annotated[str, Query(min_length=3, max_length=320)]) -> BlacklistCheck:
    return BlacklistCheck(address=address,
                          blacklisted=await service.is_blacklisted(session, caller.company_id, address))


@router.delete("/{entry_id}", status_code=204)
async def remove_blacklist_entry(entry_id: uuid.UUID, session: SessionDep, caller: AdminCaller) -> Response:
    await service.remove_entry(session, caller, entry_id)
    return Response(status_code=204)
