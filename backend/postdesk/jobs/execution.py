"""Runs one attempt of a job inside its own unit of work; shared by both engines."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import structlog

from postdesk.jobs.registry import JobContext, JobSpec
from postdesk.observability import JOB_RUNS
from postdesk.uow import unit_of_work

if TYPE_CHECKING:
    from postdesk.runtime import Runtime

log = structlog.get_logger(__name__)


async def run_job_attempt(
    runtime: Runtime, spec: JobSpec, args: tuple, *, engine: str, attempt: int, job_id: str | None
) -> None:
    structlog.contextvars.bind_contextvars(job=spec.name, job_id=job_id, attempt=attempt)
    try:
        context = JobContext(runtime=runtime, engine=engine, attempt=attempt, job_id=job_id)
        async with asyncio.timeout(spec.timeout_seconds):
            if spec.transactional:
                async with unit_of_work(runtime) as session:
                    context.session = session
                    await spec.function(context, *args)
            else:
                await spec.function(context, *args)
        JOB_RUNS.labels(job=spec.name, outcome="ok").inc()
    except BaseException as exc:
        JOB_RUNS.labels(job=spec.name, outcome=type(exc).__name__).inc()
        raise
    finally:
        structlog.contextvars.unbind_contextvars("job", "job_id", "attempt")
