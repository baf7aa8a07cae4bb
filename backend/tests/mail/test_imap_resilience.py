"""IMAP over an unreliable path: IDLE re-issue, bounded UID FETCH batches, stalls and reconnects.

A `TcpRelay` sits between the client and Dovecot (plain IMAP, so the commands can be counted on the
wire); it can stall like a dead link, or come up late like a server restarting.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import re
import time

import pytest

from postdesk.mail.connection import MailServer, Security
from postdesk.mail.errors import ConnectionRefused, ServerTimeout
from postdesk.mail.imap import ImapMailbox
from postdesk.mail.retry import connect_with_backoff
from postdesk.net import NetworkGuard
from tests.support.dovecot import DovecotServer
from tests.support.fixtures import MailboxUser
from tests.support.net import TcpRelay, free_port


def customer_mail(number: int) -> bytes:
    return f"From: customer{number}@example.test\r\nSubject: Question {number}\r\n\r\nHello\r\n".encode()


@pytest.fixture
def relay(dovecot: DovecotServer):
    with TcpRelay(dovecot.imap_port) as relay:
        yield relay


@pytest.fixture
def relayed(imap_server: MailServer, relay: TcpRelay) -> MailServer:
    """This test's mailbox, in plain text through the relay."""
    return dataclasses.replace(imap_server, host="127.0.0.1", port=relay.port, security=Security.NONE)


def commands(relay: TcpRelay, pattern: bytes) -> list[bytes]:
    return re.findall(pattern, relay.client_bytes)


async def test_idle_is_reissued_within_the_configured_period(
    dovecot: DovecotServer, mailbox_user: MailboxUser, relayed: MailServer, relay: TcpRelay,
    loopback_guard: NetworkGuard,
) -> None:
    async with ImapMailbox(relayed, guard=loopback_guard, idle_reissue_seconds=0.3) as mailbox:
        await mailbox.select()
        assert await mailbox.wait_for_new_mail(timeout=1.1) is False
        # One IDLE per period, each ended by DONE before the next: the server never sees an old IDLE.
        idles, dones = len(commands(relay, rb" IDLE\r\n")), len(commands(relay, rb"\nDONE\r\n"))
        assert idles >= 2 and dones == idles

        waiting = asyncio.create_task(mailbox.wait_for_new_mail(timeout=5))
        await asyncio.sleep(0.2)
        await dovecot.deliver(mailbox_user.address, customer_mail(1))
        assert await asyncio.wait_for(waiting, 5) is True


async def test_uid_fetch_reads_bounded_batches_only_as_they_are_consumed(
    dovecot: DovecotServer, mailbox_user: MailboxUser, relayed: MailServer, relay: TcpRelay,
    loopback_guard: NetworkGuard,
) -> None:
    for number in range(1, 6):
        await dovecot.deliver(mailbox_user.address, customer_mail(number))

    async with ImapMailbox(relayed, guard=loopback_guard, fetch_batch_size=2) as mailbox:
        await mailbox.select()
        messages = mailbox.fetch_new(last_uid=0)
        first = await anext(messages)
        # Message 3 is not fetched yet: another client expunging it now is seen by the next batch.
        await dovecot.expunge(mailbox_user.address, uid=3)
        rest = [message async for message in messages]

    assert [first.uid] + [message.uid for message in rest] == [1, 2, 4, 5]
    body_fetches = commands(relay, rb"UID FETCH ([0-9:,]+) \(UID BODY\.PEEK\[\]\)")
    assert body_fetches == [b"1:2", b"3:4", b"5"]


async def test_uid_fetch_batches_are_bounded_in_bytes_as_well(
    dovecot: DovecotServer, mailbox_user: MailboxUser, relayed: MailServer, relay: TcpRelay,
    loopback_guard: NetworkGuard,
) -> None:
    # A first sync of large mail must not hold `fetch_batch_size` large messages in memory at once.
    for number in range(1, 6):
        await dovecot.deliver(mailbox_user.address, customer_mail(number).replace(b"Hello", b"x" * 1000))

    async with ImapMailbox(relayed, guard=loopback_guard, fetch_batch_size=100, fetch_batch_bytes=2500) as mailbox:
        await mailbox.select()
        fetched = [message.uid async for message in mailbox.fetch_new(last_uid=0)]

    assert fetched == [1, 2, 3, 4, 5]
    assert commands(relay, rb"UID FETCH ([0-9:,]+) \(UID BODY\.PEEK\[\]\)") == [b"1:2", b"3:4", b"5"]


async def test_a_stalled_server_times_out_instead_of_hanging(
    relayed: MailServer, relay: TcpRelay, loopback_guard: NetworkGuard,
) -> None:
    async with ImapMailbox(relayed, guard=loopback_guard) as mailbox:
        await mailbox.select()
        relay.stall()
        started = time.monotonic()
        with pytest.raises(ServerTimeout):
            _ = [message async for message in mailbox.fetch_new(last_uid=0)]
        assert time.monotonic() - started < relayed.timeout + 1


async def test_a_connection_that_dies_during_idle_is_detected(
    relayed: MailServer, relay: TcpRelay, loopback_guard: NetworkGuard,
) -> None:
    async with ImapMailbox(relayed, guard=loopback_guard, idle_reissue_seconds=0.3) as mailbox:
        await mailbox.select()
        waiting = asyncio.create_task(mailbox.wait_for_new_mail())
        await asyncio.sleep(0.1)
        relay.stall()
        # Noticed at the next re-issue at the latest: the server does not acknowledge DONE.
        with pytest.raises(ServerTimeout):
            await asyncio.wait_for(waiting, 0.3 + relayed.timeout + 1)


async def test_reconnects_with_backoff_once_the_server_is_back(
    dovecot: DovecotServer, mailbox_user: MailboxUser, imap_server: MailServer, loopback_guard: NetworkGuard,
) -> None:
    await dovecot.deliver(mailbox_user.address, customer_mail(1))
    relay = TcpRelay(dovecot.imap_port, port=free_port())  # nothing listens there yet
    settings = dataclasses.replace(imap_server, host="127.0.0.1", port=relay.port, security=Security.NONE)
    mailbox = ImapMailbox(settings, guard=loopback_guard)
    failures: list[type] = []

    def on_retry(error: Exception, pause: float) -> None:
        failures.append(type(error))
        if len(failures) == 2:
            relay.start()  # the server comes back after two refused attempts

    try:
        await connect_with_backoff(mailbox.connect, delays=itertools.repeat(0.05), attempts=10, on_retry=on_retry)
        assert (await mailbox.select()).exists == 1
    finally:
        await mailbox.close()
        relay.stop()
    assert failures == [ConnectionRefused, ConnectionRefused]
