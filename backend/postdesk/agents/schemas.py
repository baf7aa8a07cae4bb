from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from postdesk.agents.models import PresenceState
from postdesk.templates.models import TemplateKind

ReasonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class PresenceUpdate(BaseModel):
    state: PresenceState
    # Required for `break` when the company has break reasons; ignored otherwise.
    break_reason_id: uuid.UUID | None = None


class PresencePublic(BaseModel):
    user_id: uuid.UUID
    state: PresenceState
    break_reason_id: uuid.UUID | None
    break_reason: str
    changed_at: datetime | None
    seconds_since_change: int | None


class AgentPresenceRow(PresencePublic):
    name: str
    email: str
    role: str
    assigned_interactions: int


class BreakReasonCreate(BaseModel):
    name: ReasonName


class BreakReasonUpdate(BaseModel):
    name: ReasonName | None = None
    active: bool | None = None


class BreakReasonPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    active: bool


class WorkspaceTemplate(BaseModel):
    """A reply template the agent may write from in this campaign."""

    id: uuid.UUID
    name: str
    kind: TemplateKind
    subject: str


class WorkspaceSignature(BaseModel):
    """The campaign's signature as the send will append it (customer values left empty in this preview)."""

    template_id: uuid.UUID
    name: str
    html_body: str
    text_body: str


class WorkspaceCampaign(BaseModel):
    """A campaign the caller works, with what the composer needs: its rules, templates and signature."""

    id: uuid.UUID
    title: str
    enabled: bool
    allow_free_format: bool
    require_address_confirmation: bool
    allow_drafts: bool
    allow_put_back: bool
    allow_move: bool
    templates: list[WorkspaceTemplate]
    signature: WorkspaceSignature | None
