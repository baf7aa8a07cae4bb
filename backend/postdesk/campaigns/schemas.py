from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from postdesk.campaigns.models import RoutingStrategy, Weekday
from postdesk.campaigns.schedule import valid_timezone
from postdesk.validation import HeaderText

QUOTATION_MARKS = "\"'“”‘’`"


def _no_quotation_marks(value: str) -> str:
    # Seed 001: "Do not include quotation marks in the campaign name."
    found = [ch for ch in QUOTATION_MARKS if ch in value]
    if found:
        raise ValueError(f"must not contain quotation marks (found {' '.join(found)})")
    return value


def _timezone(value: str) -> str:
    if not valid_timezone(value):
        raise ValueError("not a known IANA time zone name (e.g. Europe/Madrid)")
    return value


Title = Annotated[HeaderText, StringConstraints(min_length=1), AfterValidator(_no_quotation_marks)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Seconds = Annotated[int, Field(ge=1, le=7 * 86400)]
TimeZoneName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
                         AfterValidator(_timezone)]


# Campaign groups


class CampaignGroupCreate(BaseModel):
    name: Name
    description: Description = ""


class CampaignGroupUpdate(BaseModel):
    name: Name | None = None
    description: Description | None = None


class CampaignGroupPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    description: str
    created_at: datetime


# Campaigns


class Qualification(BaseModel):
    """Customer rating of the emails sent from the campaign."""

    model_config = ConfigDict(from_attributes=True)

    enabled: bool = False
    motivation_text: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = Field(
        default="", description="Title above the rating icons, e.g. “Rate our service”.")
    thank_you_message: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = Field(
        default="", description="Shown to the customer after rating.")


class CampaignCreate(BaseModel):
    title: Title
    description: Description = ""
    group_id: uuid.UUID | None = None
    enabled: bool = True
    receive_emails: bool = Field(default=True, description="Off: nothing is fetched and no incoming server is needed.")
    email_server_id: uuid.UUID | None = Field(default=None, description="Omitted: the company's default server.")
    from_name: HeaderText = ""
    service_level_seconds: Seconds = 180
    warning_threshold_seconds: Seconds = 120
    critical_threshold_seconds: Seconds = 300
    strategy: RoutingStrategy = RoutingStrategy.ringall
    max_interactions_per_agent: Annotated[int, Field(ge=1, le=100)] = 1
    max_interactions_in_queue: Annotated[int, Field(ge=1, le=1_000_000)] | None = Field(
        default=None, description="None: no limit.")
    allow_free_format: bool = True
    require_address_confirmation: bool = False
    allow_put_back: bool = True
    allow_move: bool = True
    allow_drafts: bool = True
    auto_reply_template_id: uuid.UUID | None = None
    signature_template_id: uuid.UUID | None = None
    qualification: Qualification = Field(default_factory=Qualification)
    team_ids: list[uuid.UUID] = Field(default_factory=list, max_length=200)
    schedule_timezone: TimeZoneName = "UTC"


class CampaignUpdate(BaseModel):
    """Partial edit: omitted fields keep their value; null clears an optional reference."""

    title: Title | None = None
    description: Description | None = None
    group_id: uuid.UUID | None = None
    enabled: bool | None = None
    receive_emails: bool | None = None
    email_server_id: uuid.UUID | None = Field(default=None, description="null: back to the company's default server.")
    from_name: HeaderText | None = None
    service_level_seconds: Seconds | None = None
    warning_threshold_seconds: Seconds | None = None
    critical_threshold_seconds: Seconds | None = None
    strategy: RoutingStrategy | None = None
    max_interactions_per_agent: Annotated[int, Field(ge=1, le=100)] | None = None
    max_interactions_in_queue: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    allow_free_format: bool | None = None
    require_address_confirmation: bool | None = None
    allow_put_back: bool | None = None
    allow_move: bool | None = None
    allow_drafts: bool | None = None
    auto_reply_template_id: uuid.UUID | None = None
    signature_template_id: uuid.UUID | None = None
    qualification: Qualification | None = None
    team_ids: list[uuid.UUID] | None = Field(default=None, max_length=200)
    schedule_timezone: TimeZoneName | None = None


class CampaignPublic(BaseModel):
    id: uuid.UUID
    title: str
    description: str
    group_id: uuid.UUID | None
    enabled: bool
    receive_emails: bool
    email_server_id: uuid.UUID | None
    from_name: str
    service_level_seconds: int
    warning_threshold_seconds: int
    critical_threshold_seconds: int
    strategy: RoutingStrategy
    max_interactions_per_agent: int
    max_interactions_in_queue: int | None
    allow_free_format: bool
    require_address_confirmation: bool
    allow_put_back: bool
    allow_move: bool
    allow_drafts: bool
    auto_reply_template_id: uuid.UUID | None
    signature_template_id: uuid.UUID | None
    qualification: Qualification
    team_ids: list[uuid.UUID]
    schedule_timezone: str
    created_at: datetime
    updated_at: datetime


# Members


class MemberIn(BaseModel):
    user_id: uuid.UUID
    weight: Annotated[int, Field(ge=1, le=100, description="Relative share under wrandom.")] = 1
    position: Annotated[int, Field(ge=0, le=100_000, description="Order under linear (lowest first).")] | None = None


class MembersReplace(BaseModel):
    members: list[MemberIn] = Field(max_length=1000)


class MemberPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    user_id: uuid.UUID
    weight: int
    position: int | None
    added_at: datetime


class MembershipChange(BaseModel):
    """The seed's Members screen: select campaigns and agents, then Add (or remove)."""

    campaign_ids: list[uuid.UUID] = Field(min_length=1, max_length=200)
    add_user_ids: list[uuid.UUID] = Field(default_factory=list, max_length=500)
    remove_user_ids: list[uuid.UUID] = Field(default_factory=list, max_length=500)

    @model_validator(mode="after")
    def _something_to_do(self) -> MembershipChange:
        if not self.add_user_ids and not self.remove_user_ids:
            raise ValueError("give add_user_ids or remove_user_ids")
        if set(self.add_user_ids) & set(self.remove_user_ids):
            raise ValueError("an agent cannot be added and removed at once")
        return self


class CampaignMembers(BaseModel):
    campaign_id: uuid.UUID
    members: list[MemberPublic]


# Schedules


class WindowIn(BaseModel):
    weekday: Weekday
    opens: time = Field(description="Local time in the schedule's zone.")
    closes: time = Field(description="Not after `opens`: the window runs past midnight.")

    @model_validator(mode="after")
    def _not_empty(self) -> WindowIn:
        if self.opens == self.closes and self.opens != time(0):
            raise ValueError("opens and closes are equal: use 00:00–00:00 for a whole day")
        return self


class WindowPublic(WindowIn):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID


class SpecialDayIn(BaseModel):
    day: date
    opens: time | None = Field(default=None, description="Both times omitted: closed all day.")
    closes: time | None = None
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""

    @model_validator(mode="after")
    def _both_or_neither(self) -> SpecialDayIn:
        if (self.opens is None) != (self.closes is None):
            raise ValueError("give both opens and closes, or neither for a day closed all day")
        if self.opens is not None and self.opens == self.closes and self.opens != time(0):
            raise ValueError("opens and closes are equal: use 00:00–00:00 for a whole day")
        return self


class SpecialDayPublic(SpecialDayIn):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    closed_all_day: bool


class ScheduleIn(BaseModel):
    timezone: TimeZoneName
    windows: list[WindowIn] = Field(default_factory=list, max_length=200)
    exceptions: list[SpecialDayIn] = Field(default_factory=list, max_length=1000)


class SchedulePublic(BaseModel):
    timezone: str
    windows: list[WindowPublic]
    exceptions: list[SpecialDayPublic]


class OpenNow(BaseModel):
    open: bool
    at: datetime
    timezone: str
    local_time: datetime


# Details view (seed 001 "Display Email Campaign Details")


class CampaignTemplateRow(BaseModel):
    id: uuid.UUID
    name: str
    kind: str
    subject: str
    added_on: datetime
    all_campaigns: bool = Field(description="True for templates available to every campaign.")


class CampaignDetails(BaseModel):
    campaign: CampaignPublic
    group_name: str | None
    email_server_name: str | None
    auto_reply_template_name: str | None
    signature_template_name: str | None
    member_count: int
    open_now: bool
    templates: list[CampaignTemplateRow]
