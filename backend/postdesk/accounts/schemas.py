from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from postdesk.accounts.models import Role
from postdesk.security.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from postdesk.validation import LoginEmail as Email

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Password = Annotated[str, Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)]


class LoginRequest(BaseModel):
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320)]
    password: Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)]


class AccessToken(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class Me(BaseModel):
    id: uuid.UUID
    email: str
    name: str
    role: Role
    company_id: uuid.UUID
    company_name: str
    is_platform_admin: bool


class UserCreate(BaseModel):
    email: Email
    name: Name
    role: Role
    password: Password


class UserUpdate(BaseModel):
    name: Name | None = None
    role: Role | None = None
    is_active: bool | None = None
    password: Password | None = None


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    name: str
    role: Role
    is_active: bool
    last_login_at: datetime | None
    created_at: datetime


class Page[T](BaseModel):
    items: list[T]
    total: int
    offset: int
    limit: int


class TeamCreate(BaseModel):
    name: Name
    description: Annotated[str, StringConstraints(max_length=2000)] = ""
    member_ids: list[uuid.UUID] = Field(default_factory=list, max_length=1000)


class TeamUpdate(BaseModel):
    name: Name | None = None
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None
    member_ids: list[uuid.UUID] | None = Field(default=None, max_length=1000)


class TeamPublic(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    member_ids: list[uuid.UUID]
    created_at: datetime


class CompanyPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    created_at: datetime


class CompanyUpdate(BaseModel):
    name: Name


class CompanyCreate(BaseModel):
    """A new tenant with its first admin (installation operators only)."""

    name: Name
    admin_email: Email
    admin_name: Name
    admin_password: Password


class ApiKeyCreate(BaseModel):
    name: Name
    role: Role = Role.agent


class ApiKeyPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    role: Role
    display_prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="Shown once; store it now. Postdesk keeps only its hash.")
