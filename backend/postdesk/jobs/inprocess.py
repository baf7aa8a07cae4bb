"""Embedded-mode job engine: runs jobs and periodic jobs as tasks inside the API process.

Same semantics as the arq engine: retries only on RetryLater, up to max_tries; a job id is
ignored while a job with that id is queued or running.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import structlog
from arq.cron import next_cron

from postdesk.jobs.execution import run_job_attempt
from postdesk.jobs.registry import JOBS, PERIODIC, PeriodicSpec, RetryLater
from postdesk.uow import JobRequest

if TYPE_CHECKING:
    from postdesk.runtime import Runtime

log = structlog.get_logger(__name__)


class InProcessJobEngine:
    name = "in-process"

    def __init__(self, runtime: Runtime, concurrency: int) -> None:
        self._runtime = runtime
        self._concurrency = concurrency
        self._queue: list[tuple[float, int, JobRequest, int]] = []  # (due monotonic, seq, request, attempt)
        self._seq = itertools.count()
        self._active_ids: set[str] = set()
        self._wakeup = asyncio.Event()
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._tasks: list[asyncio.Task] = []

    async def submit(self, requests: list[JobRequest]) -> None:
        for request in requests:
            if request.job_id is not None:
                if request.job_id in self._active_ids:
                    continue
                self._active_ids.add(request.job_id)
            self._push(request, attempt=1, delay=request.defer_seconds or 0)

    def _push(self, request: JobRequest, *, attempt: int, delay: float) -> None:
        heapq.heappush(self._queue, (time.monotonic() + delay, next(self._seq), request, attempt))
        self._idle.clear()
        self._wakeup.set()

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._work(), name=f"jobs-{i}") for i in range(self._concurrency)]
        self._tasks += [asyncio.create_task(self._schedule(spec), name=f"cron-{spec.job_name}") for spec in PERIODIC]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def wait_idle(self, timeout: float = 30) -> None:
        """Wait until nothing is queued for now or running (tests use it to await side effects)."""
        async with asyncio.timeout(timeout):
            while True:
                await self._idle.wait()
                if not self._due_or_running():
                    return
                await asyncio.sleep(0.01)

    def _due_or_running(self) -> bool:
        return self._running > 0 or bool(self._queue and self._queue[0][0] <= time.monotonic())

    async def _work(self) -> None:
        while True:
            request, attempt = await self._next_due()
            self._running += 1
            try:
                await self._run(request, attempt)
            finally:
                self._running -= 1
                if not self._due_or_running():
                    self._idle.set()

    async def _next_due(self) -> tuple[JobRequest, int]:
        while True:
            now = time.monotonic()
            if self._queue and self._queue[0][0] <= now:
                _, _, request, attempt = heapq.heappop(self._queue)
                return request, attempt
            if not self._queue and self._running == 0:
                self._idle.set()
            timeout = (self._queue[0][0] - now) if self._queue else None
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout)
            except TimeoutError:
                pass

    async def _run(self, request: JobRequest, attempt: int) -> None:
        spec = JOBS[request.name]
        try:
            await run_job_attempt(
                self._runtime, spec, request.args, engine=self.name, attempt=attempt, job_id=request.job_id
            )
        except RetryLater as retry:
            if attempt < spec.max_tries:
                self._push(request, attempt=attempt + 1, delay=retry.defer_seconds)
                return
            log.error("job_gave_up", job=request.name, attempts=attempt, reason=str(retry))
        except Exception:
            log.exception("job_failed", job=request.name, attempt=attempt)
        self._release_id(request)

    def _release_id(self, request: JobRequest) -> None:
        if request.job_id is not None:
            self._active_ids.discard(request.job_id)

    async def _schedule(self, spec: PeriodicSpec) -> None:
        if spec.run_at_startup:
            await self.submit([JobRequest(spec.job_name, (), job_id=f"cron:{spec.job_name}")])
        while True:
            now = datetime.now(UTC)
            due = next_cron(now, hour=_opt(spec.hour), minute=_opt(spec.minute), second=set(spec.second),
                            microsecond=123_456)
            await asyncio.sleep((due - now).total_seconds())
            await self.submit([JobRequest(spec.job_name, (), job_id=f"cron:{spec.job_name}")])


def _opt(values: frozenset[int] | None) -> set[int] | None:
    return set(values) if values is not None else None
