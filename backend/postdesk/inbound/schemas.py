from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from postdesk.inbound.models import MailboxStatus, MailOutcome


class MailboxPublic(BaseModel):
    """The fetcher's view of one incoming mailbox: where its sync stands and whether it is healthy."""

    model_config = ConfigDict(from_attributes=True)

    email_server_id: uuid.UUID
    folder: str
    status: MailboxStatus
    last_error: str
    last_error_at: datetime | None
    last_ok_at: datetime | None
    consecutive_failures: int
    failing_since: datetime | None  # start of the current outage (null while healthy)
    alerted_at: datetime | None  # when the email groups were told about the current outage
    uses_idle: bool | None
    uidvalidity: int | None
    last_uid: int
    fetched_total: int
    resyncs: int
    sync_since: date | None


class MailboxSyncUpdate(BaseModel):
    """What the first sync takes: everything (null) or mail received on or after this day."""

    sync_since: date | None


class QuarantinedMailPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email_server_id: uuid.UUID
    folder: str
    uidvalidity: int | None
    uid: int | None
    uidl: str | None
    message_id_header: str | None
    size_bytes: int
    attempts: int
    error: str
    received_at: datetime
    outcome: MailOutcome


class ReprocessResult(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    outcome: MailOutcome
    interaction_id: uuid.UUID | None
    message_id: uuid.UUID | None
    note: str
