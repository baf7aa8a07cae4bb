from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from postdesk.groups.models import NotificationEvent
from postdesk.validation import EmailAddress, HeaderText

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


class ContactIn(BaseModel):
    email: EmailAddress
    contact_name: HeaderText = ""
    description: Description = ""


class ContactPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    contact_name: str
    description: str


class EmailGroupCreate(BaseModel):
    name: Name
    description: Description = ""
    contacts: list[ContactIn] = Field(default_factory=list, max_length=500)


class EmailGroupUpdate(BaseModel):
    name: Name | None = None
    description: Description | None = None


class AttachedCampaign(BaseModel):
    campaign_id: uuid.UUID
    title: str
    events: list[NotificationEvent]


class EmailGroupPublic(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    contacts: list[ContactPublic]
    campaigns: list[AttachedCampaign]
    created_at: datetime


class EmailGroupSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    description: str
    created_at: datetime


class Attachment(BaseModel):
    events: list[NotificationEvent] = Field(min_length=1, description="What the group is told about.")
