"""Production job engine: hands jobs to arq on Redis; `postdesk worker` processes run them."""

from __future__ import annotations

from arq.connections import ArqRedis, RedisSettings, create_pool

from postdesk.uow import JobRequest


def redis_settings(url: str) -> RedisSettings:
    return RedisSettings.from_dsn(url)


def queue_name(prefix: str) -> str:
    return f"{prefix}:jobs"


class ArqJobEngine:
    name = "arq"

    def __init__(self, redis_url: str, prefix: str) -> None:
        self._redis_url = redis_url
        self._queue_name = queue_name(prefix)
        self._pool: ArqRedis | None = None

    async def start(self) -> None:
        self._pool = await create_pool(redis_settings(self._redis_url), default_queue_name=self._queue_name)

    async def stop(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None

    async def submit(self, requests: list[JobRequest]) -> None:
        assert self._pool is not None, "arq engine not started"
        for request in requests:
            # With keep_result=0, arq ignores a _job_id while that job is queued or running.
            await self._pool.enqueue_job(
                request.name,
                *request.args,
                _job_id=request.job_id,
                _defer_by=request.defer_seconds,
                _queue_name=self._queue_name,
            )

    async def wait_idle(self, timeout: float = 30) -> None:
        raise NotImplementedError("the arq engine's jobs run in other processes")
