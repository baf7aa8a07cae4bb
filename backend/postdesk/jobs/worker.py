"""arq WorkerSettings for `postdesk worker`: the same job functions, run by arq processes."""

from __future__ import annotations

from typing import Any

from arq import Retry
from arq.cron import CronJob, cron
from arq.worker import Function, func

from postdesk.jobs.arq_engine import queue_name, redis_settings
from postdesk.jobs.execution import run_job_attempt
from postdesk.jobs.registry import JOBS, PERIODIC, JobSpec, RetryLater, load_job_modules
from postdesk.observability import configure_logging
from postdesk.settings import get_settings


def _arq_function(spec: JobSpec) -> Function:
    async def run(ctx: dict[str, Any], *args: str) -> None:
        try:
            await run_job_attempt(
                ctx["runtime"], spec, args, engine="arq", attempt=ctx["job_try"], job_id=ctx.get("job_id")
            )
        except RetryLater as retry:
            if ctx["job_try"] >= spec.max_tries:
                raise
            raise Retry(defer=retry.defer_seconds) from retry

    run.__qualname__ = run.__name__ = spec.name
    return func(run, name=spec.name, max_tries=spec.max_tries, timeout=spec.timeout_seconds, keep_result=0)


def _arq_cron(function: Function, job_name: str) -> CronJob:
    spec = next(p for p in PERIODIC if p.job_name == job_name)
    return cron(
        function.coroutine,
        name=f"cron:{job_name}",
        hour=set(spec.hour) if spec.hour is not None else None,
        minute=set(spec.minute) if spec.minute is not None else None,
        second=set(spec.second),
        run_at_startup=spec.run_at_startup,
        unique=True,  # one run per tick across every worker process
        keep_result=0,
    )


async def _startup(ctx: dict[str, Any]) -> None:
    from postdesk.runtime import Runtime

    ctx["runtime"] = await Runtime.start(get_settings(), role="worker")


async def _shutdown(ctx: dict[str, Any]) -> None:
    runtime = ctx.get("runtime")
    if runtime is not None:
        await runtime.stop()


def build_worker_settings() -> type:
    settings = get_settings()
    if settings.mode != "production":
        raise SystemExit("postdesk worker needs POSTDESK_REDIS_URL (production mode); embedded mode runs jobs in the API")
    configure_logging(settings.log_level, settings.log_format)
    load_job_modules()
    functions = {name: _arq_function(spec) for name, spec in JOBS.items()}
    return type(
        "WorkerSettings",
        (),
        {
            "functions": list(functions.values()),
            "cron_jobs": [_arq_cron(functions[p.job_name], p.job_name) for p in PERIODIC],
            "redis_settings": redis_settings(settings.redis_url or ""),
            "queue_name": queue_name(settings.redis_prefix),
            "on_startup": _startup,
            "on_shutdown": _shutdown,
            "max_jobs": 20,
            "keep_result": 0,
            "health_check_key": f"{settings.redis_prefix}:worker-health",
        },
    )
