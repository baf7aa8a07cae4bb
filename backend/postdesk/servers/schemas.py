from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from postdesk.servers.models import AfterFetch, IncomingProtocol, Security, ServerType
from postdesk.validation import EmailAddress, HeaderText

Host = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=253,
                                        pattern=r"^(\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]+|[A-Za-z0-9_.-]+)$")]
Port = Annotated[int, Field(ge=1, le=65535)]
# Line breaks and NULs in credentials would inject protocol commands (POP3 PASS, IMAP LOGIN): refused.
Username = Annotated[str, StringConstraints(strip_whitespace=True, max_length=320, pattern=r"^[^\r\n\x00]*$")]
Secret = Annotated[str, Field(max_length=4096, pattern=r"^[^\r\n\x00]*$",
                              description="Write-only; blank on edit keeps the stored value.")]
Folder = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200,
                                          pattern=r"^[^\r\n\x00]+$")]


class EmailServerFields(BaseModel):
    """Every field an admin sets; which are required depends on the type and on receiving."""

    server_type: ServerType = ServerType.smtp
    is_default: bool = False
    sender_email: EmailAddress
    sender_name: HeaderText = ""
    reply_to: EmailAddress | None = None
    sendgrid_api_token: Secret | None = None

    smtp_host: Host | None = None
    smtp_port: Port | None = None
    smtp_username: Username | None = None
    smtp_password: Secret | None = None
    smtp_security: Security = Security.starttls

    incoming_protocol: IncomingProtocol = IncomingProtocol.none
    incoming_host: Host | None = None
    incoming_port: Port | None = None
    incoming_username: Username | None = None
    incoming_password: Secret | None = None
    incoming_security: Security = Security.tls
    imap_folder: Folder = "INBOX"
    after_fetch: AfterFetch = AfterFetch.mark_seen


class EmailServerCreate(EmailServerFields):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class EmailServerUpdate(BaseModel):
    """Partial edit: omitted fields keep their value; a blank secret keeps the stored secret."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    server_type: ServerType | None = None
    is_default: bool | None = None
    sender_email: EmailAddress | None = None
    sender_name: HeaderText | None = None
    reply_to: EmailAddress | None = None
    sendgrid_api_token: Secret | None = None
    smtp_host: Host | None = None
    smtp_port: Port | None = None
    smtp_username: Username | None = None
    smtp_password: Secret | None = None
    smtp_security: Security | None = None
    incoming_protocol: IncomingProtocol | None = None
    incoming_host: Host | None = None
    incoming_port: Port | None = None
    incoming_username: Username | None = None
    incoming_password: Secret | None = None
    incoming_security: Security | None = None
    imap_folder: Folder | None = None
    after_fetch: AfterFetch | None = None


class LegResult(BaseModel):
    leg: Literal["outgoing", "incoming"]
    protocol: Literal["smtp", "sendgrid", "imap", "pop3"]
    ok: bool
    message: str


class ConnectionTestResult(BaseModel):
    ok: bool
    tested_at: datetime
    legs: list[LegResult]


class EmailServerPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    server_type: ServerType
    is_default: bool
    sender_email: str
    sender_name: str
    reply_to: str | None
    smtp_host: str | None
    smtp_port: int | None
    smtp_username: str | None
    smtp_security: Security
    incoming_protocol: IncomingProtocol
    incoming_host: str | None
    incoming_port: int | None
    incoming_username: str | None
    incoming_security: Security
    imap_folder: str
    after_fetch: AfterFetch
    has_sendgrid_api_token: bool
    has_smtp_password: bool
    has_incoming_password: bool
    status: Literal["ok", "failing", "untested"]
    last_tested_at: datetime | None
    last_test_result: list[LegResult] | None
    created_at: datetime
    updated_at: datetime


class Dependent(BaseModel):
    kind: str
    id: uuid.UUID
    name: str
