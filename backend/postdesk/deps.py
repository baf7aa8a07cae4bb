"""FastAPI dependencies: the request's unit of work, the caller, and role guards."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.accounts import service as accounts_service
from postdesk.accounts.caller import Caller
from postdesk.accounts.models import Role
from postdesk.errors import Forbidden, Unauthorized
from postdesk.runtime import Runtime
from postdesk.security.tokens import API_KEY_PREFIX
from postdesk.settings import Settings
from postdesk.uow import unit_of_work


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_settings_dep(runtime: RuntimeDep) -> Settings:
    return runtime.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed before the response is sent."""
    async with unit_of_work(runtime) as session:
        yield session


# scope="function": the commit runs before the response is sent (request scope would commit after it,
# so a client could act on a 201 before the row is visible).
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]

_bearer = HTTPBearer(auto_error=False, description="Access token from /api/auth/login, or an API key")
_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key for integrations")


async def get_caller(
    session: SessionDep,
    settings: SettingsDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key_header)],
) -> Caller:
    if api_key:
        return await accounts_service.caller_from_api_key(session, key=api_key)
    if bearer is None:
        raise Unauthorized()
    if bearer.credentials.startswith(API_KEY_PREFIX):
        return await accounts_service.caller_from_api_key(session, key=bearer.credentials)
    return await accounts_service.caller_from_token(session, token=bearer.credentials, settings=settings)


CurrentCaller = Annotated[Caller, Depends(get_caller)]


def require_role(minimum: Role):
    async def guard(caller: CurrentCaller) -> Caller:
        if not caller.role.at_least(minimum):
            raise Forbidden(f"This needs the {minimum.value} role.")
        return caller

    return guard


AgentCaller = Annotated[Caller, Depends(require_role(Role.agent))]
SupervisorCaller = Annotated[Caller, Depends(require_role(Role.supervisor))]
AdminCaller = Annotated[Caller, Depends(require_role(Role.admin))]


async def _platform_admin(caller: AdminCaller) -> Caller:
    if not caller.is_platform_admin:
        raise Forbidden("Only the installation's operators can do this.")
    return caller


PlatformAdmin = Annotated[Caller, Depends(_platform_admin)]


def client_ip(request: Request, settings: Settings) -> str:
    """The peer address; X-Forwarded-For is believed only when the peer is a configured trusted proxy."""
    peer = request.client.host if request.client else "unknown"
    if not settings.trusted_proxies or not _is_trusted(peer, settings.trusted_proxies):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    # Walk from the nearest hop; the first address that is not one of our proxies is the client.
    for hop in reversed(hops):
        if not _is_trusted(hop, settings.trusted_proxies):
            return hop
    return peer


def _is_trusted(address: str, trusted: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in trusted)
