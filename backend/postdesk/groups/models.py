from __future__ import annotations

import enum
import uuid

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from postdesk.db import Base, IdMixin, TimestampMixin


class NotificationEvent(enum.StrEnum):
    """What a campaign tells its attached groups about."""

    interaction_lost = "interaction_lost"
    service_level_breached = "service_level_breached"
    delivery_failed = "delivery_failed"
    failed_call = "failed_call"


class EmailGroup(IdMixin, TimestampMixin, Base):
    __tablename__ = "email_groups"
    __table_args__ = (UniqueConstraint("company_id", "name"),)

    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")


class EmailGroupContact(IdMixin, TimestampMixin, Base):
    __tablename__ = "email_group_contacts"
    __table_args__ = (UniqueConstraint("group_id", "email"),)

    group_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("email_groups.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(String(2000), default="")


class CampaignEmailGroup(Base):
    """A group attached to a campaign, notified of the listed events."""

    __tablename__ = "campaign_email_groups"

    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    # Detaching first is required: deleting an attached group is refused (409) by the service.
    group_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("email_groups.id"), primary_key=True, index=True)
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
