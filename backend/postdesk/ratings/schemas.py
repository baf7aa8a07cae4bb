from __future__ import annotations

import uuid

from pydantic import BaseModel, Field


class CampaignRating(BaseModel):
    campaign_id: uuid.UUID | None = Field(description="None: the campaign was deleted since.")
    campaign_title: str
    count: int
    average: float


class AgentRating(BaseModel):
    agent_id: uuid.UUID | None = Field(description="None: automatic mail, or the agent was deleted since.")
    agent_name: str
    count: int
    average: float


class RatingSummary(BaseModel):
    count: int
    average: float | None = Field(description="None when nothing was rated.")
    distribution: dict[str, int] = Field(description='How many ratings of each score, keys "1" to "5".')
    campaigns: list[CampaignRating]
    agents: list[AgentRating]
