from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from postdesk.db import Base, IdMixin, UTCDateTime, utcnow


class WorkerHeartbeat(Base):
    """Last sign of life of each process that runs jobs (written by a periodic job)."""

    __tablename__ = "worker_heartbeats"

    worker: Mapped[str] = mapped_column(String(200), primary_key=True)
    engine: Mapped[str] = mapped_column(String(20))
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class JobCheck(IdMixin, Base):
    """An admin's request to prove background jobs run end to end ("is the worker alive?")."""

    __tablename__ = "job_checks"

    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    engine: Mapped[str | None] = mapped_column(String(20))
    worker: Mapped[str | None] = mapped_column(String(200))
    runs: Mapped[int] = mapped_column(default=0)
