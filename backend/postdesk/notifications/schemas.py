from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from postdesk.notifications.models import NotificationState


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("needs a time zone offset (e.g. 2026-11-23T10:15:00+01:00 or ...Z)")
    return value


OneLine = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[^\r\n\x00]*$")]


class FailedCallIn(BaseModel):
    """A failed or lost call reported by the telephony side; the campaign's email groups are told."""

    campaign_id: uuid.UUID
    caller: Annotated[OneLine, StringConstraints(min_length=1, max_length=200)] = Field(
        description="The number (or address) the customer called from, to call them back.")
    caller_name: Annotated[OneLine, StringConstraints(max_length=200)] = ""
    reason: Annotated[OneLine, StringConstraints(min_length=1, max_length=500)] = Field(
        description="Why the call failed, e.g. 'abandoned in queue', 'no agent answered', 'line busy'.")
    occurred_at: Annotated[datetime, AfterValidator(_aware)] = Field(description="When the call failed.")
    external_id: Annotated[OneLine, StringConstraints(min_length=1, max_length=200)] | None = Field(
        default=None, description="The telephony side's id of the call: reporting it twice notifies once.")


class NotificationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    campaign_id: uuid.UUID | None
    failed_call_id: uuid.UUID | None
    event: str
    recipient_email: str
    recipient_name: str
    subject: str
    text: str
    state: NotificationState
    attempts: int
    last_error: str | None
    message_id: str | None
    sent_at: datetime | None
    created_at: datetime


class FailedCallPublic(BaseModel):
    id: uuid.UUID
    campaign_id: uuid.UUID | None
    caller: str
    caller_name: str
    reason: str
    occurred_at: datetime
    external_id: str | None
    created_at: datetime
    duplicate: bool = Field(description="True when this external_id was reported before (nothing new was sent).")
    notifications: list[NotificationPublic]
