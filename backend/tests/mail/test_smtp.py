"""SMTP sending against a real aiosmtpd server: STARTTLS + AUTH, reuse, and how failures are classed."""

from __future__ import annotations

import dataclasses
import email
from email import policy

import pytest

from postdesk.mail.addresses import EmailAddress
from postdesk.mail.compose import OutgoingMessage, make_message_id
from postdesk.mail.connection import MailServer, Security
from postdesk.mail.errors import (
    AuthenticationFailed,
    HostRefused,
    InvalidMessage,
    PermanentDeliveryError,
    ServerTimeout,
    TlsFailed,
    TransientDeliveryError,
)
from postdesk.mail.smtp import SmtpSender, connect_smtp
from postdesk.net import NetworkGuard
from tests.support.certs import TestCertificates
from tests.support.net import BlackHoleServer, HangUpServer
from tests.support.smtp_server import SmtpTestServer


def reply(**changes: object) -> OutgoingMessage:
    message = OutgoingMessage(
        sender=EmailAddress("support@example.test", "Acme Support"),
        to=["Customer <customer@example.test>"],
        subject="Re: Your order",
        text="Your parcel left our warehouse today.",
        message_id=make_message_id("example.test", "IX42"),
    )
    return dataclasses.replace(message, **changes)


async def test_sends_with_auth_over_starttls_verified_against_the_host_name(
    smtp_server: SmtpTestServer, smtp_settings: MailServer, loopback_guard: NetworkGuard
) -> None:
    result = await SmtpSender(smtp_settings, guard=loopback_guard).send(reply(bcc=["audit@example.test"]))

    assert result.accepted == ("customer@example.test", "audit@example.test")
    assert result.refused == ()
    [received] = smtp_server.received
    assert received.authenticated_as == "relay-user"
    assert received.mail_from == "support@example.test"
    assert received.recipients == ("customer@example.test", "audit@example.test")
    parsed = email.message_from_bytes(received.content, policy=policy.default)
    assert parsed["Message-ID"] == result.message_id
    assert parsed["Subject"] == "Re: Your order"
    assert "Bcc" not in parsed


async def test_session_reuses_one_connection_for_several_messages(
    smtp_server: SmtpTestServer, smtp_settings: MailServer, loopback_guard: NetworkGuard
) -> None:
    async with SmtpSender(smtp_settings, guard=loopback_guard).session() as session:
        for number in range(3):
            await session.send(reply(subject=f"Update {number}"))

    assert [mail.content.count(b"Subject: Update") for mail in smtp_server.received] == [1, 1, 1]
    assert smtp_server.sessions == 1


async def test_refused_recipient_is_reported_while_others_get_the_message(
    smtp_server: SmtpTestServer, smtp_settings: MailServer, loopback_guard: NetworkGuard
) -> None:
    smtp_server.refuse_recipient("gone@example.test", "550 5.1.1 No such user")
    smtp_server.refuse_recipient("full@example.test", "452 4.2.2 Mailbox full")

    result = await SmtpSender(smtp_settings, guard=loopback_guard).send(
        reply(cc=["gone@example.test", "full@example.test"])
    )

    assert result.accepted == ("customer@example.test",)
    refused = {refusal.address: refusal for refusal in result.refused}
    assert refused["gone@example.test"].code == 550 and not refused["gone@example.test"].transient
    assert refused["full@example.test"].code == 452 and refused["full@example.test"].transient
    assert smtp_server.received[0].recipients == ("customer@example.test",)


async def test_5xx_is_a_permanent_failure(
    smtp_server: SmtpTestServer, smtp_settings: MailServer, loopback_guard: NetworkGuard
) -> None:
    smtp_server.data_reply = "554 5.7.1 Message rejected as spam"
    with pytest.raises(PermanentDeliveryError) as caught:
        await SmtpSender(smtp_settings, guard=loopback_guard).send(reply())
    assert caught.value.code == 554


async def test_4xx_is_a_transient_failure_and_the_session_stays_usable(
    smtp_server: SmtpTestServer, smtp_settings: MailServer, loopback_guard: NetworkGuard
) -> None:
    async with SmtpSender(smtp_settings, guard=loopback_guard).session() as session:
        smtp_server.data_reply = "451 4.3.0 Try again later"
        with pytest.raises(TransientDeliveryError) as caught:
            await session.send(reply())
        assert caught.value.code == 451

        smtp_server.data_reply = None
        await session.send(reply())
    assert len(smtp_server.received) == 1


async def test_all_recipients_refused_is_classed_by_their_codes(
    smtp_server: SmtpTestServer, smtp_settings: MailServer, loopback_guard: NetworkGuard
) -> None:
    smtp_server.refuse_recipient("customer@example.test", "550 5.1.1 No such user")
    with pytest.raises(PermanentDeliveryError) as permanent:
        await SmtpSender(smtp_settings, guard=loopback_guard).send(reply())
    assert [refusal.code for refusal in permanent.value.refused] == [550]

    smtp_server.refuse_recipient("customer@example.test", "450 4.2.1 Try later")
    with pytest.raises(TransientDeliveryError):
        await SmtpSender(smtp_settings, guard=loopback_guard).send(reply())
    assert smtp_server.received == []


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("subject", {"subject": "Hello\r\nBcc: victim@example.test"}),
        ("subject", {"subject": "=?UTF-8?Q?Hello=0ABcc:_victim@example.test?="}),
        ("subject", {"subject": "=?UTF-8?B?SGVsbG8NCkJjYzogdmljdGltQGV4YW1wbGUudGVzdA==?="}),
        ("to", {"to": ["customer@example.test\r\nBcc: victim@example.test"]}),
        ("to", {"to": ["=?UTF-8?Q?Evil=0A?= <customer@example.test>"]}),
        ("from", {"sender": EmailAddress("support@example.test", "Acme\nBcc: victim@example.test")}),
        ("in_reply_to", {"in_reply_to": "<a@b>\r\nBcc: victim@example.test"}),
    ],
)
async def test_header_injection_is_rejected_before_anything_is_sent(
    smtp_server: SmtpTestServer,
    smtp_settings: MailServer,
    loopback_guard: NetworkGuard,
    field: str,
    changes: dict[str, object],
) -> None:
    with pytest.raises(InvalidMessage) as caught:
        await SmtpSender(smtp_settings, guard=loopback_guard).send(reply(**changes))
    assert caught.value.field == field
    assert smtp_server.received == []
    assert smtp_server.sessions == 0


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_implicit_tls_server(certificates: TestCertificates, loopback_guard: NetworkGuard) -> None:
    with SmtpTestServer(certificates, credentials={"u": "p"}, implicit_tls=True) as server:
        settings = MailServer(
            "localhost", server.port, Security.TLS, "u", "p", timeout=2, ca_pem=certificates.ca_pem
        )
        await SmtpSender(settings, guard=loopback_guard).send(reply())
        assert len(server.received) == 1


async def test_wrong_password_and_untrusted_certificate_are_connection_errors(
    smtp_settings: MailServer, loopback_guard: NetworkGuard
) -> None:
    with pytest.raises(AuthenticationFailed):
        await connect_smtp(dataclasses.replace(smtp_settings, password="wrong"), guard=loopback_guard)
    with pytest.raises(TlsFailed):
        await connect_smtp(dataclasses.replace(smtp_settings, ca_pem=None), guard=loopback_guard)
    client = await connect_smtp(
        dataclasses.replace(smtp_settings, ca_pem=None, verify_tls=False), guard=loopback_guard
    )
    client.close()


async def test_connection_problems_while_sending_are_transient(
    smtp_settings: MailServer, loopback_guard: NetworkGuard
) -> None:
    with pytest.raises(TransientDeliveryError) as caught:
        await SmtpSender(dataclasses.replace(smtp_settings, password="wrong"), guard=loopback_guard).send(
            reply()
        )
    assert isinstance(caught.value.server_error, AuthenticationFailed)


async def test_disconnect_is_transient(loopback_guard: NetworkGuard) -> None:
    with HangUpServer() as server:
        settings = MailServer("127.0.0.1", server.port, Security.NONE, timeout=2)
        with pytest.raises(TransientDeliveryError):
            await SmtpSender(settings, guard=loopback_guard).send(reply())


async def test_private_hosts_are_refused_without_an_allow_list(smtp_settings: MailServer) -> None:
    with pytest.raises(HostRefused):
        await connect_smtp(smtp_settings, guard=NetworkGuard())


async def test_a_server_that_stops_answering_is_a_transient_timeout(loopback_guard: NetworkGuard) -> None:
    with BlackHoleServer() as silent:
        settings = MailServer("127.0.0.1", silent.port, Security.NONE, timeout=1)
        with pytest.raises(TransientDeliveryError) as caught:
            await SmtpSender(settings, guard=loopback_guard).send(reply())
    assert isinstance(caught.value.server_error, ServerTimeout)
    assert str(caught.value) == "timed out after 1 s"


async def test_credentials_with_line_breaks_are_refused_before_connecting(
    smtp_server: SmtpTestServer, smtp_settings: MailServer, loopback_guard: NetworkGuard
) -> None:
    with pytest.raises(AuthenticationFailed):
        await connect_smtp(dataclasses.replace(smtp_settings, password="secret\r\nRSET"), guard=loopback_guard)
    assert smtp_server.sessions == 0
