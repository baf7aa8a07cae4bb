"""What ImapMailbox does about three aioimaplib 2.0 gaps, against a real Dovecot.

- a size listing over a large UID range is asked in bounded windows (one "UID FETCH n:*" over
  ~10,000 messages makes aioimaplib's parser recurse too deep);
- mail that arrives while a FETCH runs (its EXISTS is dropped by aioimaplib) still wakes the next wait;
- a server closing the connection during IDLE is noticed at once, not at the end of the IDLE period.

Plain IMAP through a `TcpRelay`, so the commands can be read on the wire.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time

import aioimaplib
import pytest

from postdesk.mail.connection import MailServer, Security
from postdesk.mail.errors import ConnectionFailed
from postdesk.mail.imap import ImapMailbox
from postdesk.net import NetworkGuard
from tests.support.dovecot import DovecotServer
from tests.support.fixtures import MailboxUser
from tests.support.net import TcpRelay


def customer_mail(number: int) -> bytes:
    return f"From: customer{number}@example.test\r\nSubject: Question {number}\r\n\r\nHello {number}\r\n".encode()


@pytest.fixture
def relay(dovecot: DovecotServer):
    with TcpRelay(dovecot.imap_port) as relay:
        yield relay


@pytest.fixture
def relayed(imap_server: MailServer, relay: TcpRelay) -> MailServer:
    """This test's mailbox, in plain text through the relay."""
    return dataclasses.replace(imap_server, host="127.0.0.1", port=relay.port, security=Security.NONE)


async def append_many(dovecot: DovecotServer, user: MailboxUser, count: int) -> None:
    """APPEND `count` small messages over one session (much faster than one doveadm run each)."""
    client = aioimaplib.IMAP4(host="127.0.0.1", port=dovecot.imap_port, timeout=10)
    await client.wait_hello_from_server()
    assert (await client.login(user.address, user.password)).result == "OK"
    try:
        for number in range(1, count + 1):
            assert (await client.append(customer_mail(number), mailbox="INBOX")).result == "OK"
    finally:
        await client.logout()


def size_listings(relay: TcpRelay) -> list[bytes]:
    return re.findall(rb"UID FETCH ([0-9:*]+) \(UID RFC822\.SIZE\)", relay.client_bytes)


async def test_sizes_over_a_large_uid_range_are_listed_in_bounded_windows(
    dovecot: DovecotServer, mailbox_user: MailboxUser, relayed: MailServer, relay: TcpRelay,
    loopback_guard: NetworkGuard,
) -> None:
    await append_many(dovecot, mailbox_user, 230)

    async with ImapMailbox(relayed, guard=loopback_guard, size_window=50, fetch_batch_size=100) as mailbox:
        assert (await mailbox.select()).uidnext == 231
        await dovecot.deliver(mailbox_user.address, customer_mail(231))  # after SELECT: found by the tail
        messages = [message async for message in mailbox.fetch_new(last_uid=20)]

    assert [message.uid for message in messages] == list(range(21, 232))
    assert all(message.raw.endswith(f"Hello {message.uid}\r\n".encode()) for message in messages)
    # Windows up to the UIDNEXT seen at SELECT, then one open-ended ask for what arrived since.
    assert size_listings(relay) == [b"21:70", b"71:120", b"121:170", b"171:220", b"221:230", b"231:*"]


async def test_mail_arriving_during_a_fetch_wakes_the_next_idle_wait(
    dovecot: DovecotServer, mailbox_user: MailboxUser, relayed: MailServer, relay: TcpRelay,
    loopback_guard: NetworkGuard,
) -> None:
    for number in range(1, 4):
        await dovecot.deliver(mailbox_user.address, customer_mail(number))

    async with ImapMailbox(relayed, guard=loopback_guard, fetch_batch_size=1) as mailbox:
        assert mailbox.supports_idle
        await mailbox.select()
        messages = mailbox.fetch_new(last_uid=0)
        first = await anext(messages)
        # Dovecot announces this during the next UID FETCH, an answer in which aioimaplib drops EXISTS.
        await dovecot.deliver(mailbox_user.address, customer_mail(4))
        rest = [message async for message in messages]
        assert [first.uid] + [message.uid for message in rest] == [1, 2, 3]

        started = time.monotonic()
        assert await mailbox.wait_for_new_mail(timeout=5) is True
        assert time.monotonic() - started < 2
        assert [message.uid for message in [m async for m in mailbox.fetch_new(last_uid=3)]] == [4]
        # Announced once: with nothing new the next wait runs its course.
        assert await mailbox.wait_for_new_mail(timeout=0.5) is False
    assert b" IDLE\r\n" in relay.client_bytes


async def test_a_server_closing_the_connection_during_idle_is_noticed_at_once(
    dovecot: DovecotServer, mailbox_user: MailboxUser, relayed: MailServer, loopback_guard: NetworkGuard,
) -> None:
    async with ImapMailbox(relayed, guard=loopback_guard, idle_reissue_seconds=60) as mailbox:
        await mailbox.select()
        waiting = asyncio.create_task(mailbox.wait_for_new_mail(timeout=60))
        await asyncio.sleep(0.3)
        assert not waiting.done()
        started = time.monotonic()
        await dovecot.doveadm("kick", mailbox_user.address)  # Dovecot says BYE and closes
        with pytest.raises(ConnectionFailed):
            await asyncio.wait_for(waiting, 5)
        assert time.monotonic() - started < 1.5
        assert mailbox.disconnected
        with pytest.raises(ConnectionFailed):  # no command waits a whole timeout on a dead connection
            await mailbox.select()
