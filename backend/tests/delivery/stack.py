"""A delivery stack of its own for the delivery, auto-reply and rating tests: fresh database (and Redis
prefix + `postdesk worker` subprocess in production mode) whose settings point SendGrid at the local
stand-in. Its own stack because the worker reads `POSTDESK_SENDGRID_API_URL` at start, and the suite's
shared worker was started without it.

Import the fixtures by name in a conftest:
    from tests.delivery.stack import *  # noqa: F403
"""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from postdesk.app import create_app
from postdesk.runtime import Runtime
from tests.conftest import PASSWORD, TEST_MODE, _pg_admin, settings_from_env, start_worker, stop_process
from tests.support.fixtures import SMTP_PASSWORD, SMTP_USER, _sendgrid, _smtp_server, sendgrid, smtp_server
from tests.support.sendgrid_standin import SendGridStandIn
from tests.support.smtp_server import SmtpTestServer

__all__ = ["_sendgrid", "_smtp_server", "delivery_api", "delivery_app", "delivery_env", "delivery_runtime", "delivery_worker",
           "sendgrid", "smtp_server"]


@pytest.fixture(scope="session")
def delivery_env(settings_env: dict[str, str], _sendgrid: SendGridStandIn,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    env = {**settings_env, "POSTDESK_DATA_DIR": str(tmp_path_factory.mktemp("delivery-data")),
           "POSTDESK_SENDGRID_API_URL": _sendgrid.base_url,
           "POSTDESK_INBOUND_FETCHERS_ENABLED": "false"}
    database = None
    if TEST_MODE == "production":
        database = f"postdesk_delivery_{secrets.token_hex(4)}"
        asyncio.run(_pg_admin(f'CREATE DATABASE "{database}"'))
        env["POSTDESK_DATABASE_URL"] = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}"
        env["POSTDESK_REDIS_PREFIX"] = f"pddelivery-{secrets.token_hex(4)}"
    from postdesk.migrate import upgrade_to_head

    upgrade_to_head(settings_from_env(env))
    yield env
    if database:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def delivery_worker(delivery_env: dict[str, str]) -> Iterator[subprocess.Popen | None]:
    """The real arq worker that runs delivery jobs in production mode (None in embedded mode)."""
    if TEST_MODE != "production":
        yield None
        return
    with open(Path(delivery_env["POSTDESK_DATA_DIR"]) / "worker.log", "wb") as log_file:
        process = start_worker(delivery_env, log_file)
        yield process
        stop_process(process)


@pytest.fixture(scope="session")
async def delivery_app(delivery_env: dict[str, str], delivery_worker: object) -> AsyncIterator[FastAPI]:
    app = create_app(settings_from_env(delivery_env))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
def delivery_runtime(delivery_app: FastAPI) -> Runtime:
    return delivery_app.state.runtime


@pytest.fixture
async def delivery_api(delivery_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP client of the delivery stack's app (a distinct client address per test, for login throttling)."""
    address = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    transport = httpx.ASGITransport(app=delivery_app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


# --- data ------------------------------------------------------------------------------------------------------


@dataclass
class Tenant:
    company_id: uuid.UUID
    admin_id: uuid.UUID
    admin_email: str
    server_id: uuid.UUID
    campaign_id: uuid.UUID
    sender_email: str


async def make_tenant(runtime: Runtime, *, smtp: SmtpTestServer | None = None, sendgrid: SendGridStandIn | None = None,
                      **campaign_fields: Any) -> Tenant:
    """A company (with its admin), a default email server (SMTP on the test server, or SendGrid on the
    stand-in) and a campaign sending through it; written through the services where they take no caller."""
    from postdesk.accounts import service as accounts_service
    from postdesk.accounts.schemas import CompanyCreate
    from postdesk.campaigns.models import Campaign
    from postdesk.servers.models import EmailServer, Security, ServerType
    from postdesk.uow import unit_of_work

    suffix = uuid.uuid4().hex[:10]
    admin_email = f"admin-{suffix}@example.test"
    sender_email = f"support-{suffix}@support.example.test"
    box = runtime.secret_box
    async with unit_of_work(runtime) as session:
        company = await accounts_service.create_company(session, CompanyCreate(
            name=f"Delivery {suffix}", admin_email=admin_email, admin_name="Admin", admin_password=PASSWORD))
        if sendgrid is not None:
            server = EmailServer(company_id=company.id, name="SendGrid", server_type=ServerType.sendgrid,
                                 is_default=True, sender_email=sender_email, sender_name="Support Desk",
                                 reply_to=f"replies-{suffix}@support.example.test",
                                 sendgrid_api_token_encrypted=box.encrypt(sendgrid.api_key))
        else:
            assert smtp is not None
            server = EmailServer(company_id=company.id, name="Relay", server_type=ServerType.smtp, is_default=True,
                                 sender_email=sender_email, sender_name="Support Desk",
                                 reply_to=f"replies-{suffix}@support.example.test", smtp_host="localhost",
                                 smtp_port=smtp.port, smtp_security=Security.starttls, smtp_username=SMTP_USER,
                                 smtp_password_encrypted=box.encrypt(SMTP_PASSWORD))
        session.add(server)
        await session.flush()
        campaign = Campaign(company_id=company.id, title=f"Billing {suffix}", email_server_id=server.id,
                            **{"from_name": "Billing Team", **campaign_fields})
        session.add(campaign)
        await session.flush()
        from postdesk.accounts.models import User

        admin_id = await session.scalar(select(User.id).where(User.email == admin_email))
    return Tenant(company.id, admin_id, admin_email, server.id, campaign.id, sender_email)


async def make_conversation(runtime: Runtime, tenant: Tenant, *, customer: str = "ann@customer.example.test",
                            subject: str = "Invoice 42 is wrong") -> tuple[uuid.UUID, uuid.UUID, str]:
    """An interaction opened by a customer's mail; returns (interaction id, customer message id, its Message-ID)."""
    from postdesk.interactions.models import (
        Direction,
        Interaction,
        InteractionState,
        Message,
        MessageKind,
        MessageStatus,
    )
    from postdesk.uow import unit_of_work

    customer_message_id = f"<{uuid.uuid4().hex}@customer.example.test>"
    async with unit_of_work(runtime) as session:
        interaction = Interaction(company_id=tenant.company_id, campaign_id=tenant.campaign_id,
                                  customer_email=customer, customer_name="Ann Customer", subject=subject,
                                  state=InteractionState.assigned, agent_id=tenant.admin_id)
        session.add(interaction)
        await session.flush()
        message = Message(company_id=tenant.company_id, interaction_id=interaction.id, direction=Direction.inbound,
                          kind=MessageKind.customer, status=MessageStatus.received,
                          message_id_header=customer_message_id, subject=subject, from_address=customer,
                          from_name="Ann Customer", to=[{"address": tenant.sender_email, "name": ""}],
                          text_body="My invoice is wrong.")
        session.add(message)
        await session.flush()
    return interaction.id, message.id, customer_message_id


def received_from(smtp: SmtpTestServer, sender: str) -> list:
    """Mail the test SMTP server got from one sender: late deliveries of earlier tests don't count."""
    return [mail for mail in smtp.received if mail.mail_from.lower() == sender.lower()]
