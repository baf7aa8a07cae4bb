from __future__ import annotations

import uuid

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from postdesk.deps import AdminCaller, RuntimeDep, SessionDep
from postdesk.errors import ERROR_RESPONSES
from postdesk.system import service
from postdesk.system.schemas import Health, JobCheckPublic, SystemStatus

health_router = APIRouter(tags=["health"])
system_router = APIRouter(prefix="/api/system", tags=["system"], responses=ERROR_RESPONSES)


@health_router.get("/healthz")
async def healthz() -> Health:
    """The process is up (liveness)."""
    return Health(status="ok")


@health_router.get("/readyz", responses={503: {"model": Health}})
async def readyz(runtime: RuntimeDep, response: Response) -> Health:
    """The process can serve: database reachable and, in production, Redis too."""
    checks: dict[str, str] = {}
    try:
        async with runtime.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - readiness reports, it does not raise
        checks["database"] = f"error: {type(exc).__name__}"
    if runtime.redis is not None:
        try:
            await runtime.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    response.status_code = 200 if ready else 503
    return Health(status="ok" if ready else "unavailable", checks=checks)


@health_router.get("/metrics", response_class=Response, include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@system_router.get("/status")
async def get_status(session: SessionDep, runtime: RuntimeDep, _: AdminCaller) -> SystemStatus:
    return await service.status(session, runtime.settings)


@system_router.post("/job-checks", status_code=202)
async def create_job_check(session: SessionDep, caller: AdminCaller) -> JobCheckPublic:
    """Queue a job that proves background processing works; poll the check until it completes."""
    return JobCheckPublic.model_validate(await service.request_job_check(session, caller))


@system_router.get("/job-checks/{check_id}")
async def get_job_check(check_id: uuid.UUID, session: SessionDep, caller: AdminCaller) -> JobCheckPublic:
    return JobCheckPublic.model_validate(await service.get_job_check(session, caller, check_id))


routers = [health_router, system_router]
