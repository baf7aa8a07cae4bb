"""Interactions: the contact centre's unit of work. One interaction is one conversation with a
customer in one campaign, made of messages in both directions.

Shared by the inbound pipeline (which opens interactions from customer mail), routing (which
assigns them to agents) and the agent workspace (which replies, forwards, moves and closes).
"""

from __future__ import annotations

import enum
import secrets
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from postdesk.db import Base, IdMixin, TimestampMixin, UTCDateTime, utcnow


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=20, validate_strings=True)


def new_reference() -> str:
    """A short, unguessable conversation reference shown to customers and embedded in our Message-IDs."""
    return secrets.token_hex(6).upper()


class InteractionState(enum.StrEnum):
    backlog = "backlog"  # the campaign's queue is full; enters the queue when room frees (oldest first)
    queued = "queued"  # waiting for an agent
    assigned = "assigned"  # in an agent's tray
    closed = "closed"
    stored = "stored"  # kept and visible but never queued: disabled campaign, blacklisted sender


class Direction(enum.StrEnum):
    inbound = "inbound"
    outbound = "outbound"


class Interaction(IdMixin, TimestampMixin, Base):
    __tablename__ = "interactions"
    __table_args__ = (
        UniqueConstraint("company_id", "reference"),
        # The router's hot query: waiting interactions of a campaign, priority first then oldest.
        Index("ix_interactions_campaign_state_queue", "campaign_id", "state", "priority", "queued_at"),
        Index("ix_interactions_agent_state", "agent_id", "state"),
    )

    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    reference: Mapped[str] = mapped_column(String(32), default=new_reference)
    # Who started it: a customer's email (inbound) or an agent's new email (outbound).
    direction: Mapped[Direction] = mapped_column(_enum(Direction, "interaction_direction"), default=Direction.inbound)
    state: Mapped[InteractionState] = mapped_column(_enum(InteractionState, "interaction_state"),
                                                    default=InteractionState.queued)
    # Why a `stored` interaction is not queued ("blacklisted", "campaign disabled", "no campaign").
    state_reason: Mapped[str] = mapped_column(String(200), default="")

    customer_email: Mapped[str] = mapped_column(String(320), index=True)
    customer_name: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(String(998), default="")

    priority: Mapped[int] = mapped_column(Integer, default=0)  # higher first
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    agent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The agent has not opened the interaction since its last inbound message.
    unread: Mapped[bool] = mapped_column(Boolean, default=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disposition: Mapped[str] = mapped_column(String(200), default="")
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Optimistic concurrency: bumped on every change agents make (reply, move, close...).
    version: Mapped[int] = mapped_column(Integer, default=1)


class MessageStatus(enum.StrEnum):
    received = "received"  # inbound
    draft = "draft"
    queued = "queued"  # outbound row written, delivery job enqueued after commit
    sending = "sending"  # a delivery attempt is under way (or was, when the worker died)
    sent = "sent"
    failed = "failed"


class MessageKind(enum.StrEnum):
    customer = "customer"  # mail received from outside
    reply = "reply"
    forward = "forward"
    new = "new"  # an agent's new outbound email
    auto_reply = "auto_reply"


class Message(IdMixin, TimestampMixin, Base):
    """One email, inbound or outbound. Outbound rows are written (queued) before any delivery attempt."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_company_message_id", "company_id", "message_id_header"),
        Index("ix_messages_interaction_created", "interaction_id", "created_at"),
    )

    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    interaction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("interactions.id", ondelete="CASCADE"))
    # Never loaded (lazy="raise"): declared so that one flush of many new rows inserts parents first.
    interaction: Mapped[Interaction] = relationship(lazy="raise", foreign_keys=[interaction_id])
    direction: Mapped[Direction] = mapped_column(_enum(Direction, "message_direction"))
    kind: Mapped[MessageKind] = mapped_column(_enum(MessageKind, "message_kind"))
    status: Mapped[MessageStatus] = mapped_column(_enum(MessageStatus, "message_status"))
    # The server this message came in through or goes out through.
    email_server_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("email_servers.id", ondelete="SET NULL"))
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    # Angle-bracketed, as in the header. Ours embed the interaction reference (threading fallback).
    message_id_header: Mapped[str | None] = mapped_column(String(998))
    in_reply_to: Mapped[str | None] = mapped_column(String(998))
    references: Mapped[list[str]] = mapped_column(JSON, default=list)
    subject: Mapped[str] = mapped_column(String(998), default="")
    from_address: Mapped[str] = mapped_column(String(320), default="")
    from_name: Mapped[str] = mapped_column(String(200), default="")
    # Lists of {"address": ..., "name": ...}.
    to: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    cc: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    bcc: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    reply_to: Mapped[str | None] = mapped_column(String(320))
    text_body: Mapped[str] = mapped_column(Text, default="")
    html_body: Mapped[str] = mapped_column(Text, default="")  # sanitised before it is stored
    # Storage key of the raw RFC 5322 bytes (inbound as received; outbound as sent).
    raw_key: Mapped[str | None] = mapped_column(String(500))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # Date header (inbound) / delivery (outbound)

    # Delivery bookkeeping for outbound rows.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Attachment(IdMixin, Base):
    __tablename__ = "attachments"

    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    message: Mapped[Message] = relationship(lazy="raise", foreign_keys=[message_id])  # flush order only
    filename: Mapped[str] = mapped_column(String(255), default="")
    content_type: Mapped[str] = mapped_column(String(200), default="application/octet-stream")
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    storage_key: Mapped[str] = mapped_column(String(500))
    content_id: Mapped[str | None] = mapped_column(String(998))  # for cid: images in the HTML body
    inline: Mapped[bool] = mapped_column(Boolean, default=False)
    sha256: Mapped[str] = mapped_column(String(64), default="")
