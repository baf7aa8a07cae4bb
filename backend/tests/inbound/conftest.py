"""An inbound stack of its own: fresh database (and Redis prefix in production), short fetcher
intervals, the app, and in production a `postdesk worker` subprocess that runs the fetchers.

Its own stack (not the suite's app) because fetcher intervals are settings read at start, and the
crash tests kill and restart the fetching process, which must not be the suite's shared worker.
"""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from postdesk.app import create_app
from postdesk.runtime import Runtime
from tests.conftest import (
    PASSWORD,
    TEST_MODE,
    _pg_admin,
    eventually,
    login_headers,
    settings_from_env,
    start_worker,
    stop_process,
)
from tests.support.dovecot import DovecotServer
from tests.support.fixtures import dovecot  # noqa: F401 - fixture found by name

FAST = {
    "POSTDESK_INBOUND_RECONCILE_SECONDS": "0.3",
    "POSTDESK_INBOUND_POLL_SECONDS": "0.5",
    "POSTDESK_INBOUND_IDLE_SECONDS": "20",
    "POSTDESK_INBOUND_LOCK_SECONDS": "3",
    "POSTDESK_INBOUND_MAX_BACKOFF_SECONDS": "1",
    "POSTDESK_INBOUND_BATCH_SIZE": "10",
}


def isolated_env(base: dict[str, str], data_dir: Path) -> tuple[dict[str, str], str | None]:
    """A copy of the suite's settings with its own data dir, database and Redis prefix."""
    env = {**base, **FAST, "POSTDESK_DATA_DIR": str(data_dir)}
    database = None
    if TEST_MODE == "production":
        database = f"postdesk_inbound_{secrets.token_hex(4)}"
        asyncio.run(_pg_admin(f'CREATE DATABASE "{database}"'))
        env["POSTDESK_DATABASE_URL"] = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}"
        env["POSTDESK_REDIS_PREFIX"] = f"pdinbound-{secrets.token_hex(4)}"
    return env, database


def drop_database(database: str | None) -> None:
    if database:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def inbound_env(settings_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    env, database = isolated_env(settings_env, tmp_path_factory.mktemp("inbound-data"))
    from postdesk.migrate import upgrade_to_head

    upgrade_to_head(settings_from_env(env))
    yield env
    drop_database(database)


@pytest.fixture(scope="session")
def inbound_worker(inbound_env: dict[str, str]) -> Iterator[subprocess.Popen | None]:
    if TEST_MODE != "production":
        yield None
        return
    with open(Path(inbound_env["POSTDESK_DATA_DIR"]) / "worker.log", "wb") as log_file:
        process = start_worker(inbound_env, log_file)
        yield process
        stop_process(process)


@pytest.fixture(scope="session")
async def inbound_app(inbound_env: dict[str, str], inbound_worker: object):
    app = create_app(settings_from_env(inbound_env))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
def stack_runtime(inbound_app) -> Runtime:
    return inbound_app.state.runtime


@pytest.fixture
async def api(inbound_app) -> AsyncIterator[httpx.AsyncClient]:
    address = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    transport = httpx.ASGITransport(app=inbound_app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@dataclass
class Tenant:
    """A company with a receiving server on a fresh Dovecot mailbox and a campaign using it."""

    company_id: uuid.UUID
    server_id: uuid.UUID
    campaign_id: uuid.UUID
    mailbox: str
    mailbox_password: str
    admin_email: str
    headers: dict[str, str]


async def seed_tenant(runtime: Runtime, dovecot: DovecotServer, *, protocol: str = "imap",  # noqa: F811
                      after_fetch: str = "mark_seen", max_in_queue: int | None = None,
                      campaign_enabled: bool = True, mailbox: tuple[str, str] | None = None) -> Tenant:
    """Create company, server and campaign through the services (as the admin would)."""
    from postdesk.accounts import service as accounts_service
    from postdesk.accounts.caller import Caller
    from postdesk.accounts.models import Role
    from postdesk.accounts.schemas import CompanyCreate
    from postdesk.campaigns import service as campaign_service
    from postdesk.campaigns.schemas import CampaignCreate
    from postdesk.servers import service as server_service
    from postdesk.servers.schemas import EmailServerCreate
    from postdesk.uow import unit_of_work

    address, password = mailbox or dovecot.new_user()
    suffix = uuid.uuid4().hex[:10]
    admin_email = f"admin-{suffix}@example.test"
    async with unit_of_work(runtime) as session:
        company = await accounts_service.create_company(session, CompanyCreate(
            name=f"Inbound {suffix}", admin_email=admin_email, admin_name="Admin", admin_password=PASSWORD))
    caller = Caller(company_id=company.id, role=Role.admin)
    network = server_service.MailNetwork(guard=runtime.network_guard, tls_context=runtime.mail_tls_context)
    port = dovecot.imap_port if protocol == "imap" else dovecot.pop3_port
    async with unit_of_work(runtime) as session:
        server = await server_service.create_server(session, caller, EmailServerCreate(
            name="Support mailbox", sender_email=f"support-{suffix}@example.test", smtp_host="localhost",
            smtp_port=2525, incoming_protocol=protocol, incoming_host="localhost", incoming_port=port,
            incoming_security="starttls", incoming_username=address, incoming_password=password,
            after_fetch=after_fetch), box=runtime.secret_box, network=network)
    async with unit_of_work(runtime) as session:
        campaign = await campaign_service.create_campaign(session, caller, CampaignCreate(
            title=f"Support {suffix}", email_server_id=server.id, enabled=campaign_enabled,
            max_interactions_in_queue=max_in_queue))
    return Tenant(company.id, server.id, campaign.id, address, password, admin_email, {})


def customer_mail(*, sender: str = "Customer <customer@example.org>", to: str = "support@example.test",
                  subject: str = "Help please", body: str = "My order has not arrived.",
                  message_id: str | None = None, in_reply_to: str | None = None,
                  references: list[str] | None = None, html: str | None = None,
                  attachment: tuple[str, bytes] | None = None, headers: dict[str, str] | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = "Mon, 23 Nov 2026 09:00:00 +0000"
    message["Message-ID"] = message_id or make_msgid(domain="example.org")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = " ".join(references)
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if html:
        message.add_alternative(html, subtype="html")
    if attachment:
        message.add_attachment(attachment[1], maintype="application", subtype="pdf", filename=attachment[0])
    return message.as_bytes()


async def count(runtime: Runtime, model, *where) -> int:
    async with runtime.session_maker() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def rows(runtime: Runtime, model, *where, order_by=None) -> list:
    async with runtime.session_maker() as session:
        query = select(model).where(*where)
        if order_by is not None:
            query = query.order_by(order_by)
        return list((await session.scalars(query)).all())


async def admin_headers(api: httpx.AsyncClient, tenant: Tenant) -> dict[str, str]:
    return await login_headers(api, tenant.admin_email, PASSWORD)


__all__ = ["Tenant", "admin_headers", "count", "customer_mail", "eventually", "rows", "seed_tenant"]
