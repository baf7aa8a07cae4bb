"""Outbound delivery through a real SMTP server (aiosmtpd) and the SendGrid stand-in; in production mode
the job runs in a real `postdesk worker` (arq) process."""

from __future__ import annotations

import asyncio
import email
import uuid
from datetime import timedelta
from email import policy

import pytest
from sqlalchemy import select

from postdesk.db import utcnow
from postdesk.delivery import service as delivery_service
from postdesk.delivery.models import OutboxEntry
from postdesk.errors import Invalid
from postdesk.interactions.models import Attachment, Direction, Message, MessageKind, MessageStatus
from postdesk.runtime import Runtime
from postdesk.uow import unit_of_work
from tests.conftest import eventually
from tests.delivery.stack import Tenant, make_conversation, make_tenant, received_from
from tests.support.sendgrid_standin import SendGridStandIn
from tests.support.smtp_server import SmtpTestServer

pytestmark = pytest.mark.usefixtures("delivery_app")


async def queue_reply(runtime: Runtime, tenant: Tenant, *, to: str = "ann@customer.example.test",
                      attachment: bytes | None = None, extra: dict | None = None,
                      author: bool = True) -> uuid.UUID:
    interaction_id, _, customer_message_id = await make_conversation(runtime, tenant, customer=to)
    async with unit_of_work(runtime) as session:
        reply = Message(company_id=tenant.company_id, interaction_id=interaction_id, direction=Direction.outbound,
                        kind=MessageKind.reply, status=MessageStatus.queued, subject="Re: Invoice 42 is wrong",
                        to=[{"address": to, "name": "Ann Customer"}], in_reply_to=customer_message_id,
                        references=[customer_message_id], text_body="We corrected it.",
                        html_body="<p>We corrected it.</p>", author_id=tenant.admin_id if author else None,
                        extra=extra or {})
        session.add(reply)
        await session.flush()
        if attachment is not None:
            key = await runtime.blobs.put(attachment)
            session.add(Attachment(company_id=tenant.company_id, message_id=reply.id, filename="invoice.pdf",
                                   content_type="application/pdf", size_bytes=len(attachment), storage_key=key))
        await delivery_service.queue_message(session, message=reply)
    return reply.id


def header(mail: email.message.EmailMessage, name: str) -> str:
    return " ".join(str(mail[name] or "").split())  # long ids are folded onto a continuation line


async def load(runtime: Runtime, message_id: uuid.UUID) -> Message:
    async with unit_of_work(runtime) as session:
        message = await session.get(Message, message_id)
        assert message is not None
        return message


async def status_is(runtime: Runtime, message_id: uuid.UUID, *statuses: MessageStatus) -> Message | None:
    message = await load(runtime, message_id)
    return message if message.status in statuses else None


async def test_reply_is_delivered_over_smtp_threaded_with_from_name_reply_to_and_attachment(
    delivery_runtime: Runtime, smtp_server: SmtpTestServer
) -> None:
    tenant = await make_tenant(delivery_runtime, smtp=smtp_server)
    message_id = await queue_reply(delivery_runtime, tenant, attachment=b"%PDF-1.4 invoice")

    sent = await eventually(lambda: status_is(delivery_runtime, message_id, MessageStatus.sent), timeout=30)
    assert len(received_from(smtp_server, tenant.sender_email)) == 1
    received = received_from(smtp_server, tenant.sender_email)[0]
    assert received.recipients == ("ann@customer.example.test",)
    mail = email.message_from_bytes(received.content, policy=policy.default)
    assert mail["From"] == f"Billing Team <{tenant.sender_email}>"
    assert mail["Reply-To"].addresses[0].addr_spec.startswith("replies-")
    assert header(mail, "Message-ID") == sent.message_id_header
    interaction_reference = sent.message_id_header.split("@")[0].split(".")[-1]
    assert len(interaction_reference) == 12  # our Message-IDs carry the conversation's reference
    assert header(mail, "In-Reply-To") == sent.in_reply_to and header(mail, "References") == sent.in_reply_to
    files = [part for part in mail.iter_attachments()]
    assert [(f.get_filename(), f.get_content()) for f in files] == [("invoice.pdf", b"%PDF-1.4 invoice")]
    assert sent.attempts == 1 and sent.last_error == "" and sent.sent_at is not None
    assert sent.provider_message_id == "2.0.0 Message accepted for delivery"  # the server's answer to DATA
    stored = await delivery_runtime.blobs.get(sent.raw_key)
    assert header(email.message_from_bytes(stored, policy=policy.default), "Message-ID") == sent.message_id_header
    async with unit_of_work(delivery_runtime) as session:
        assert await session.get(OutboxEntry, message_id) is None


async def test_extra_headers_and_auto_submitted_come_from_the_row(
    delivery_runtime: Runtime, smtp_server: SmtpTestServer
) -> None:
    tenant = await make_tenant(delivery_runtime, smtp=smtp_server)
    message_id = await queue_reply(delivery_runtime, tenant, author=False,
                                   extra={"headers": {"Auto-Submitted": "auto-replied", "X-Campaign": "billing"}})
    await eventually(lambda: status_is(delivery_runtime, message_id, MessageStatus.sent), timeout=30)
    mail = email.message_from_bytes(received_from(smtp_server, tenant.sender_email)[0].content, policy=policy.default)
    assert header(mail, "Auto-Submitted") == "auto-replied" and header(mail, "X-Campaign") == "billing"


async def test_transient_smtp_failure_is_retried_with_backoff_then_delivered_once(
    delivery_runtime: Runtime, smtp_server: SmtpTestServer
) -> None:
    tenant = await make_tenant(delivery_runtime, smtp=smtp_server)
    smtp_server.data_reply = "451 4.3.0 Try again later"
    message_id = await queue_reply(delivery_runtime, tenant)

    async def first_attempt_failed() -> Message | None:
        message = await load(delivery_runtime, message_id)
        return message if message.attempts == 1 and message.status == MessageStatus.queued else None

    waiting = await eventually(first_attempt_failed, timeout=30)
    assert "451" in waiting.last_error and received_from(smtp_server, tenant.sender_email) == []
    smtp_server.data_reply = None  # the server recovers before the retry (5 s later)

    sent = await eventually(lambda: status_is(delivery_runtime, message_id, MessageStatus.sent), timeout=40)
    assert sent.attempts == 2 and sent.last_error == ""
    assert len(received_from(smtp_server, tenant.sender_email)) == 1


async def test_permanent_smtp_failure_is_reported_on_the_message(
    delivery_runtime: Runtime, smtp_server: SmtpTestServer
) -> None:
    tenant = await make_tenant(delivery_runtime, smtp=smtp_server)
    smtp_server.refuse_recipient("gone@customer.example.test", "550 5.1.1 No such user")
    message_id = await queue_reply(delivery_runtime, tenant, to="gone@customer.example.test")

    failed = await eventually(lambda: status_is(delivery_runtime, message_id, MessageStatus.failed), timeout=30)
    assert "550" in failed.last_error and "No such user" in failed.last_error
    assert failed.attempts == 1 and received_from(smtp_server, tenant.sender_email) == []


async def test_message_fails_after_the_last_allowed_attempt(
    delivery_runtime: Runtime, smtp_server: SmtpTestServer
) -> None:
    tenant = await make_tenant(delivery_runtime, smtp=smtp_server)
    smtp_server.data_reply = "421 4.7.0 Busy"
    interaction_id, _, _ = await make_conversation(delivery_runtime, tenant)
    async with unit_of_work(delivery_runtime) as session:
        reply = Message(company_id=tenant.company_id, interaction_id=interaction_id, direction=Direction.outbound,
                        kind=MessageKind.reply, status=MessageStatus.queued, subject="Re: hello",
                        to=[{"address": "ann@customer.example.test", "name": ""}], text_body="Hello",
                        attempts=delivery_service.MAX_ATTEMPTS - 1)
        session.add(reply)
        await delivery_service.queue_message(session, message=reply)

    failed = await eventually(lambda: status_is(delivery_runtime, reply.id, MessageStatus.failed), timeout=30)
    assert failed.attempts == delivery_service.MAX_ATTEMPTS
    assert failed.last_error.startswith(f"gave up after {delivery_service.MAX_ATTEMPTS} attempts") and "421" in failed.last_error


async def test_sendgrid_delivery_through_the_api(delivery_runtime: Runtime, sendgrid: SendGridStandIn) -> None:
    tenant = await make_tenant(delivery_runtime, sendgrid=sendgrid)
    message_id = await queue_reply(delivery_runtime, tenant, attachment=b"receipt")

    sent = await eventually(lambda: status_is(delivery_runtime, message_id, MessageStatus.sent), timeout=30)
    assert len(sendgrid.accepted) == 1
    accepted = sendgrid.accepted[0]
    assert sent.provider_message_id == accepted.message_id
    payload = accepted.payload
    assert payload["from"] == {"email": tenant.sender_email, "name": "Billing Team"}
    assert payload["reply_to"]["email"].startswith("replies-")
    assert payload["headers"]["Message-ID"] == sent.message_id_header
    assert payload["headers"]["In-Reply-To"] == sent.in_reply_to
    assert [a["filename"] for a in payload["attachments"]] == ["invoice.pdf"]


async def test_sendgrid_rate_limit_is_retried(delivery_runtime: Runtime, sendgrid: SendGridStandIn) -> None:
    tenant = await make_tenant(delivery_runtime, sendgrid=sendgrid)
    sendgrid.fail_next(500)
    message_id = await queue_reply(delivery_runtime, tenant)
    sent = await eventually(lambda: status_is(delivery_runtime, message_id, MessageStatus.sent), timeout=40)
    assert sent.attempts == 2 and len(sendgrid.accepted) == 1


async def test_delivery_job_run_twice_at_once_sends_once(
    delivery_runtime: Runtime, smtp_server: SmtpTestServer
) -> None:
    tenant = await make_tenant(delivery_runtime, smtp=smtp_server)
    message_id = await queue_reply(delivery_runtime, tenant)
    # The enqueued job plus two more attempts racing it in this process.
    await asyncio.gather(delivery_service.deliver(delivery_runtime, message_id),
                         delivery_service.deliver(delivery_runtime, message_id))
    sent = await eventually(lambda: status_is(delivery_runtime, message_id, MessageStatus.sent), timeout=30)
    await delivery_service.deliver(delivery_runtime, message_id)  # and once more, after it was sent
    await asyncio.sleep(0.5)
    assert len(received_from(smtp_server, tenant.sender_email)) == 1 and sent.attempts == 1


async def test_live_claim_blocks_a_second_attempt_and_an_expired_one_resends_with_the_same_message_id(
    delivery_runtime: Runtime, smtp_server: SmtpTestServer
) -> None:
    tenant = await make_tenant(delivery_runtime, smtp=smtp_server)
    interaction_id, _, _ = await make_conversation(delivery_runtime, tenant)
    # A message another attempt is sending right now (its claim is live): written without enqueuing a job.
    async with unit_of_work(delivery_runtime) as session:
        reply = Message(company_id=tenant.company_id, interaction_id=interaction_id, direction=Direction.outbound,
                        kind=MessageKind.reply, status=MessageStatus.sending, subject="Re: hello", attempts=1,
                        to=[{"address": "ann@customer.example.test", "name": ""}], text_body="Hello",
                        email_server_id=tenant.server_id, from_address=tenant.sender_email,
                        message_id_header=f"<{uuid.uuid4().hex}.ABCDEF123456@support.example.test>")
        session.add(reply)
        await session.flush()
        session.add(OutboxEntry(message_id=reply.id, company_id=tenant.company_id, due_at=utcnow(),
                                claimed_until=utcnow() + timedelta(minutes=3), claim_token=uuid.uuid4()))

    await delivery_service.deliver(delivery_runtime, reply.id)
    assert received_from(smtp_server, tenant.sender_email) == [] and (await load(delivery_runtime, reply.id)).status == MessageStatus.sending

    # That attempt died (worker killed) and its claim ran out: the message goes out, with the same Message-ID.
    async with unit_of_work(delivery_runtime) as session:
        entry = await session.get(OutboxEntry, reply.id)
        entry.claimed_until = utcnow() - timedelta(seconds=1)
    await delivery_service.deliver(delivery_runtime, reply.id)
    sent = await load(delivery_runtime, reply.id)
    assert sent.status == MessageStatus.sent and sent.attempts == 2
    mail = email.message_from_bytes(received_from(smtp_server, tenant.sender_email)[0].content, policy=policy.default)
    assert header(mail, "Message-ID") == reply.message_id_header and len(received_from(smtp_server, tenant.sender_email)) == 1


async def test_sweep_sends_a_queued_message_whose_job_was_lost(
    delivery_runtime: Runtime, smtp_server: SmtpTestServer
) -> None:
    tenant = await make_tenant(delivery_runtime, smtp=smtp_server)
    interaction_id, _, _ = await make_conversation(delivery_runtime, tenant)
    async with unit_of_work(delivery_runtime) as session:
        reply = Message(company_id=tenant.company_id, interaction_id=interaction_id, direction=Direction.outbound,
                        kind=MessageKind.reply, status=MessageStatus.queued, subject="Re: lost",
                        to=[{"address": "ann@customer.example.test", "name": ""}], text_body="Hello",
                        email_server_id=tenant.server_id, from_address=tenant.sender_email,
                        message_id_header=f"<{uuid.uuid4().hex}@support.example.test>")
        session.add(reply)
        await session.flush()
        session.add(OutboxEntry(message_id=reply.id, company_id=tenant.company_id,
                                due_at=utcnow() - timedelta(minutes=5)))
    async with unit_of_work(delivery_runtime) as session:
        assert await delivery_service.sweep(session) >= 1
    await eventually(lambda: status_is(delivery_runtime, reply.id, MessageStatus.sent), timeout=30)
    assert len(received_from(smtp_server, tenant.sender_email)) == 1


async def test_blacklisted_recipient_is_refused_when_queued(
    delivery_runtime: Runtime, smtp_server: SmtpTestServer
) -> None:
    from postdesk.blacklist.models import BlacklistEntry, BlacklistReason, EntryKind

    tenant = await make_tenant(delivery_runtime, smtp=smtp_server)
    async with unit_of_work(delivery_runtime) as session:
        session.add(BlacklistEntry(company_id=tenant.company_id, kind=EntryKind.domain, value="spam.example.test",
                                   reason=BlacklistReason.spam_report, source="test"))
    with pytest.raises(Exception) as refused:
        await queue_reply(delivery_runtime, tenant, to="someone@spam.example.test")
    assert getattr(refused.value, "status_code", None) == 422
    assert "someone@spam.example.test" in str(refused.value)
    async with unit_of_work(delivery_runtime) as session:
        rows = await session.scalars(select(Message).where(Message.company_id == tenant.company_id,
                                                           Message.direction == Direction.outbound))
        assert rows.all() == []  # the transaction was rolled back: nothing queued


async def test_message_without_any_email_server_is_refused_naming_the_field(delivery_runtime: Runtime) -> None:
    tenant = await _tenant_without_server(delivery_runtime)
    interaction_id, _, _ = await make_conversation(delivery_runtime, tenant)
    with pytest.raises(Invalid) as refused:
        async with unit_of_work(delivery_runtime) as session:
            reply = Message(company_id=tenant.company_id, interaction_id=interaction_id,
                            direction=Direction.outbound, kind=MessageKind.reply, status=MessageStatus.queued,
                            subject="Re: hi", to=[{"address": "ann@customer.example.test", "name": ""}],
                            text_body="Hello")
            session.add(reply)
            await delivery_service.queue_message(session, message=reply)
    assert refused.value.field == "email_server_id" and refused.value.status_code == 422


async def _tenant_without_server(runtime: Runtime) -> Tenant:
    from postdesk.accounts import service as accounts_service
    from postdesk.accounts.models import User
    from postdesk.accounts.schemas import CompanyCreate
    from postdesk.campaigns.models import Campaign
    from tests.conftest import PASSWORD

    suffix = uuid.uuid4().hex[:10]
    admin_email = f"admin-{suffix}@example.test"
    async with unit_of_work(runtime) as session:
        company = await accounts_service.create_company(session, CompanyCreate(
            name=f"No server {suffix}", admin_email=admin_email, admin_name="Admin", admin_password=PASSWORD))
        campaign = Campaign(company_id=company.id, title="Orphan")
        session.add(campaign)
        await session.flush()
        admin_id = await session.scalar(select(User.id).where(User.email == admin_email))
    return Tenant(company.id, admin_id, admin_email, uuid.uuid4(), campaign.id, "nobody@example.test")
