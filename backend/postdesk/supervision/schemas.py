from __future__ import annotations

import enum
import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from postdesk.agents.models import PresenceState
from postdesk.interactions.models import InteractionState


class SupervisionStatus(enum.StrEnum):
    """An agent's state as the supervision screen names it (the seed's five states)."""

    disconnected = "disconnected"
    busy = "busy"
    free = "free"
    free_on_break = "free_on_break"
    busy_on_break = "busy_on_break"


class CampaignSupervision(BaseModel):
    campaign_id: uuid.UUID
    title: str
    enabled: bool
    queued: int = Field(description="Waiting for an agent.")
    backlog: int = Field(description="Waiting behind a full queue (the campaign's queue limit).")
    oldest_waiting_since: datetime | None = Field(description="When the longest-waiting customer started waiting.")
    longest_wait_seconds: int | None = Field(description="How long that customer has waited; null when nobody waits.")
    in_progress: int = Field(description="Assigned to an agent now.")
    closed_today: int = Field(description="Closed since midnight in the campaign's time zone.")
    service_level_seconds: int
    warning_threshold_seconds: int
    critical_threshold_seconds: int
    answered_in_time_today: int = Field(description="Service level numerator (see GET /api/supervision/campaigns).")
    service_level_counted_today: int = Field(description="Service level denominator.")
    service_level_percent: float | None = Field(description="Null when nothing counts yet today.")
    agents_logged_in: int = Field(description="Members whose status is anything but offline.")
    members: int


class CampaignsBoard(BaseModel):
    as_of: datetime = Field(description="The server's clock when the numbers were taken.")
    service_level_target_percent: int
    campaigns: list[CampaignSupervision]


class AgentCampaign(BaseModel):
    id: uuid.UUID
    title: str


class AgentSupervision(BaseModel):
    user_id: uuid.UUID
    name: str
    email: str
    role: str
    presence: PresenceState
    status: SupervisionStatus
    break_reason: str
    since: datetime | None = Field(description="The last status change; null for an agent who never signed in.")
    seconds_in_status: int | None
    interactions_held: int
    capacity: int = Field(description="The most the router fills this agent's tray to (0: no enabled campaign).")
    campaigns: list[AgentCampaign]


class AgentsBoard(BaseModel):
    as_of: datetime
    agents: list[AgentSupervision]


class WaitingCustomer(BaseModel):
    interaction_id: uuid.UUID
    reference: str
    campaign_id: uuid.UUID
    campaign_title: str
    customer_email: str
    customer_name: str
    subject: str
    state: InteractionState
    priority: int
    waiting_since: datetime
    waiting_seconds: int
