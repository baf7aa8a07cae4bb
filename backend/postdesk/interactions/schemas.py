from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from postdesk.interactions.models import Direction, InteractionState, MessageKind, MessageStatus

# Address lists as typed by agents: "a@x.com, b@y.com; Name <c@z.com>".
AddressList = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)]
Body = Annotated[str, Field(max_length=2_000_000)]
Subject = Annotated[str, StringConstraints(strip_whitespace=True, max_length=998)]
Version = Annotated[int, Field(ge=1, description="The interaction's `version` when the agent loaded it; "
                                                "409 when it changed since.")]


class AddressPublic(BaseModel):
    address: str
    name: str = ""


class AttachmentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    filename: str
    content_type: str
    size_bytes: int
    inline: bool
    content_id: str | None


class MessagePublic(BaseModel):
    id: uuid.UUID
    direction: Direction
    kind: MessageKind
    status: MessageStatus
    subject: str
    from_address: str
    from_name: str
    to: list[AddressPublic]
    cc: list[AddressPublic]
    bcc: list[AddressPublic]
    text_body: str
    html_body: str
    message_id_header: str | None
    in_reply_to: str | None
    author_id: uuid.UUID | None
    sent_at: datetime | None
    created_at: datetime
    last_error: str
    attachments: list[AttachmentPublic]


class MessageHtml(BaseModel):
    message_id: uuid.UUID
    html: str = Field(description="Sanitised HTML. Inline images are `postdesk-attachment:{attachment id}` "
                                  "references: download the attachment and substitute it before rendering.")
    has_remote_images: bool = Field(description="The message references remote images (blocked unless asked for).")
    remote_images: bool = Field(description="Remote images are kept in `html` (https URLs only).")


class InteractionSummary(BaseModel):
    id: uuid.UUID
    reference: str
    campaign_id: uuid.UUID | None
    campaign_name: str | None
    direction: Direction
    state: InteractionState
    customer_email: str
    customer_name: str
    subject: str
    priority: int
    agent_id: uuid.UUID | None
    unread: bool
    queued_at: datetime | None
    assigned_at: datetime | None
    last_message_at: datetime
    closed_at: datetime | None
    disposition: str
    version: int
    waiting_seconds: int = Field(description="Seconds since the interaction started waiting (or was created).")


class ClientInfo(BaseModel):
    campaign_name: str | None
    client_email: str
    client_name: str


class CampaignRules(BaseModel):
    allow_free_format: bool
    require_address_confirmation: bool
    allow_put_back: bool
    allow_move: bool
    allow_drafts: bool
    qualification_enabled: bool


class TemplateChoice(BaseModel):
    id: uuid.UUID
    name: str
    subject: str


class DraftPublic(BaseModel):
    id: uuid.UUID
    kind: MessageKind
    to: str
    cc: str
    bcc: str
    subject: str
    html_body: str
    text_body: str
    template_id: uuid.UUID | None
    quote_history: bool
    forward_message_id: uuid.UUID | None
    updated_at: datetime


class Conversation(BaseModel):
    interaction: InteractionSummary
    client: ClientInfo
    messages: list[MessagePublic]
    drafts: list[DraftPublic]
    rules: CampaignRules | None
    templates: list[TemplateChoice]


class Tray(BaseModel):
    items: list[InteractionSummary]
    offers: list[InteractionSummary] = Field(description="Interactions offered to me under ringall: accept one.")


class ComposeFields(BaseModel):
    template_id: uuid.UUID | None = None
    html_body: Body | None = None
    text_body: Body | None = None
    cc: AddressList = ""
    bcc: AddressList = ""
    variables: dict[str, Annotated[str, Field(max_length=10_000)]] = Field(default_factory=dict, max_length=100)
    confirm_addresses: list[Annotated[str, Field(max_length=998)]] = Field(
        default_factory=list, max_length=500,
        description="Addresses that failed validation and that the agent confirmed they want to use.")


class ReplyIn(ComposeFields):
    expected_version: Version
    to: AddressList | None = Field(None, description="Defaults to the customer (their Reply-To or From).")
    subject: Subject | None = None
    quote_history: bool = False
    draft_id: uuid.UUID | None = None


class ForwardIn(ComposeFields):
    expected_version: Version
    to: AddressList
    subject: Subject | None = None
    message_id: uuid.UUID | None = Field(None, description="The message to forward; the customer's last one by "
                                                           "default.")
    draft_id: uuid.UUID | None = None


class NewInteractionIn(ComposeFields):
    campaign_id: uuid.UUID
    to: AddressList
    customer_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    subject: Subject | None = None


class DraftIn(BaseModel):
    kind: Literal["reply", "forward"] = "reply"
    to: AddressList = ""
    cc: AddressList = ""
    bcc: AddressList = ""
    subject: Subject = ""
    html_body: Body = ""
    text_body: Body = ""
    template_id: uuid.UUID | None = None
    quote_history: bool = False
    forward_message_id: uuid.UUID | None = None


class VersionIn(BaseModel):
    expected_version: Version


class MoveIn(VersionIn):
    campaign_id: uuid.UUID


class CloseIn(VersionIn):
    disposition: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class SentPublic(BaseModel):
    interaction: InteractionSummary
    message: MessagePublic
