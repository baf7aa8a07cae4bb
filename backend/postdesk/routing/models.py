"""Routing's own records: ringall offers waiting for an agent to accept, and the assignment log
(which agent got which interaction when; leastrecent, fewestcalls and rrmemory read it)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from postdesk.db import Base, IdMixin, UTCDateTime, utcnow


class RoutingOffer(Base):
    """A queued interaction offered to an agent under ringall; the first to accept gets it."""

    __tablename__ = "routing_offers"
    __table_args__ = (Index("ix_routing_offers_user", "user_id"),)

    interaction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("interactions.id", ondelete="CASCADE"),
                                                      primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Assignment(IdMixin, Base):
    """One row per time an interaction entered an agent's tray."""

    __tablename__ = "interaction_assignments"
    __table_args__ = (
        Index("ix_interaction_assignments_campaign_user", "campaign_id", "user_id", "assigned_at"),
        Index("ix_interaction_assignments_campaign_assigned", "campaign_id", "assigned_at"),
    )

    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    interaction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("interactions.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The strategy that chose the agent ("ringall" when the agent accepted an offer).
    via: Mapped[str] = mapped_column(String(20))
