"""Failed calls reported by telephony, and one notification row per email sent to a group contact."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from postdesk.db import Base, IdMixin, TimestampMixin, UTCDateTime


class NotificationState(enum.StrEnum):
    queued = "queued"
    sending = "sending"  # an attempt holds it until `claimed_until`
    sent = "sent"
    failed = "failed"


class FailedCall(IdMixin, TimestampMixin, Base):
    """A failed or lost call, as the telephony side reported it (seed 000: offer a callback)."""

    __tablename__ = "failed_calls"
    # The telephony side may resend the same report: its id makes the second POST a no-op.
    __table_args__ = (UniqueConstraint("company_id", "external_id"),)

    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"),
                                                          index=True)
    caller: Mapped[str] = mapped_column(String(200))  # number or address the customer called from
    caller_name: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(String(500))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    external_id: Mapped[str | None] = mapped_column(String(200))


class Notification(IdMixin, TimestampMixin, Base):
    """One email to one group contact; written before sending so nothing is lost, sent at most once
    per successful attempt (the job claims the row and checks its state)."""

    __tablename__ = "notifications"

    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"),
                                                          index=True)
    failed_call_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("failed_calls.id", ondelete="SET NULL"),
                                                             index=True)
    event: Mapped[str] = mapped_column(String(40))  # a groups.models.NotificationEvent value
    recipient_email: Mapped[str] = mapped_column(String(320))
    recipient_name: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(String(998))
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[NotificationState] = mapped_column(
        Enum(NotificationState, name="notification_state", native_enum=False, length=20, validate_strings=True),
        default=NotificationState.queued, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(2000))
    # Fixed before the first attempt, so a resend after a lost reply carries the same Message-ID.
    message_id: Mapped[str | None] = mapped_column(String(300))
    email_server_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("email_servers.id", ondelete="SET NULL"))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
