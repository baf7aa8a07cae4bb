"""Fixtures for the whole suite, in the mode chosen by POSTDESK_TEST_MODE:

- embedded (default): SQLite in a temporary directory, jobs run in-process by the app's runtime;
- production: a fresh PostgreSQL database, Redis under a fresh prefix, and a real `postdesk worker`
  (arq) subprocess running the jobs.

Each test works in companies of its own, so tests share one migrated database without seeing each other.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
import uvicorn
from cryptography.fernet import Fernet
from fastapi import FastAPI

from postdesk.app import create_app
from postdesk.runtime import Runtime
from postdesk.settings import REPO_ROOT, Settings
from tests.support.certs import TestCertificates, make_test_certificates

TEST_MODE = os.environ.get("POSTDESK_TEST_MODE", "embedded")
PG_ADMIN_DSN = os.environ.get("POSTDESK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("POSTDESK_TEST_REDIS", "redis://127.0.0.1:6379/0")
PASSWORD = "correct horse battery"


def pytest_report_header() -> str:
    return f"postdesk test mode: {TEST_MODE}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def test_mode() -> str:
    return TEST_MODE


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> TestCertificates:
    """A private CA and a certificate for `localhost`, trusted by Postdesk for mail servers in tests."""
    return make_test_certificates(tmp_path_factory.mktemp("certificates"))


@pytest.fixture(scope="session")
def settings_env(tmp_path_factory: pytest.TempPathFactory, certificates: TestCertificates) -> Iterator[dict[str, str]]:
    """POSTDESK_* variables for this run: used by the in-process app and by worker subprocesses."""
    data_dir = tmp_path_factory.mktemp("postdesk-data")
    env = {
        "POSTDESK_DATA_DIR": str(data_dir),
        "POSTDESK_SECRET_KEY": secrets.token_urlsafe(48),
        "POSTDESK_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "POSTDESK_NETWORK_ALLOW": "127.0.0.0/8,::1/128,localhost",
        "POSTDESK_LOG_LEVEL": "WARNING",
        "POSTDESK_MAIL_TIMEOUT_SECONDS": "4",
        "POSTDESK_MAIL_CA_FILE": str(certificates.ca_file),
    }
    if TEST_MODE == "production":
        database = f"postdesk_test_{secrets.token_hex(4)}"
        asyncio.run(_pg_admin(f'CREATE DATABASE "{database}"'))
        env["POSTDESK_DATABASE_URL"] = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}"
        env["POSTDESK_REDIS_URL"] = REDIS_URL
        env["POSTDESK_REDIS_PREFIX"] = f"pdtest-{secrets.token_hex(4)}"
        yield env
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    else:
        yield env


async def _pg_admin(statement: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def settings_from_env(env: dict[str, str], **overrides: object) -> Settings:
    fields = {key.removeprefix("POSTDESK_").lower(): value for key, value in env.items()}
    return Settings(**{**fields, **overrides})  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def settings(settings_env: dict[str, str]) -> Settings:
    from postdesk.migrate import upgrade_to_head

    settings = settings_from_env(settings_env)
    upgrade_to_head(settings)
    return settings


@pytest.fixture(scope="session")
def worker_process(settings: Settings, settings_env: dict[str, str]) -> Iterator[subprocess.Popen | None]:
    """A real arq worker in production mode (None in embedded mode, where the app runs jobs)."""
    if TEST_MODE != "production":
        yield None
        return
    log_path = Path(settings_env["POSTDESK_DATA_DIR"]) / "worker.log"
    with open(log_path, "wb") as log_file:
        process = start_worker(settings_env, log_file)
        yield process
        stop_process(process)


def start_worker(env: dict[str, str], log_file) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "postdesk", "worker"],
        env={**os.environ, **env},
        stdout=log_file,
        stderr=subprocess.STDOUT,
        cwd=REPO_ROOT,
    )


def stop_process(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
async def app(settings: Settings, worker_process: object) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
def runtime(app: FastAPI) -> Runtime:
    return app.state.runtime


@pytest.fixture(scope="session")
async def live_server(app: FastAPI) -> AsyncIterator[str]:
    """The same app served over real HTTP/WebSocket on 127.0.0.1 (lifespan already running)."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning", ws="websockets-sansio")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    # A distinct client address per test keeps login throttling of one test away from the others.
    address = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@dataclass
class Account:
    """A user of a test company, with the headers to call the API as them."""

    id: str
    email: str
    password: str
    role: str
    company_id: str
    headers: dict[str, str]


@dataclass
class TestCompany:
    id: str
    name: str
    admin: Account


async def login_headers(client: httpx.AsyncClient, email: str, password: str) -> dict[str, str]:
    response = await client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def make_company(runtime: Runtime, client: httpx.AsyncClient):
    """Create a company with its admin through the service layer and sign the admin in."""
    from postdesk.accounts import service as accounts_service
    from postdesk.accounts.schemas import CompanyCreate
    from postdesk.uow import unit_of_work

    async def make(name: str | None = None) -> TestCompany:
        suffix = uuid.uuid4().hex[:10]
        email = f"admin-{suffix}@example.test"
        async with unit_of_work(runtime) as session:
            company = await accounts_service.create_company(
                session,
                CompanyCreate(name=name or f"Company {suffix}", admin_email=email, admin_name=f"Admin {suffix}",
                              admin_password=PASSWORD),
            )
        headers = await login_headers(client, email, PASSWORD)
        me = (await client.get("/api/auth/me", headers=headers)).json()
        admin = Account(me["id"], email, PASSWORD, "admin", str(company.id), headers)
        return TestCompany(str(company.id), company.name, admin)

    return make


@pytest.fixture
def make_user(client: httpx.AsyncClient):
    """Create a user in a company through the API (as its admin) and sign them in."""

    async def make(company: TestCompany, role: str = "agent", name: str | None = None) -> Account:
        email = f"{role}-{uuid.uuid4().hex[:10]}@example.test"
        response = await client.post(
            "/api/users",
            headers=company.admin.headers,
            json={"email": email, "name": name or f"{role.title()} {email[:12]}", "role": role, "password": PASSWORD},
        )
        assert response.status_code == 201, response.text
        headers = await login_headers(client, email, PASSWORD)
        return Account(response.json()["id"], email, PASSWORD, role, company.id, headers)

    return make


@pytest.fixture
async def company(make_company) -> TestCompany:
    return await make_company()


async def eventually(check, *, timeout: float = 15, interval: float = 0.1):
    """Poll an async check until it returns a truthy value (background work finishing)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last result: {result!r})")
        await asyncio.sleep(interval)
