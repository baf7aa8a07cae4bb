from __future__ import annotations

import enum
import uuid

from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from postdesk.db import Base, IdMixin, TimestampMixin


class EntryKind(enum.StrEnum):
    address = "address"
    domain = "domain"


class BlacklistReason(enum.StrEnum):
    manual = "manual"
    spam_report = "spam_report"
    hard_bounce = "hard_bounce"
    unsubscribe = "unsubscribe"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=20, validate_strings=True)


class BlacklistEntry(IdMixin, TimestampMixin, Base):
    __tablename__ = "blacklist_entries"
    __table_args__ = (UniqueConstraint("company_id", "value"),)

    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    kind: Mapped[EntryKind] = mapped_column(_enum(EntryKind, "blacklist_kind"))
    # Lower-cased address, or a domain without "@" (which also covers its subdomains).
    value: Mapped[str] = mapped_column(String(320))
    reason: Mapped[BlacklistReason] = mapped_column(_enum(BlacklistReason, "blacklist_reason"))
    # Where the entry came from: "api", "import", "bounce processor", an admin's note...
    source: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
