from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict


class WorkerStatus(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    worker: str
    engine: str
    last_seen_at: datetime


class SystemStatus(BaseModel):
    mode: Literal["embedded", "production"]
    version: str
    database: str
    workers: list[WorkerStatus]


class JobCheckPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    requested_at: datetime
    completed_at: datetime | None
    engine: str | None
    worker: str | None
    runs: int


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = {}
