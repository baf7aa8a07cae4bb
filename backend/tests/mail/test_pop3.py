"""POP3 receiving against a real Dovecot: UIDL listing, retrieval, deletion only once committed."""

from __future__ import annotations

import dataclasses

import pytest

from postdesk.mail.connection import MailServer, Security
from postdesk.mail.errors import AuthenticationFailed, ProtocolError
from postdesk.mail.parse import parse_message
from postdesk.mail.pop3 import Pop3Mailbox
from postdesk.net import NetworkGuard
from tests.support.dovecot import DovecotServer
from tests.support.fixtures import MailboxUser


def customer_mail(number: int, body: str = "Please call me back.") -> bytes:
    return f"From: customer{number}@example.test\r\nSubject: Call back {number}\r\n\r\n{body}\r\n".encode()


async def test_lists_by_uidl_retrieves_and_deletes_only_on_quit(
    dovecot: DovecotServer, mailbox_user: MailboxUser, pop3_server: MailServer, loopback_guard: NetworkGuard
) -> None:
    long_html_line = "<p>" + "x" * 5000 + "</p>"  # longer than poplib's own 2048-byte line limit
    await dovecot.deliver(mailbox_user.address, customer_mail(1))
    await dovecot.deliver(mailbox_user.address, customer_mail(2, long_html_line))

    async with Pop3Mailbox(pop3_server, guard=loopback_guard) as mailbox:
        assert (await mailbox.stat())[0] == 2
        listings = await mailbox.list_messages()
        assert [listing.number for listing in listings] == [1, 2]
        first, second = listings
        assert parse_message(await mailbox.retrieve(first.uid)).subject == "Call back 1"
        assert long_html_line in (await mailbox.retrieve(second.uid)).decode()
        assert (await mailbox.retrieve_header(second.uid)).startswith(b"From: customer2@example.test")
        await mailbox.delete(first.uid)

    async with Pop3Mailbox(pop3_server, guard=loopback_guard) as mailbox:
        remaining = await mailbox.list_messages()
    assert [listing.uid for listing in remaining] == [second.uid]


async def test_deletions_are_forgotten_when_the_caller_fails(
    dovecot: DovecotServer, mailbox_user: MailboxUser, pop3_server: MailServer, loopback_guard: NetworkGuard
) -> None:
    await dovecot.deliver(mailbox_user.address, customer_mail(1))
    with pytest.raises(RuntimeError):
        async with Pop3Mailbox(pop3_server, guard=loopback_guard) as mailbox:
            [listing] = await mailbox.list_messages()
            await mailbox.delete(listing.uid)
            raise RuntimeError("storing the message failed")
    assert await dovecot.message_count(mailbox_user.address) == 1


@pytest.mark.parametrize("security", [Security.TLS, Security.NONE])
async def test_implicit_tls_and_plain_logins(
    dovecot: DovecotServer, pop3_server: MailServer, loopback_guard: NetworkGuard, security: Security
) -> None:
    port = dovecot.pop3s_port if security is Security.TLS else dovecot.pop3_port
    async with Pop3Mailbox(
        dataclasses.replace(pop3_server, security=security, port=port), guard=loopback_guard
    ) as mailbox:
        assert await mailbox.stat() == (0, 0)


async def test_wrong_password_and_unknown_uidl(pop3_server: MailServer, loopback_guard: NetworkGuard) -> None:
    with pytest.raises(AuthenticationFailed):
        async with Pop3Mailbox(dataclasses.replace(pop3_server, password="wrong"), guard=loopback_guard):
            pass
    async with Pop3Mailbox(pop3_server, guard=loopback_guard) as mailbox:
        with pytest.raises(ProtocolError):
            await mailbox.retrieve("no-such-uidl")


async def test_a_password_with_a_line_break_is_never_sent(
    dovecot: DovecotServer, mailbox_user: MailboxUser, pop3_server: MailServer, loopback_guard: NetworkGuard
) -> None:
    # "PASS x\r\nDELE 1" would delete a message once logged in; it must not reach the server.
    await dovecot.deliver(mailbox_user.address, customer_mail(1))
    injected = dataclasses.replace(pop3_server, security=Security.NONE, port=dovecot.pop3_port,
                                   password=f"{mailbox_user.password}\r\nDELE 1")
    with pytest.raises(AuthenticationFailed):
        async with Pop3Mailbox(injected, guard=loopback_guard):
            pass
    assert await dovecot.message_count(mailbox_user.address) == 1
