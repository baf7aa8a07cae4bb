from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from postdesk.db import Base, IdMixin, TimestampMixin, UTCDateTime


class ServerType(enum.StrEnum):
    smtp = "smtp"
    sendgrid = "sendgrid"


class Security(enum.StrEnum):
    none = "none"
    starttls = "starttls"
    tls = "tls"


class IncomingProtocol(enum.StrEnum):
    none = "none"
    imap = "imap"
    pop3 = "pop3"


class AfterFetch(enum.StrEnum):
    """What happens on the mailbox once a fetched message is safely stored."""

    keep = "keep"
    mark_seen = "mark_seen"
    delete = "delete"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=20, validate_strings=True)


class EmailServer(IdMixin, TimestampMixin, Base):
    __tablename__ = "email_servers"
    __table_args__ = (UniqueConstraint("company_id", "name"),)

    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    server_type: Mapped[ServerType] = mapped_column(_enum(ServerType, "server_type"))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    sender_email: Mapped[str] = mapped_column(String(320))
    sender_name: Mapped[str] = mapped_column(String(200), default="")
    reply_to: Mapped[str | None] = mapped_column(String(320))

    # Secrets are Fernet ciphertext (postdesk.security.secrets); never returned by the API.
    sendgrid_api_token_encrypted: Mapped[str | None] = mapped_column(Text)

    smtp_host: Mapped[str | None] = mapped_column(String(253))
    smtp_port: Mapped[int | None]
    smtp_username: Mapped[str | None] = mapped_column(String(320))
    smtp_password_encrypted: Mapped[str | None] = mapped_column(Text)
    smtp_security: Mapped[Security] = mapped_column(_enum(Security, "smtp_security"), default=Security.starttls)

    incoming_protocol: Mapped[IncomingProtocol] = mapped_column(
        _enum(IncomingProtocol, "incoming_protocol"), default=IncomingProtocol.none
    )
    incoming_host: Mapped[str | None] = mapped_column(String(253))
    incoming_port: Mapped[int | None]
    incoming_username: Mapped[str | None] = mapped_column(String(320))
    incoming_password_encrypted: Mapped[str | None] = mapped_column(Text)
    incoming_security: Mapped[Security] = mapped_column(_enum(Security, "incoming_security"), default=Security.tls)
    imap_folder: Mapped[str] = mapped_column(String(200), default="INBOX")
    after_fetch: Mapped[AfterFetch] = mapped_column(_enum(AfterFetch, "after_fetch"), default=AfterFetch.mark_seen)

    last_tested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_test_ok: Mapped[bool | None] = mapped_column(Boolean)
    last_test_result: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
