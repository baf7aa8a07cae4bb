from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from postdesk.templates.models import TemplateKind
from postdesk.validation import HeaderText

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Subject = Annotated[HeaderText, StringConstraints(max_length=998)]
Body = Annotated[str, StringConstraints(max_length=500_000)]
VariableName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=64)]


class TemplateCreate(BaseModel):
    name: Name
    kind: TemplateKind = TemplateKind.reply
    subject: Subject = ""
    html_body: Body = ""
    text_body: Body | None = Field(default=None, description="Omitted: derived from the HTML body.")
    campaign_id: uuid.UUID | None = Field(default=None, description="None: available to every campaign.")


class TemplateUpdate(BaseModel):
    name: Name | None = None
    kind: TemplateKind | None = None
    subject: Subject | None = None
    html_body: Body | None = None
    text_body: Body | None = None
    campaign_id: uuid.UUID | None = None


class TemplatePublic(BaseModel):
    id: uuid.UUID
    name: str
    kind: TemplateKind
    subject: str
    html_body: str
    text_body: str
    text_is_derived: bool
    campaign_id: uuid.UUID | None
    variables: list[str] = Field(description="Variables used in subject and bodies, in order of appearance.")
    assigned_at: datetime
    created_at: datetime
    updated_at: datetime


class PreviewRequest(BaseModel):
    variables: dict[VariableName, Annotated[str, StringConstraints(max_length=100_000)]] = Field(
        default_factory=dict, max_length=200)


class TemplatePreview(BaseModel):
    subject: str
    html_body: str
    text_body: str
    variables: list[str]
    missing: list[str] = Field(description="Variables the template uses that were given no value (left as ${name}).")


class TemplateAttachmentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    template_id: uuid.UUID
    filename: str
    content_type: str
    size: int
    created_at: datetime
