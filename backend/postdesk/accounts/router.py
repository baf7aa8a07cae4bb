from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from postdesk.accounts import service
from postdesk.accounts.models import Role
from postdesk.accounts.schemas import (
    AccessToken,
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    CompanyCreate,
    CompanyPublic,
    CompanyUpdate,
    LoginRequest,
    Me,
    Page,
    TeamCreate,
    TeamPublic,
    TeamUpdate,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from postdesk.deps import (
    AdminCaller,
    AgentCaller,
    PlatformAdmin,
    RuntimeDep,
    SessionDep,
    SupervisorCaller,
    client_ip,
)
from postdesk.errors import ERROR_RESPONSES
from postdesk.pagination import PageDep

auth_router = APIRouter(prefix="/api/auth", tags=["auth"], responses=ERROR_RESPONSES)
users_router = APIRouter(prefix="/api/users", tags=["users"], responses=ERROR_RESPONSES)
teams_router = APIRouter(prefix="/api/teams", tags=["teams"], responses=ERROR_RESPONSES)
companies_router = APIRouter(prefix="/api/companies", tags=["companies"], responses=ERROR_RESPONSES)
api_keys_router = APIRouter(prefix="/api/api-keys", tags=["api_keys"], responses=ERROR_RESPONSES)


@auth_router.post("/login")
async def login(body: LoginRequest, request: Request, session: SessionDep, runtime: RuntimeDep) -> AccessToken:
    """Exchange email and password for an access token."""
    return await service.login(
        session,
        email=body.email,
        password=body.password,
        client_ip=client_ip(request, runtime.settings),
        settings=runtime.settings,
        counters=runtime.counters,
    )


@auth_router.get("/me")
async def me(session: SessionDep, caller: AgentCaller) -> Me:
    return await service.me(session, caller)


@users_router.get("")
async def list_users(
    session: SessionDep,
    caller: SupervisorCaller,
    page: PageDep,
    role: Role | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[UserPublic]:
    rows, total = await service.list_users(session, caller, role=role, search=q, offset=page.offset, limit=page.limit)
    return Page(items=[UserPublic.model_validate(r) for r in rows], total=total, offset=page.offset, limit=page.limit)


@users_router.post("", status_code=201)
async def create_user(body: UserCreate, session: SessionDep, caller: AdminCaller) -> UserPublic:
    return UserPublic.model_validate(await service.create_user(session, caller, body))


@users_router.get("/{user_id}")
async def get_user(user_id: uuid.UUID, session: SessionDep, caller: SupervisorCaller) -> UserPublic:
    return UserPublic.model_validate(await service.get_user(session, caller, user_id))


@users_router.patch("/{user_id}")
async def update_user(user_id: uuid.UUID, body: UserUpdate, session: SessionDep, caller: AdminCaller) -> UserPublic:
    return UserPublic.model_validate(await service.update_user(session, caller, user_id, body))


@users_router.delete("/{user_id}", status_code=204)
async def delete_user(user_id: uuid.UUID, session: SessionDep, caller: AdminCaller) -> Response:
    await service.delete_user(session, caller, user_id)
    return Response(status_code=204)


@teams_router.get("")
async def list_teams(session: SessionDep, caller: SupervisorCaller) -> list[TeamPublic]:
    return await service.list_teams(session, caller)


@teams_router.post("", status_code=201)
async def create_team(body: TeamCreate, session: SessionDep, caller: AdminCaller) -> TeamPublic:
    return await service.create_team(session, caller, body)


@teams_router.get("/{team_id}")
async def get_team(team_id: uuid.UUID, session: SessionDep, caller: SupervisorCaller) -> TeamPublic:
    return await service.get_team(session, caller, team_id)


@teams_router.patch("/{team_id}")
async def update_team(team_id: uuid.UUID, body: TeamUpdate, session: SessionDep, caller: AdminCaller) -> TeamPublic:
    return await service.update_team(session, caller, team_id, body)


@teams_router.delete("/{team_id}", status_code=204)
async def delete_team(team_id: uuid.UUID, session: SessionDep, caller: AdminCaller) -> Response:
    await service.delete_team(session, caller, team_id)
    return Response(status_code=204)


@companies_router.get("/current")
async def get_current_company(session: SessionDep, caller: AgentCaller) -> CompanyPublic:
    return CompanyPublic.model_validate(await service.current_company(session, caller))


@companies_router.patch("/current")
async def update_current_company(body: CompanyUpdate, session: SessionDep, caller: AdminCaller) -> CompanyPublic:
    return CompanyPublic.model_validate(await service.rename_company(session, caller, body.name))


@companies_router.get("")
async def list_companies(session: SessionDep, _: PlatformAdmin) -> list[CompanyPublic]:
    return [CompanyPublic.model_validate(c) for c in await service.list_companies(session)]


@companies_router.post("", status_code=201)
async def create_company(body: CompanyCreate, session: SessionDep, _: PlatformAdmin) -> CompanyPublic:
    return CompanyPublic.model_validate(await service.create_company(session, body))


@api_keys_router.get("")
async def list_api_keys(session: SessionDep, caller: AdminCaller) -> list[ApiKeyPublic]:
    return [ApiKeyPublic.model_validate(k) for k in await service.list_api_keys(session, caller)]


@api_keys_router.post("", status_code=201)
async def create_api_key(body: ApiKeyCreate, session: SessionDep, caller: AdminCaller) -> ApiKeyCreated:
    return await service.create_api_key(session, caller, body)


@api_keys_router.delete("/{key_id}")
async def revoke_api_key(key_id: uuid.UUID, session: SessionDep, caller: AdminCaller) -> ApiKeyPublic:
    return ApiKeyPublic.model_validate(await service.revoke_api_key(session, caller, key_id))


routers = [auth_router, users_router, teams_router, companies_router, api_keys_router]
