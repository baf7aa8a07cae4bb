"""The unit of work: one transaction per request or job, with side effects released after commit.

Jobs enqueued and events published while a unit of work is open are buffered here; they reach
the job engine and the event bus only once the transaction has committed, and vanish on rollback,
so no worker ever sees an id whose row was never written.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from postdesk.runtime import Runtime


@dataclass(frozen=True)
class JobRequest:
    name: str
    args: tuple[str, ...]
    job_id: str | None = None
    defer_seconds: float | None = None


@dataclass(frozen=True)
class Event:
    """Something that happened in a company, pushed to browsers and to routing."""

    type: str
    company_id: str
    data: dict[str, Any]
    # Only these users receive it when set (e.g. an agent's own tray); otherwise the whole company.
    user_ids: tuple[str, ...] | None = None
    min_role: str | None = None


@dataclass
class PendingEffects:
    jobs: list[JobRequest] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


_pending: ContextVar[PendingEffects | None] = ContextVar("postdesk_pending_effects", default=None)


def _current() -> PendingEffects:
    pending = _pending.get()
    if pending is None:
        raise RuntimeError("enqueue()/publish() called outside a unit of work")
    return pending


def enqueue(name: str, *args: object, job_id: str | None = None, defer_seconds: float | None = None) -> None:
    """Ask for a background job, sent when the current transaction commits.

    `job_id` makes the request idempotent: while a job with that id is queued or running,
    another request with the same id is ignored.
    """
    from postdesk.jobs.registry import JOBS

    if name not in JOBS:
        raise KeyError(f"unknown job {name!r}")
    _current().jobs.append(JobRequest(name, tuple(str(a) for a in args), job_id, defer_seconds))


def publish(
    type: str,
    company_id: object,
    data: dict[str, Any],
    *,
    user_ids: list[object] | None = None,
    min_role: str | None = None,
) -> None:
    """Announce an event, delivered when the current transaction commits."""
    audience = tuple(str(u) for u in user_ids) if user_ids is not None else None
    _current().events.append(Event(type, str(company_id), data, audience, min_role))


@asynccontextmanager
async def unit_of_work(runtime: Runtime) -> AsyncIterator[AsyncSession]:
    pending = PendingEffects()
    token = _pending.set(pending)
    try:
        async with runtime.session_maker() as session:
            yield session
            await session.commit()
    finally:
        _pending.reset(token)
    # Reached only after a successful commit.
    await runtime.release(pending)
