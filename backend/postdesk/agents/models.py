"""Agent presence: whether an agent takes interactions now, and the company's break reasons."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from postdesk.db import Base, IdMixin, TimestampMixin, UTCDateTime, utcnow


class PresenceState(enum.StrEnum):
    offline = "offline"  # not in the workspace
    available = "available"  # takes interactions: the only state the router assigns to
    busy = "busy"  # in the workspace, not taking new interactions
    on_break = "break"  # with a reason from the company's list


class BreakReason(IdMixin, TimestampMixin, Base):
    __tablename__ = "break_reasons"
    __table_args__ = (UniqueConstraint("company_id", "name"),)

    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class AgentPresence(Base):
    """One row per user who ever changed state; no row means offline."""

    __tablename__ = "agent_presence"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    state: Mapped[PresenceState] = mapped_column(
        Enum(PresenceState, name="presence_state", native_enum=False, length=20, validate_strings=True,
             values_callable=lambda states: [s.value for s in states]),  # stores "break", not the member name
        default=PresenceState.offline,
    )
    break_reason_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("break_reasons.id", ondelete="SET NULL"))
    # The reason's name when the break started, kept if the reason is renamed or deleted later.
    break_reason: Mapped[str] = mapped_column(String(100), default="")
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
