"""End to end: customer mail delivered to Dovecot, fetched by the inbound pipeline's fetchers, and the
campaign's auto-reply received once, threaded, by a real SMTP server (aiosmtpd). Runs on the inbound
pipeline's own stack (tests/inbound/conftest.py)."""

from __future__ import annotations

import asyncio
import email
import uuid
from email import policy

from sqlalchemy import select, update

from postdesk.campaigns.models import Campaign
from postdesk.interactions.models import Interaction
from postdesk.servers.models import EmailServer, Security
from postdesk.templates.models import Template, TemplateKind
from postdesk.uow import unit_of_work
from tests.conftest import eventually
from tests.delivery.stack import received_from
from tests.inbound.conftest import (  # noqa: F401 - fixtures found by name
    count,
    customer_mail,
    inbound_app,
    inbound_env,
    inbound_worker,
    seed_tenant,
    stack_runtime,
)
from tests.support.fixtures import SMTP_PASSWORD, SMTP_USER, dovecot  # noqa: F401
from tests.support.smtp_server import SmtpTestServer


async def test_customer_mail_through_dovecot_gets_one_threaded_auto_reply(
    stack_runtime, dovecot, smtp_server: SmtpTestServer  # noqa: F811
) -> None:
    tenant = await seed_tenant(stack_runtime, dovecot)
    async with unit_of_work(stack_runtime) as session:
        # The seeded server sends nowhere; point it at the test SMTP server and give the campaign an auto-reply.
        await session.execute(update(EmailServer).where(EmailServer.id == tenant.server_id).values(
            smtp_port=smtp_server.port, smtp_security=Security.starttls, smtp_username=SMTP_USER,
            smtp_password_encrypted=stack_runtime.secret_box.encrypt(SMTP_PASSWORD)))
        template = Template(company_id=tenant.company_id, name=f"Ack {uuid.uuid4().hex[:6]}",
                            kind=TemplateKind.auto_reply, subject="Re: ${subject} [${reference}]",
                            html_body="<p>Hello ${customer_name}, we will answer soon.</p>")
        session.add(template)
        await session.flush()
        await session.execute(update(Campaign).where(Campaign.id == tenant.campaign_id)
                              .values(auto_reply_template_id=template.id))

    customer_id = f"<{uuid.uuid4().hex}@example.org>"
    await dovecot.deliver(tenant.mailbox, customer_mail(message_id=customer_id, subject="Broken parcel"))
    # An automatic mail in the same mailbox: ingested, never answered.
    await dovecot.deliver(tenant.mailbox, customer_mail(sender="Robot <robot@example.org>", subject="Out of office",
                                                        headers={"Auto-Submitted": "auto-replied"}))

    async with stack_runtime.session_maker() as session:
        sender = await session.scalar(select(EmailServer.sender_email).where(EmailServer.id == tenant.server_id))
    await eventually(lambda: _received(smtp_server, sender), timeout=40)
    await eventually(lambda: _count_interactions(stack_runtime, tenant.company_id, 2), timeout=40)
    await asyncio.sleep(2)  # nothing else follows: no second reply, none to the robot
    assert len(received_from(smtp_server, sender)) == 1
    received = received_from(smtp_server, sender)[0]
    assert received.recipients == ("customer@example.org",)
    mail = email.message_from_bytes(received.content, policy=policy.default)

    def header(name: str) -> str:
        return " ".join(str(mail[name] or "").split())

    async with stack_runtime.session_maker() as session:
        interaction = await session.scalar(
            select(Interaction).where(Interaction.company_id == tenant.company_id,
                                      Interaction.subject == "Broken parcel"))
    reference = interaction.reference
    assert header("Auto-Submitted") == "auto-replied"
    assert header("In-Reply-To") == customer_id and header("References") == customer_id
    assert header("Subject") == f"Re: Broken parcel [{reference}]"
    assert reference in header("Message-ID")
    assert "Hello Customer, we will answer soon." in mail.get_body(("plain",)).get_content()


async def _received(smtp_server: SmtpTestServer, sender: str) -> bool:
    return bool(received_from(smtp_server, sender))


async def _count_interactions(runtime, company_id, expected: int) -> bool:
    return await count(runtime, Interaction, Interaction.company_id == company_id) >= expected
