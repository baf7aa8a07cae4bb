"""Auto-replies: suppression for every automatic-mail signal, the per-sender hourly limit, and a reply
that really arrives (aiosmtpd), once, threaded under the customer's mail."""

from __future__ import annotations

import email
import uuid
from email import policy
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from postdesk.autoreplies import service as autoreply_service
from postdesk.autoreplies.service import address_reason, automation_reason
from postdesk.blacklist.models import BlacklistEntry, BlacklistReason, EntryKind
from postdesk.interactions.models import (
    Direction,
    Interaction,
    InteractionState,
    Message,
    MessageKind,
    MessageStatus,
)
from postdesk.mail.parse import AutomationHeaders, ParsedMessage, parse_message
from postdesk.runtime import Runtime
from postdesk.templates.models import Template, TemplateKind
from postdesk.uow import unit_of_work
from tests.conftest import eventually
from tests.delivery.stack import Tenant, make_tenant, received_from
from tests.support.smtp_server import SmtpTestServer

CUSTOMER = "ann@customer.example.test"


def customer_mail(*, sender: str = f"Ann Customer <{CUSTOMER}>", subject: str = "Where is my parcel?",
                  headers: dict[str, str] | None = None, content_type: str | None = None) -> bytes:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = "support@support.example.test"
    mail["Subject"] = subject
    mail["Message-ID"] = f"<{uuid.uuid4().hex}@customer.example.test>"
    mail["References"] = "<older@customer.example.test>"
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content("Hello, my parcel did not arrive.")
    raw = mail.as_bytes()
    if content_type:  # e.g. a delivery report
        raw = raw.replace(b"Content-Type: text/plain; charset=\"utf-8\"",
                          f"Content-Type: {content_type}; boundary=\"b\"".encode())
    return raw


# --- the suppression rules, one by one ---------------------------------------------------------------------


@pytest.mark.parametrize(("headers", "expected"), [
    ({"Auto-Submitted": "auto-replied"}, "Auto-Submitted: auto-replied"),
    ({"Auto-Submitted": "auto-generated"}, "Auto-Submitted: auto-generated"),
    ({"Precedence": "bulk"}, "Precedence: bulk"),
    ({"Precedence": "junk"}, "Precedence: junk"),
    ({"Precedence": "list"}, "Precedence: list"),
    ({"X-Auto-Response-Suppress": "OOF, AutoReply"}, "X-Auto-Response-Suppress"),
    ({"X-Loop": "helpdesk@example.test"}, "X-Loop"),
    ({"List-Id": "<news.example.test>"}, "List-Id"),
    ({"List-Unsubscribe": "<mailto:leave@example.test>"}, "List-Unsubscribe"),
    ({"Return-Path": "<>"}, "empty Return-Path"),
])
def test_automatic_mail_is_never_auto_answered(headers: dict[str, str], expected: str) -> None:
    parsed = parse_message(customer_mail(headers=headers))
    assert automation_reason(parsed.automation) == expected


def test_delivery_status_reports_are_never_auto_answered() -> None:
    parsed = parse_message(customer_mail(content_type="multipart/report; report-type=delivery-status"))
    assert automation_reason(parsed.automation) == "delivery or read report"


@pytest.mark.parametrize("headers", [{}, {"Auto-Submitted": "no"}, {"Precedence": "first-class"},
                                     {"Return-Path": "<ann@customer.example.test>"}])
def test_ordinary_customer_mail_may_be_auto_answered(headers: dict[str, str]) -> None:
    assert automation_reason(parse_message(customer_mail(headers=headers)).automation) is None


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@mx.example.test", "postmaster@example.test",
                                    "no-reply@shop.example.test", "noreply@shop.example.test",
                                    "noreply+orders@shop.example.test", "do-not-reply@bank.example.test",
                                    "owner-list@lists.example.test", "list-request@lists.example.test"])
def test_unattended_senders_are_never_auto_answered(sender: str) -> None:
    assert address_reason(sender, set()) == "unattended sender"


def test_our_own_addresses_are_never_auto_answered() -> None:
    assert address_reason("Support@Support.example.test", {"support@support.example.test"}) == "our own address"
    assert address_reason("ann@customer.example.test", {"support@support.example.test"}) is None


def test_default_automation_headers_allow_a_reply() -> None:
    assert automation_reason(AutomationHeaders()) is None


# --- through the database and a real SMTP server ---------------------------------------------------------------


async def auto_reply_tenant(runtime: Runtime, smtp: SmtpTestServer, *, with_template: bool = True) -> Tenant:
    tenant = await make_tenant(runtime, smtp=smtp)
    if with_template:
        async with unit_of_work(runtime) as session:
            template = Template(company_id=tenant.company_id, name=f"Ack {uuid.uuid4().hex[:6]}",
                                kind=TemplateKind.auto_reply, subject="We got your message [${reference}]",
                                html_body="<p>Dear ${customer_name},</p><p>${campaign} received “${subject}”.</p>",
                                text_body=None)
            session.add(template)
            await session.flush()
            from postdesk.campaigns.models import Campaign

            campaign = await session.get(Campaign, tenant.campaign_id)
            campaign.auto_reply_template_id = template.id
    return tenant


async def receive(runtime: Runtime, tenant: Tenant, raw: bytes) -> tuple[Interaction, Message | None]:
    """What the inbound pipeline does for a mail that opens an interaction, then the auto-reply hook."""
    parsed: ParsedMessage = parse_message(raw)
    sender = parsed.sender.address if parsed.sender else ""
    async with unit_of_work(runtime) as session:
        interaction = Interaction(company_id=tenant.company_id, campaign_id=tenant.campaign_id,
                                  customer_email=sender, customer_name=parsed.sender.name if parsed.sender else "",
                                  subject=parsed.subject, state=InteractionState.queued)
        session.add(interaction)
        await session.flush()
        message = Message(company_id=tenant.company_id, interaction_id=interaction.id, direction=Direction.inbound,
                          kind=MessageKind.customer, status=MessageStatus.received,
                          message_id_header=parsed.message_id, references=list(parsed.references),
                          subject=parsed.subject, from_address=sender, text_body=parsed.text or "")
        session.add(message)
        await session.flush()
        reply = await autoreply_service.maybe_auto_reply(session, interaction=interaction, parsed=parsed)
    return interaction, reply


async def outbound_of(runtime: Runtime, tenant: Tenant) -> list[Message]:
    async with unit_of_work(runtime) as session:
        rows = await session.scalars(select(Message).where(Message.company_id == tenant.company_id,
                                                           Message.direction == Direction.outbound))
        return list(rows.all())


async def test_auto_reply_arrives_once_threaded_and_marked_auto_replied(
    delivery_runtime: Runtime, smtp_server: SmtpTestServer
) -> None:
    tenant = await auto_reply_tenant(delivery_runtime, smtp_server)
    raw = customer_mail()
    interaction, reply = await receive(delivery_runtime, tenant, raw)
    assert reply is not None and reply.kind == MessageKind.auto_reply

    async def sent() -> bool:
        rows = await outbound_of(delivery_runtime, tenant)
        return len(rows) == 1 and rows[0].status == MessageStatus.sent

    await eventually(sent, timeout=30)
    assert len(received_from(smtp_server, tenant.sender_email)) == 1 and received_from(smtp_server, tenant.sender_email)[0].recipients == (CUSTOMER,)
    mail = email.message_from_bytes(received_from(smtp_server, tenant.sender_email)[0].content, policy=policy.default)
    original = parse_message(raw)

    def header(name: str) -> str:
        return " ".join(str(mail[name] or "").split())

    assert header("Auto-Submitted") == "auto-replied"
    assert header("In-Reply-To") == original.message_id
    assert header("References") == f"<older@customer.example.test> {original.message_id}"
    assert header("Subject") == f"We got your message [{interaction.reference}]"
    assert interaction.reference in header("Message-ID")  # replies to it thread back to the conversation
    body = mail.get_body(("plain",)).get_content()
    assert "Dear Ann Customer," in body and "received “Where is my parcel?”" in body
    html = mail.get_body(("html",)).get_content()
    assert "Billing" in html


async def test_at_most_the_hourly_limit_of_auto_replies_per_sender(
    delivery_runtime: Runtime, smtp_server: SmtpTestServer
) -> None:
    tenant = await auto_reply_tenant(delivery_runtime, smtp_server)
    replies = [(await receive(delivery_runtime, tenant, customer_mail(subject=f"Mail {n}")))[1] for n in range(5)]
    assert [reply is not None for reply in replies] == [True, True, True, False, False]
    other = (await receive(delivery_runtime, tenant, customer_mail(sender="bob@customer.example.test")))[1]
    assert other is not None  # the limit is per sender


@pytest.mark.parametrize("headers", [{"Auto-Submitted": "auto-replied"}, {"Precedence": "bulk"},
                                     {"List-Id": "<news.example.test>"}, {"X-Loop": "x@example.test"}])
async def test_automatic_mail_gets_no_auto_reply(
    delivery_runtime: Runtime, smtp_server: SmtpTestServer, headers: dict[str, str]
) -> None:
    tenant = await auto_reply_tenant(delivery_runtime, smtp_server)
    _, reply = await receive(delivery_runtime, tenant, customer_mail(headers=headers))
    assert reply is None and await outbound_of(delivery_runtime, tenant) == []


async def test_mail_from_our_own_server_address_gets_no_auto_reply(
    delivery_runtime: Runtime, smtp_server: SmtpTestServer
) -> None:
    tenant = await auto_reply_tenant(delivery_runtime, smtp_server)
    _, reply = await receive(delivery_runtime, tenant, customer_mail(sender=tenant.sender_email))
    assert reply is None


async def test_blacklisted_sender_gets_no_auto_reply(delivery_runtime: Runtime, smtp_server: SmtpTestServer) -> None:
    tenant = await auto_reply_tenant(delivery_runtime, smtp_server)
    async with unit_of_work(delivery_runtime) as session:
        session.add(BlacklistEntry(company_id=tenant.company_id, kind=EntryKind.address, value=CUSTOMER,
                                   reason=BlacklistReason.spam_report, source="test"))
    _, reply = await receive(delivery_runtime, tenant, customer_mail())
    assert reply is None


async def test_campaign_without_auto_reply_template_sends_nothing(
    delivery_runtime: Runtime, smtp_server: SmtpTestServer
) -> None:
    tenant = await auto_reply_tenant(delivery_runtime, smtp_server, with_template=False)
    _, reply = await receive(delivery_runtime, tenant, customer_mail())
    assert reply is None and await outbound_of(delivery_runtime, tenant) == []


async def test_auto_reply_goes_to_the_reply_to_address_when_given(
    delivery_runtime: Runtime, smtp_server: SmtpTestServer
) -> None:
    tenant = await auto_reply_tenant(delivery_runtime, smtp_server)
    _, reply = await receive(delivery_runtime, tenant,
                             customer_mail(headers={"Reply-To": "Ann at home <ann.home@customer.example.test>"}))
    assert reply is not None and reply.to == [{"address": "ann.home@customer.example.test", "name": "Ann at home"}]
