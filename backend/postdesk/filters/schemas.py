from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from postdesk.filters.matching import MAX_PATTERN_LENGTH
from postdesk.filters.models import FilterField, FilterMatch

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Value = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PATTERN_LENGTH)]

FIELD_HELP = ("recipient: To, Cc and Delivered-To; sender: the From address; subject; body. "
              "recipient and sender match by address, domain (subdomains included), contains or regex; "
              "subject and body by contains or regex. Comparisons ignore case.")


class ChannelFilterCreate(BaseModel):
    name: Name
    field: FilterField = Field(description=FIELD_HELP)
    match: FilterMatch
    value: Value
    campaign_id: uuid.UUID
    enabled: bool = True
    position: int | None = Field(default=None, ge=0, description="Index in the list; omitted: last.")


class ChannelFilterUpdate(BaseModel):
    name: Name | None = None
    field: FilterField | None = None
    match: FilterMatch | None = None
    value: Value | None = None
    campaign_id: uuid.UUID | None = None
    enabled: bool | None = None


class ChannelFilterPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email_server_id: uuid.UUID
    position: int
    name: str
    field: FilterField
    match: FilterMatch
    value: str
    campaign_id: uuid.UUID
    enabled: bool
    created_at: datetime
    updated_at: datetime


class FilterOrder(BaseModel):
    filter_ids: list[uuid.UUID] = Field(max_length=1000, description="Every filter of the server, in the new order.")


class DefaultCampaignIn(BaseModel):
    campaign_id: uuid.UUID | None = Field(description="None: no explicit default (see `effective_campaign_id`).")


class DefaultCampaignPublic(BaseModel):
    campaign_id: uuid.UUID | None = Field(description="The configured default campaign.")
    effective_campaign_id: uuid.UUID | None = Field(
        description="What unmatched mail goes to: the configured default or, when none is set, the only "
                    "receiving campaign using this server (none when there are several).")


class FilterTestRequest(BaseModel):
    raw_message: Annotated[str, StringConstraints(min_length=1, max_length=5_000_000)] = Field(
        description="A pasted RFC 5322 message, headers and body.")
    delivered_to: list[Annotated[str, StringConstraints(max_length=320)]] | None = Field(
        default=None, max_length=50,
        description="Envelope recipients; omitted: taken from Delivered-To / X-Original-To headers.")


class FilterTestResult(BaseModel):
    reason: Literal["filter", "default", "no campaign"]
    campaign_id: uuid.UUID | None
    campaign_title: str | None
    campaign_enabled: bool | None
    filter_id: uuid.UUID | None
    filter_name: str | None
    subject: str
    sender: str | None
    recipients: list[str] = Field(description="The recipient addresses filters compared (To, Cc, Delivered-To).")
