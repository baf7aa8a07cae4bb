"""Every accounts query; each one is scoped to a company unless it is a sign-in lookup."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.accounts.models import ApiKey, Company, Role, Team, TeamMember, User


class AccountsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add[T](self, row: T) -> T:
        self.session.add(row)
        await self.session.flush()
        return row

    # Companies
    async def company(self, company_id: uuid.UUID) -> Company | None:
        return await self.session.get(Company, company_id)

    async def company_name_taken(self, name: str, *, except_id: uuid.UUID | None = None) -> bool:
        query = select(Company.id).where(func.lower(Company.name) == name.lower())
        if except_id:
            query = query.where(Company.id != except_id)
        return (await self.session.scalar(query.limit(1))) is not None

    async def companies(self) -> Sequence[Company]:
        return (await self.session.scalars(select(Company).order_by(Company.name))).all()

    async def count_companies(self) -> int:
        return await self.session.scalar(select(func.count()).select_from(Company)) or 0

    # Users
    async def user_for_sign_in(self, email: str) -> User | None:
        return await self.session.scalar(select(User).where(User.email == email.lower()))

    async def user(self, company_id: uuid.UUID, user_id: uuid.UUID) -> User | None:
        return await self.session.scalar(select(User).where(User.id == user_id, User.company_id == company_id))

    async def email_taken(self, email: str) -> bool:
        return (await self.session.scalar(select(User.id).where(User.email == email.lower()))) is not None

    async def users(
        self, company_id: uuid.UUID, *, role: Role | None, search: str | None, offset: int, limit: int
    ) -> tuple[Sequence[User], int]:
        query = select(User).where(User.company_id == company_id)
        if role:
            query = query.where(User.role == role)
        if search:
            pattern = f"%{search.lower()}%"
            query = query.where(func.lower(User.name).like(pattern) | User.email.like(pattern))
        total = await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await self.session.scalars(query.order_by(User.name, User.id).offset(offset).limit(limit))
        return rows.all(), total

    async def existing_user_ids(self, company_id: uuid.UUID, user_ids: set[uuid.UUID]) -> set[uuid.UUID]:
        if not user_ids:
            return set()
        rows = await self.session.scalars(
            select(User.id).where(User.company_id == company_id, User.id.in_(user_ids))
        )
        return set(rows.all())

    async def count_active_admins(self, company_id: uuid.UUID) -> int:
        query = select(func.count()).where(User.company_id == company_id, User.role == Role.admin, User.is_active)
        return await self.session.scalar(query) or 0

    # Teams
    async def team(self, company_id: uuid.UUID, team_id: uuid.UUID) -> Team | None:
        return await self.session.scalar(select(Team).where(Team.id == team_id, Team.company_id == company_id))

    async def team_name_taken(self, company_id: uuid.UUID, name: str, *, except_id: uuid.UUID | None = None) -> bool:
        query = select(Team.id).where(Team.company_id == company_id, func.lower(Team.name) == name.lower())
        if except_id:
            query = query.where(Team.id != except_id)
        return (await self.session.scalar(query.limit(1))) is not None

    async def teams(self, company_id: uuid.UUID) -> Sequence[Team]:
        return (await self.session.scalars(select(Team).where(Team.company_id == company_id).order_by(Team.name))).all()

    async def team_member_ids(self, team_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
        members: dict[uuid.UUID, list[uuid.UUID]] = {team_id: [] for team_id in team_ids}
        if team_ids:
            rows = await self.session.execute(
                select(TeamMember.team_id, TeamMember.user_id).where(TeamMember.team_id.in_(team_ids))
            )
            for team_id, user_id in rows:
                members[team_id].append(user_id)
        return members

    async def replace_team_members(self, team_id: uuid.UUID, user_ids: list[uuid.UUID]) -> None:
        await self.session.execute(delete(TeamMember).where(TeamMember.team_id == team_id))
        self.session.add_all(TeamMember(team_id=team_id, user_id=user_id) for user_id in dict.fromkeys(user_ids))
        await self.session.flush()

    async def delete(self, row: object) -> None:
        await self.session.delete(row)
        await self.session.flush()

    # API keys
    async def api_key_by_digest(self, digest: str) -> ApiKey | None:
        return await self.session.scalar(select(ApiKey).where(ApiKey.key_digest == digest))

    async def api_key(self, company_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey | None:
        return await self.session.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.company_id == company_id))

    async def api_keys(self, company_id: uuid.UUID) -> Sequence[ApiKey]:
        query = select(ApiKey).where(ApiKey.company_id == company_id).order_by(ApiKey.created_at.desc())
        return (await self.session.scalars(query)).all()
