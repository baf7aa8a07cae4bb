"""The delivery outbox: one row per outbound message not yet sent or failed.

The Message row says what the agent sees (queued, sending, sent, failed); the outbox row is the
job's bookkeeping: when the message is due, and which attempt holds the claim to send it. Rows go
away when the message is sent or fails, so the periodic sweep scans only pending mail.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from postdesk.db import Base, UTCDateTime, utcnow


class OutboxEntry(Base):
    __tablename__ = "delivery_outbox"

    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    # When the next attempt may start (now for new mail; later after a transient failure).
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # Set while an attempt is sending: until then nobody else may send this message.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claim_token: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
