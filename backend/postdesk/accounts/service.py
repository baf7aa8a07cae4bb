"""Business rules for sign-in, users, teams, companies and API keys."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.accounts.caller import Caller
from postdesk.accounts.models import ApiKey, Company, Role, Team, User
from postdesk.accounts.repository import AccountsRepository
from postdesk.accounts.schemas import (
    AccessToken,
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    CompanyCreate,
    Me,
    TeamCreate,
    TeamPublic,
    TeamUpdate,
    UserCreate,
    UserUpdate,
)
from postdesk.db import utcnow
from postdesk.errors import Conflict, Invalid, NotFound, TooManyRequests, Unauthorized
from postdesk.observability import LOGIN_ATTEMPTS
from postdesk.security import passwords, tokens
from postdesk.security.throttle import MemoryCounter, RedisCounter
from postdesk.settings import Settings
from postdesk.uow import publish

INVALID_CREDENTIALS = "Incorrect email or password."


# Sign-in


async def login(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    client_ip: str,
    settings: Settings,
    counters: MemoryCounter | RedisCounter,
) -> AccessToken:
    """Check credentials; repeated failures per address and per account answer 429 for a while."""
    window = settings.login_window_seconds
    keys = [f"login:ip:{client_ip}", f"login:email:{email.lower()}"]
    for key in keys:
        failures, retry_after = await counters.count(key, window)
        if failures >= settings.login_max_attempts:
            LOGIN_ATTEMPTS.labels(outcome="throttled").inc()
            raise TooManyRequests(f"Too many login attempts, try again in {retry_after} s.", retry_after)

    repo = AccountsRepository(session)
    user = await repo.user_for_sign_in(email)
    valid = passwords.verify_password(user.password_hash if user else None, password)
    if not valid or user is None or not user.is_active:
        for key in keys:
            await counters.hit(key, window)
        LOGIN_ATTEMPTS.labels(outcome="failed").inc()
        raise Unauthorized(INVALID_CREDENTIALS)

    await counters.reset(keys[1])
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_at = utcnow()
    LOGIN_ATTEMPTS.labels(outcome="ok").inc()
    ttl = timedelta(minutes=settings.access_token_minutes)
    token = tokens.issue_access_token(
        user_id=user.id,
        company_id=user.company_id,
        secret=_secret_key(settings),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl=ttl,
    )
    return AccessToken(access_token=token, expires_in=int(ttl.total_seconds()))


async def caller_from_token(session: AsyncSession, *, token: str, settings: Settings) -> Caller:
    claims = tokens.read_access_token(
        token, secret=_secret_key(settings), issuer=settings.jwt_issuer, audience=settings.jwt_audience
    )
    if claims is None:
        raise Unauthorized("Invalid or expired access token.")
    user = await AccountsRepository(session).user(claims.company_id, claims.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("Invalid or expired access token.")
    return Caller(company_id=user.company_id, role=user.role, user_id=user.id, is_platform_admin=user.is_platform_admin)


async def caller_from_api_key(session: AsyncSession, *, key: str) -> Caller:
    api_key = await AccountsRepository(session).api_key_by_digest(tokens.api_key_digest(key))
    if api_key is None or api_key.revoked_at is not None:
        raise Unauthorized("Invalid API key.")
    api_key.last_used_at = utcnow()
    return Caller(company_id=api_key.company_id, role=api_key.role, api_key_id=api_key.id)


async def me(session: AsyncSession, caller: Caller) -> Me:
    repo = AccountsRepository(session)
    user = await _user(repo, caller, caller.user_id) if caller.user_id else None
    if user is None:
        raise NotFound("User")
    company = await repo.company(caller.company_id)
    assert company is not None
    return Me(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        company_id=company.id,
        company_name=company.name,
        is_platform_admin=user.is_platform_admin,
    )


def _secret_key(settings: Settings) -> str:
    assert settings.secret_key is not None, "settings without a secret key (call with_embedded_secrets)"
    return settings.secret_key.get_secret_value()


# Users


async def _user(repo: AccountsRepository, caller: Caller, user_id: uuid.UUID) -> User:
    user = await repo.user(caller.company_id, user_id)
    if user is None:
        raise NotFound("User")
    return user


async def get_user(session: AsyncSession, caller: Caller, user_id: uuid.UUID) -> User:
    return await _user(AccountsRepository(session), caller, user_id)


async def list_users(
    session: AsyncSession, caller: Caller, *, role: Role | None, search: str | None, offset: int, limit: int
) -> tuple[list[User], int]:
    rows, total = await AccountsRepository(session).users(
        caller.company_id, role=role, search=search, offset=offset, limit=limit
    )
    return list(rows), total


async def create_user(session: AsyncSession, caller: Caller, data: UserCreate) -> User:
    repo = AccountsRepository(session)
    if await repo.email_taken(data.email):
        raise Conflict("email", "A user with this email address already exists.")
    user = await repo.add(
        User(
            company_id=caller.company_id,
            email=data.email,
            name=data.name,
            role=data.role,
            password_hash=passwords.hash_password(data.password),
        )
    )
    publish("user.created", caller.company_id, {"id": str(user.id)}, min_role=Role.admin)
    return user


async def update_user(session: AsyncSession, caller: Caller, user_id: uuid.UUID, data: UserUpdate) -> User:
    repo = AccountsRepository(session)
    user = await _user(repo, caller, user_id)
    demoting = data.role is not None and data.role != Role.admin and user.role == Role.admin
    deactivating = data.is_active is False and user.is_active and user.role == Role.admin
    if (demoting or deactivating) and await repo.count_active_admins(caller.company_id) <= 1:
        raise Conflict("role" if demoting else "is_active", "A company needs at least one active admin.")
    if data.name is not None:
        user.name = data.name
    if data.role is not None:
        user.role = data.role
    if data.is_active is not None:
        user.is_active = data.is_active
    if data.password is not None:
        user.password_hash = passwords.hash_password(data.password)
    await session.flush()
    publish("user.updated", caller.company_id, {"id": str(user.id)}, min_role=Role.supervisor)
    return user


async def delete_user(session: AsyncSession, caller: Caller, user_id: uuid.UUID) -> None:
    repo = AccountsRepository(session)
    user = await _user(repo, caller, user_id)
    if user.id == caller.user_id:
        raise Conflict("id", "You cannot delete your own account.")
    if user.role == Role.admin and user.is_active and await repo.count_active_admins(caller.company_id) <= 1:
        raise Conflict("id", "A company needs at least one active admin.")
    await repo.delete(user)


# Teams


async def _team(repo: AccountsRepository, caller: Caller, team_id: uuid.UUID) -> Team:
    team = await repo.team(caller.company_id, team_id)
    if team is None:
        raise NotFound("Team")
    return team


async def _checked_members(repo: AccountsRepository, caller: Caller, member_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    found = await repo.existing_user_ids(caller.company_id, set(member_ids))
    missing = [str(m) for m in member_ids if m not in found]
    if missing:
        # Another company's user is indistinguishable from a user that does not exist.
        raise Invalid("member_ids", f"Unknown users: {', '.join(missing)}.", unknown=missing)
    return list(dict.fromkeys(member_ids))


async def _team_public(repo: AccountsRepository, team: Team) -> TeamPublic:
    members = await repo.team_member_ids([team.id])
    return TeamPublic(id=team.id, name=team.name, description=team.description, member_ids=members[team.id],
                      created_at=team.created_at)


async def list_teams(session: AsyncSession, caller: Caller) -> list[TeamPublic]:
    repo = AccountsRepository(session)
    teams = await repo.teams(caller.company_id)
    members = await repo.team_member_ids([t.id for t in teams])
    return [TeamPublic(id=t.id, name=t.name, description=t.description, member_ids=members[t.id],
                       created_at=t.created_at) for t in teams]


async def get_team(session: AsyncSession, caller: Caller, team_id: uuid.UUID) -> TeamPublic:
    repo = AccountsRepository(session)
    return await _team_public(repo, await _team(repo, caller, team_id))


async def create_team(session: AsyncSession, caller: Caller, data: TeamCreate) -> TeamPublic:
    repo = AccountsRepository(session)
    if await repo.team_name_taken(caller.company_id, data.name):
        raise Conflict("name", "A team with this name already exists.")
    member_ids = await _checked_members(repo, caller, data.member_ids)
    team = await repo.add(Team(company_id=caller.company_id, name=data.name, description=data.description))
    await repo.replace_team_members(team.id, member_ids)
    return await _team_public(repo, team)


async def update_team(session: AsyncSession, caller: Caller, team_id: uuid.UUID, data: TeamUpdate) -> TeamPublic:
    repo = AccountsRepository(session)
    team = await _team(repo, caller, team_id)
    if data.name is not None and data.name != team.name:
        if await repo.team_name_taken(caller.company_id, data.name, except_id=team.id):
            raise Conflict("name", "A team with this name already exists.")
        team.name = data.name
    if data.description is not None:
        team.description = data.description
    if data.member_ids is not None:
        await repo.replace_team_members(team.id, await _checked_members(repo, caller, data.member_ids))
    await session.flush()
    return await _team_public(repo, team)


async def delete_team(session: AsyncSession, caller: Caller, team_id: uuid.UUID) -> None:
    repo = AccountsRepository(session)
    await repo.delete(await _team(repo, caller, team_id))


# Companies


async def current_company(session: AsyncSession, caller: Caller) -> Company:
    company = await AccountsRepository(session).company(caller.company_id)
    if company is None:
        raise NotFound("Company")
    return company


async def rename_company(session: AsyncSession, caller: Caller, name: str) -> Company:
    repo = AccountsRepository(session)
    company = await current_company(session, caller)
    if await repo.company_name_taken(name, except_id=company.id):
        raise Conflict("name", "A company with this name already exists.")
    company.name = name
    await session.flush()
    return company


async def list_companies(session: AsyncSession) -> list[Company]:
    return list(await AccountsRepository(session).companies())


async def create_company(session: AsyncSession, data: CompanyCreate, *, platform_admin: bool = False) -> Company:
    """A tenant and its first admin, in one transaction."""
    repo = AccountsRepository(session)
    if await repo.company_name_taken(data.name):
        raise Conflict("name", "A company with this name already exists.")
    if await repo.email_taken(data.admin_email):
        raise Conflict("admin_email", "A user with this email address already exists.")
    company = await repo.add(Company(name=data.name))
    await repo.add(
        User(
            company_id=company.id,
            email=data.admin_email,
            name=data.admin_name,
            role=Role.admin,
            password_hash=passwords.hash_password(data.admin_password),
            is_platform_admin=platform_admin,
        )
    )
    return company


async def bootstrap_first_admin(session: AsyncSession, *, email: str, password: str) -> bool:
    """Create the installation's first company and platform admin; False when one already exists."""
    if await AccountsRepository(session).count_companies() > 0:
        return False
    data = CompanyCreate(name="My contact centre", admin_email=email, admin_name="Administrator", admin_password=password)
    await create_company(session, data, platform_admin=True)
    return True


# API keys


async def list_api_keys(session: AsyncSession, caller: Caller) -> list[ApiKey]:
    return list(await AccountsRepository(session).api_keys(caller.company_id))


async def create_api_key(session: AsyncSession, caller: Caller, data: ApiKeyCreate) -> ApiKeyCreated:
    key = tokens.new_api_key()
    api_key = await AccountsRepository(session).add(
        ApiKey(
            company_id=caller.company_id,
            name=data.name,
            role=data.role,
            display_prefix=key[:12],
            key_digest=tokens.api_key_digest(key),
            created_by_id=caller.user_id,
        )
    )
    return ApiKeyCreated(**ApiKeyPublic.model_validate(api_key).model_dump(), key=key)


async def revoke_api_key(session: AsyncSession, caller: Caller, key_id: uuid.UUID) -> ApiKey:
    api_key = await AccountsRepository(session).api_key(caller.company_id, key_id)
    if api_key is None:
        raise NotFound("API key")
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
    await session.flush()
    return api_key
