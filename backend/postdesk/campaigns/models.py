from __future__ import annotations

import enum
import uuid
from datetime import date, datetime, time

from sqlalchemy import Boolean, Date, Enum, ForeignKey, Integer, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from postdesk.db import Base, IdMixin, TimestampMixin, UTCDateTime, utcnow


class RoutingStrategy(enum.StrEnum):
    """How waiting interactions are offered to the campaign's agents (names as in the seed's Strategies)."""

    ringall = "ringall"
    leastrecent = "leastrecent"
    fewestcalls = "fewestcalls"
    random = "random"
    rrmemory = "rrmemory"
    linear = "linear"
    wrandom = "wrandom"


class Weekday(enum.StrEnum):
    monday = "monday"
    tuesday = "tuesday"
    wednesday = "wednesday"
    thursday = "thursday"
    friday = "friday"
    saturday = "saturday"
    sunday = "sunday"

    @property
    def number(self) -> int:
        """0 for Monday, as datetime.weekday()."""
        return list(Weekday).index(self)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=20, validate_strings=True)


class CampaignGroup(IdMixin, TimestampMixin, Base):
    __tablename__ = "campaign_groups"
    __table_args__ = (UniqueConstraint("company_id", "name"),)

    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")


class Campaign(IdMixin, TimestampMixin, Base):
    __tablename__ = "campaigns"
    __table_args__ = (UniqueConstraint("company_id", "title"),)

    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    # Deleting a group that still holds campaigns is refused by the service (409); the database agrees.
    group_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("campaign_groups.id"), index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    receive_emails: Mapped[bool] = mapped_column(Boolean, default=True)
    email_server_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("email_servers.id"), index=True)
    from_name: Mapped[str] = mapped_column(String(200), default="")

    service_level_seconds: Mapped[int] = mapped_column(Integer, default=180)
    warning_threshold_seconds: Mapped[int] = mapped_column(Integer, default=120)
    critical_threshold_seconds: Mapped[int] = mapped_column(Integer, default=300)
    strategy: Mapped[RoutingStrategy] = mapped_column(_enum(RoutingStrategy, "routing_strategy"),
                                                      default=RoutingStrategy.ringall)
    max_interactions_per_agent: Mapped[int] = mapped_column(Integer, default=1)
    # None: no limit on waiting interactions.
    max_interactions_in_queue: Mapped[int | None] = mapped_column(Integer)

    allow_free_format: Mapped[bool] = mapped_column(Boolean, default=True)
    require_address_confirmation: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_put_back: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_move: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_drafts: Mapped[bool] = mapped_column(Boolean, default=True)

    auto_reply_template_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("templates.id"), index=True)
    signature_template_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("templates.id"), index=True)

    qualification_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    qualification_motivation_text: Mapped[str] = mapped_column(String(200), default="")
    qualification_thank_you_message: Mapped[str] = mapped_column(Text, default="")

    schedule_timezone: Mapped[str] = mapped_column(String(64), default="UTC")


class CampaignTeam(Base):
    __tablename__ = "campaign_teams"

    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True,
                                               index=True)


class CampaignMember(Base):
    """An agent who takes this campaign's interactions; weight and position matter to wrandom and linear."""

    __tablename__ = "campaign_members"

    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True,
                                               index=True)
    weight: Mapped[int] = mapped_column(Integer, default=1)
    position: Mapped[int | None] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ScheduleWindow(IdMixin, Base):
    """A weekly opening window in the campaign's time zone; closes <= opens runs past midnight."""

    __tablename__ = "campaign_schedule_windows"

    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[Weekday] = mapped_column(_enum(Weekday, "weekday"))
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)


class ScheduleException(IdMixin, Base):
    """A dated exception replacing the weekly windows of that day: closed all day, or special hours."""

    __tablename__ = "campaign_schedule_exceptions"

    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    # Both None: closed all day.
    opens: Mapped[time | None] = mapped_column(Time)
    closes: Mapped[time | None] = mapped_column(Time)
    description: Mapped[str] = mapped_column(String(200), default="")
