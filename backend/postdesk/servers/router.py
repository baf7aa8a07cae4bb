from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from postdesk.deps import AdminCaller, RuntimeDep, SessionDep
from postdesk.errors import ERROR_RESPONSES
from postdesk.runtime import Runtime
from postdesk.servers import service
from postdesk.servers.schemas import (
    ConnectionTestResult,
    EmailServerCreate,
    EmailServerFields,
    EmailServerPublic,
    EmailServerUpdate,
)

router = APIRouter(prefix="/api/email-servers", tags=["email_servers"], responses=ERROR_RESPONSES)

def mail_network(runtime: Runtime) -> service.MailNetwork:
    return service.MailNetwork(guard=runtime.network_guard, tls_context=runtime.mail_tls_context,
                               sendgrid_api_url=runtime.settings.sendgrid_api_url,
                               timeout=runtime.settings.mail_timeout_seconds)


Verify = Annotated[bool, Query(description="Test the credentials first and refuse to save when a leg fails.")]


@router.get("")
async def list_servers(session: SessionDep, caller: AdminCaller) -> list[EmailServerPublic]:
    return [service.public(s) for s in await service.list_servers(session, caller)]


@router.post("", status_code=201)
async def create_server(
    body: EmailServerCreate, session: SessionDep, caller: AdminCaller, runtime: RuntimeDep, verify: Verify = False
) -> EmailServerPublic:
    server = await service.create_server(session, caller, body, box=runtime.secret_box, network=mail_network(runtime),
                                         verify=verify)
    return service.public(server)


@router.post("/test")
async def test_unsaved_server(body: EmailServerFields, runtime: RuntimeDep, _: AdminCaller) -> ConnectionTestResult:
    """Test a configuration before saving it (secrets in the body are used once, never stored)."""
    return await service.test_unsaved_config(body, network=mail_network(runtime))


@router.get("/{server_id}")
async def get_server(server_id: uuid.UUID, session: SessionDep, caller: AdminCaller) -> EmailServerPublic:
    return service.public(await service.get_server(session, caller, server_id))


@router.patch("/{server_id}")
async def update_server(
    server_id: uuid.UUID, body: EmailServerUpdate, session: SessionDep, caller: AdminCaller, runtime: RuntimeDep,
    verify: Verify = False,
) -> EmailServerPublic:
    server = await service.update_server(session, caller, server_id, body, box=runtime.secret_box,
                                         network=mail_network(runtime), verify=verify)
    return service.public(server)


@router.delete("/{server_id}", status_code=204, responses={409: {"description": "Still used; the body lists what."}})
async def delete_server(server_id: uuid.UUID, session: SessionDep, caller: AdminCaller) -> Response:
    await service.delete_server(session, caller, server_id)
    return Response(status_code=204)


@router.post("/{server_id}/test")
async def test_server(server_id: uuid.UUID, session: SessionDep, caller: AdminCaller,
                      runtime: RuntimeDep) -> ConnectionTestResult:
    """Check each leg (outgoing, incoming) and store the result as the server's status."""
    return await service.test_saved_server(session, caller, server_id, box=runtime.secret_box,
                                           network=mail_network(runtime))
