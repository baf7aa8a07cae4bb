"""Channel filters: per email server, an ordered list of rules sending inbound mail to campaigns."""

from __future__ import annotations

import enum
import uuid

from sqlalchemy import Boolean, Enum, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from postdesk.db import Base, IdMixin, TimestampMixin


class FilterField(enum.StrEnum):
    """What part of the message a filter looks at."""

    recipient = "recipient"  # To, Cc and Delivered-To addresses
    sender = "sender"  # the From address
    subject = "subject"
    body = "body"  # plain text, or text derived from the HTML


class FilterMatch(enum.StrEnum):
    """How the filter's value is compared (case-insensitive)."""

    address = "address"  # the whole address equals the value (recipient, sender)
    domain = "domain"  # the address's domain equals the value or is a subdomain of it (recipient, sender)
    contains = "contains"
    regex = "regex"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=20, validate_strings=True)


class ChannelFilter(IdMixin, TimestampMixin, Base):
    __tablename__ = "channel_filters"
    __table_args__ = (UniqueConstraint("email_server_id", "name"),)

    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    # The filters are the server's own configuration: they go with it.
    email_server_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("email_servers.id", ondelete="CASCADE"),
                                                       index=True)
    # Lower first; the first enabled filter that matches wins.
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    field: Mapped[FilterField] = mapped_column(_enum(FilterField, "filter_field"))
    match: Mapped[FilterMatch] = mapped_column(_enum(FilterMatch, "filter_match"))
    value: Mapped[str] = mapped_column(String(500))
    # Deleting a campaign that filters still route to is refused (409) by the campaigns service.
    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id"), index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class ChannelDefault(Base):
    """The campaign that takes a server's mail no filter matched."""

    __tablename__ = "channel_defaults"

    email_server_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("email_servers.id", ondelete="CASCADE"),
                                                       primary_key=True)
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id"), index=True)
