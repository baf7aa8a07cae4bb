"""Declarations of background jobs and periodic jobs, shared by both engines.

A job is `async def fn(ctx: JobContext, *ids)`: it takes ids (strings), never objects, so a job
re-run after a crash loads the current state. Unless declared otherwise, each run gets its own
transaction in `ctx.session`, committed when the function returns; jobs it enqueues are sent after
that commit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from postdesk.runtime import Runtime


class RetryLater(Exception):
    """A transient failure: run the job again after `defer_seconds` (up to the job's max_tries)."""

    def __init__(self, defer_seconds: float, reason: str = "") -> None:
        super().__init__(reason or f"retry in {defer_seconds}s")
        self.defer_seconds = defer_seconds


@dataclass
class JobContext:
    runtime: Runtime
    engine: str  # "arq" or "in-process": which engine ran this attempt
    attempt: int
    job_id: str | None
    session: AsyncSession | None = None


JobFunction = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class JobSpec:
    name: str
    function: JobFunction
    max_tries: int = 5
    timeout_seconds: float = 300
    transactional: bool = True


@dataclass(frozen=True)
class PeriodicSpec:
    """When a job runs by itself; fields follow cron (sets of allowed values, None = any)."""

    job_name: str
    hour: frozenset[int] | None = None
    minute: frozenset[int] | None = None
    second: frozenset[int] = field(default_factory=lambda: frozenset({0}))
    run_at_startup: bool = False


JOBS: dict[str, JobSpec] = {}
PERIODIC: list[PeriodicSpec] = []


def job(name: str, *, max_tries: int = 5, timeout_seconds: float = 300, transactional: bool = True):
    """Register a job function under a stable name (the name is what travels through the queue)."""

    def register(function: JobFunction) -> JobFunction:
        if name in JOBS and JOBS[name].function is not function:
            raise ValueError(f"job {name!r} registered twice")
        JOBS[name] = JobSpec(name, function, max_tries, timeout_seconds, transactional)
        return function

    return register


def periodic(
    job_name: str,
    *,
    hour: set[int] | None = None,
    minute: set[int] | None = None,
    second: set[int] | None = None,
    run_at_startup: bool = False,
) -> None:
    PERIODIC.append(
        PeriodicSpec(
            job_name,
            frozenset(hour) if hour is not None else None,
            frozenset(minute) if minute is not None else None,
            frozenset(second) if second is not None else frozenset({0}),
            run_at_startup,
        )
    )


def load_job_modules() -> None:
    """Import every domain's tasks module so their @job declarations are registered."""
    from postdesk.models import import_all_modules

    import_all_modules("tasks")
