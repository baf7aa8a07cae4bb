"""One job interface, two engines: after-commit dispatch, idempotent ids, the same job in both modes."""

from __future__ import annotations

import uuid

import pytest
from fastapi import APIRouter

from postdesk.deps import SessionDep
from postdesk.errors import Conflict
from postdesk.system.models import JobCheck
from postdesk.uow import enqueue, unit_of_work
from tests.conftest import eventually


async def _check(client, company, check_id: str) -> dict:
    response = await client.get(f"/api/system/job-checks/{check_id}", headers=company.admin.headers)
    assert response.status_code == 200
    return response.json()


async def _completed(client, company, check_id: str) -> dict:
    async def done():
        body = await _check(client, company, check_id)
        return body if body["completed_at"] else None

    return await eventually(done)


async def test_the_same_job_runs_on_the_engine_of_the_mode(client, company, test_mode):
    response = await client.post("/api/system/job-checks", headers=company.admin.headers)
    assert response.status_code == 202
    check = await _completed(client, company, response.json()["id"])
    assert check["engine"] == ("arq" if test_mode == "production" else "in-process")
    assert check["runs"] == 1
    assert check["worker"]


async def test_enqueue_outside_a_unit_of_work_is_refused():
    with pytest.raises(RuntimeError, match="outside a unit of work"):
        enqueue("system.heartbeat")


async def _committed_check(runtime, company_id: str) -> str:
    async with unit_of_work(runtime) as session:
        check = JobCheck(company_id=uuid.UUID(company_id))
        session.add(check)
        await session.flush()
        return str(check.id)


async def test_a_rolled_back_unit_of_work_enqueues_nothing(client, company, runtime):
    target = await _committed_check(runtime, company.id)
    with pytest.raises(ValueError):
        async with unit_of_work(runtime):
            enqueue("system.complete_job_check", target)
            raise ValueError("the transaction fails after enqueueing")

    # A later job on the same queue completes; the rolled-back one never ran.
    sentinel = await client.post("/api/system/job-checks", headers=company.admin.headers)
    await _completed(client, company, sentinel.json()["id"])
    assert (await _check(client, company, target))["runs"] == 0


async def test_a_failed_request_enqueues_nothing(client, company, runtime, app):
    router = APIRouter()

    @router.post("/api/test-only/enqueue-then-fail/{check_id}")
    async def enqueue_then_fail(check_id: str, session: SessionDep) -> None:
        enqueue("system.complete_job_check", check_id)
        raise Conflict("check_id", "refused after enqueueing")

    app.include_router(router)
    target = await _committed_check(runtime, company.id)
    failed = await client.post(f"/api/test-only/enqueue-then-fail/{target}")
    assert failed.status_code == 409

    sentinel = await client.post("/api/system/job-checks", headers=company.admin.headers)
    await _completed(client, company, sentinel.json()["id"])
    assert (await _check(client, company, target))["runs"] == 0


async def test_an_idempotent_job_id_runs_once(client, company, runtime):
    target = await _committed_check(runtime, company.id)
    async with unit_of_work(runtime):
        for _ in range(3):
            enqueue("system.complete_job_check", target, job_id=f"job-check:{target}")
    check = await _completed(client, company, target)
    sentinel = await client.post("/api/system/job-checks", headers=company.admin.headers)
    await _completed(client, company, sentinel.json()["id"])
    assert (await _check(client, company, check["id"]))["runs"] == 1


async def test_periodic_heartbeat_shows_the_worker(client, company, test_mode):
    async def worker_seen():
        status = (await client.get("/api/system/status", headers=company.admin.headers)).json()
        return status if status["workers"] else None

    status = await eventually(worker_seen)
    assert status["mode"] == test_mode
    assert status["database"] == ("postgresql" if test_mode == "production" else "sqlite")
    assert status["workers"][0]["engine"] == ("arq" if test_mode == "production" else "in-process")
