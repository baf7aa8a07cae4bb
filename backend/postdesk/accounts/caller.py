"""Who is calling: a signed-in user or an integration's API key, always within one company."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from postdesk.accounts.models import Role


@dataclass(frozen=True)
class Caller:
    company_id: uuid.UUID
    role: Role
    user_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    is_platform_admin: bool = False

    @property
    def is_user(self) -> bool:
        return self.user_id is not None
