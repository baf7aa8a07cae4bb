"""Auto-replies sent, per customer address: the rate limit counts these rows, so it holds across workers."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from postdesk.db import Base, IdMixin, UTCDateTime, utcnow


class AutoReplyLog(IdMixin, Base):
    __tablename__ = "auto_reply_log"
    __table_args__ = (Index("ix_auto_reply_log_company_sender_created", "company_id", "sender", "created_at"),)

    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    sender: Mapped[str] = mapped_column(String(320))  # lower-cased address of the customer who wrote
    interaction_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("interactions.id", ondelete="SET NULL"))
    message_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
