"""What the inbound pipeline remembers about mailboxes and about every message it fetched.

`InboundMailbox` is the sync position of one server's folder (UIDVALIDITY and the highest UID
committed) plus the fetcher's health; `InboundMail` is the ledger: one row per fetched message,
unique on (server, folder, UIDVALIDITY, UID) for IMAP and (server, UIDL) for POP3, written in the
same transaction as the interaction, so a message is ingested exactly once whatever crashes.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from postdesk.db import Base, IdMixin, TimestampMixin, UTCDateTime, utcnow

if TYPE_CHECKING:
    from postdesk.interactions.models import Interaction, Message


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=20, validate_strings=True)


class MailboxStatus(enum.StrEnum):
    starting = "starting"
    ok = "ok"  # connected and up to date (idling or polling)
    error = "error"  # the last connection or fetch failed; the fetcher retries with backoff
    stopped = "stopped"  # no enabled receiving campaign uses the server any more


class MailOutcome(enum.StrEnum):
    ingested = "ingested"  # turned into a message (new interaction, follow-up or stored)
    duplicate = "duplicate"  # same Message-ID and content as a message already ingested (resync, copies)
    own = "own"  # our own outbound mail fetched back (Sent folder, Cc to ourselves)
    quarantined = "quarantined"  # failed to parse or store several times; raw kept, re-processable


class InboundMailbox(IdMixin, TimestampMixin, Base):
    __tablename__ = "inbound_mailboxes"
    __table_args__ = (UniqueConstraint("email_server_id", "folder"),)

    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    email_server_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("email_servers.id", ondelete="CASCADE"))
    folder: Mapped[str] = mapped_column(String(200))  # "" for POP3
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    # Highest UID committed under `uidvalidity`; the next fetch asks for UIDs above it.
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    # First sync takes only mail received on or after this day (None: everything).
    sync_since: Mapped[date | None] = mapped_column(Date)
    resyncs: Mapped[int] = mapped_column(Integer, default=0)  # UIDVALIDITY changes seen

    status: Mapped[MailboxStatus] = mapped_column(_enum(MailboxStatus, "inbound_mailbox_status"),
                                                  default=MailboxStatus.starting)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    # The current outage, as the supervisors see it (postdesk.inbound.alerts): when it began, and when
    # the email groups were told of it; both cleared once the mailbox is read again.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    uses_idle: Mapped[bool | None] = mapped_column(Boolean)
    fetched_total: Mapped[int] = mapped_column(BigInteger, default=0)


class InboundMail(IdMixin, Base):
    __tablename__ = "inbound_mails"
    __table_args__ = (
        UniqueConstraint("email_server_id", "folder", "uidvalidity", "uid"),
        UniqueConstraint("email_server_id", "uidl"),
        # Dedupe after a UIDVALIDITY change: same Message-ID and same bytes is the same message.
        Index("ix_inbound_mails_server_hash", "email_server_id", "content_hash"),
        Index("ix_inbound_mails_company_outcome", "company_id", "outcome", "received_at"),
        Index("ix_inbound_mails_server_pending", "email_server_id", "server_done"),
    )

    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    email_server_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("email_servers.id", ondelete="CASCADE"))
    folder: Mapped[str] = mapped_column(String(200), default="")
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)  # IMAP
    uid: Mapped[int | None] = mapped_column(BigInteger)  # IMAP
    uidl: Mapped[str | None] = mapped_column(String(200))  # POP3

    outcome: Mapped[MailOutcome] = mapped_column(_enum(MailOutcome, "inbound_mail_outcome"))
    message_id_header: Mapped[str | None] = mapped_column(String(998))
    content_hash: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    raw_key: Mapped[str | None] = mapped_column(String(500))
    # The Message row this mail became (or duplicates, or is: our own outbound one).
    message_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    interaction_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("interactions.id", ondelete="SET NULL"))
    # Never loaded (lazy="raise"): declared so that one flush of a fetched batch inserts parents first.
    message: Mapped[Message | None] = relationship(lazy="raise", foreign_keys=[message_id])
    interaction: Mapped[Interaction | None] = relationship(lazy="raise", foreign_keys=[interaction_id])
    note: Mapped[str] = mapped_column(String(200), default="")  # e.g. "follow-up", "blacklisted", "new"
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    error: Mapped[str] = mapped_column(Text, default="")
    # The configured after-fetch action (mark seen / delete) was applied on the server.
    server_done: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reprocessed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
