from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from postdesk.db import Base, IdMixin, TimestampMixin, UTCDateTime, utcnow


class TemplateKind(enum.StrEnum):
    reply = "reply"
    auto_reply = "auto_reply"
    signature = "signature"
    dialer = "dialer"
    notification = "notification"


class Template(IdMixin, TimestampMixin, Base):
    __tablename__ = "templates"
    __table_args__ = (UniqueConstraint("company_id", "name"),)

    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[TemplateKind] = mapped_column(Enum(TemplateKind, name="template_kind", native_enum=False, length=20,
                                                    validate_strings=True))
    subject: Mapped[str] = mapped_column(String(998), default="")
    html_body: Mapped[str] = mapped_column(Text, default="")
    # None: the plain-text part is derived from the HTML when rendering.
    text_body: Mapped[str | None] = mapped_column(Text)
    # None: available to every campaign (seed 003). campaigns also points here, hence use_alter for the cycle;
    # a campaign's own templates go with it.
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE", use_alter=True), index=True
    )
    # When the template was added to its campaign (the seed's "Added On").
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TemplateAttachment(IdMixin, TimestampMixin, Base):
    """A file sent with every message made from the template; the bytes live in the blob store."""

    __tablename__ = "template_attachments"

    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    template_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("templates.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    # Content-addressed key in runtime.blobs (postdesk.storage); shared by identical files.
    storage_key: Mapped[str] = mapped_column(String(200))
