"""IMAP receiving against a real Dovecot: login modes, UID bookkeeping, fetch, flags, IDLE."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from postdesk.mail.connection import MailServer, Security
from postdesk.mail.errors import AuthenticationFailed, FolderNotFound, UidValidityChanged
from postdesk.mail.imap import ImapMailbox, encode_mailbox_name, uid_set
from postdesk.mail.parse import parse_message
from postdesk.net import NetworkGuard
from tests.support.dovecot import DovecotServer
from tests.support.fixtures import MailboxUser


def customer_mail(number: int, body: str = "Where is my parcel?") -> bytes:
    return (
        f"From: Customer <customer{number}@example.test>\r\n"
        f"To: support@example.test\r\n"
        f"Subject: Question {number}\r\n"
        f"Message-ID: <q{number}@example.test>\r\n\r\n{body}\r\n"
    ).encode()


async def test_streams_new_messages_above_the_last_uid_in_batches(
    dovecot: DovecotServer, mailbox_user: MailboxUser, imap_server: MailServer, loopback_guard: NetworkGuard
) -> None:
    for number in range(1, 6):
        await dovecot.deliver(mailbox_user.address, customer_mail(number))

    async with ImapMailbox(imap_server, guard=loopback_guard, fetch_batch_size=2) as mailbox:
        assert "IDLE" in mailbox.capabilities and mailbox.supports_idle
        folder = await mailbox.select("INBOX")
        assert folder.exists == 5 and folder.uidnext == 6
        first = [message async for message in mailbox.fetch_new(last_uid=0)]
        later = [message async for message in mailbox.fetch_new(last_uid=3)]
        none_left = [message async for message in mailbox.fetch_new(last_uid=5)]

    assert [message.uid for message in first] == [1, 2, 3, 4, 5]
    assert parse_message(first[0].raw).subject == "Question 1"
    assert first[0].size == len(first[0].raw)
    assert [message.uid for message in later] == [4, 5]
    assert none_left == []


async def test_oversized_messages_come_with_headers_only(
    dovecot: DovecotServer, mailbox_user: MailboxUser, imap_server: MailServer, loopback_guard: NetworkGuard
) -> None:
    await dovecot.deliver(mailbox_user.address, customer_mail(1, "x" * 5000))

    async with ImapMailbox(imap_server, guard=loopback_guard, max_message_bytes=1000) as mailbox:
        await mailbox.select()
        [message] = [message async for message in mailbox.fetch_new(last_uid=0)]

    assert message.oversized and message.size > 5000
    assert message.raw.startswith(b"From: Customer") and b"xxxx" not in message.raw


async def test_fetching_does_not_mark_seen_until_asked_and_delete_expunges(
    dovecot: DovecotServer, mailbox_user: MailboxUser, imap_server: MailServer, loopback_guard: NetworkGuard
) -> None:
    for number in range(1, 4):
        await dovecot.deliver(mailbox_user.address, customer_mail(number))

    async with ImapMailbox(imap_server, guard=loopback_guard) as mailbox:
        await mailbox.select()
        _ = [message async for message in mailbox.fetch_new(last_uid=0)]
        assert await dovecot.unseen_uids(mailbox_user.address) == [1, 2, 3]
        await mailbox.mark_seen([1, 2])
        assert await dovecot.unseen_uids(mailbox_user.address) == [3]
        await mailbox.delete([2])

    assert await dovecot.message_count(mailbox_user.address) == 2


async def test_uidvalidity_change_is_detected(
    dovecot: DovecotServer, mailbox_user: MailboxUser, imap_server: MailServer, loopback_guard: NetworkGuard
) -> None:
    await dovecot.deliver(mailbox_user.address, customer_mail(1))
    async with ImapMailbox(imap_server, guard=loopback_guard) as mailbox:
        known = (await mailbox.select()).uidvalidity

    await dovecot.set_uidvalidity(mailbox_user.address, "INBOX", known + 1000)

    async with ImapMailbox(imap_server, guard=loopback_guard) as mailbox:
        with pytest.raises(UidValidityChanged) as caught:
            await mailbox.select("INBOX", expected_uidvalidity=known)
    assert (caught.value.expected, caught.value.actual) == (known, known + 1000)


async def test_idle_wakes_up_when_mail_is_delivered(
    dovecot: DovecotServer, mailbox_user: MailboxUser, imap_server: MailServer, loopback_guard: NetworkGuard
) -> None:
    async with ImapMailbox(imap_server, guard=loopback_guard, idle_reissue_seconds=0.5) as mailbox:
        await mailbox.select()
        waiting = asyncio.create_task(mailbox.wait_for_new_mail(timeout=5))
        await asyncio.sleep(1.2)  # IDLE is re-issued at least twice before the mail arrives
        assert not waiting.done()
        await dovecot.deliver(mailbox_user.address, customer_mail(1))
        assert await asyncio.wait_for(waiting, 5) is True

        assert [message.uid async for message in mailbox.fetch_new(last_uid=0)] == [1]
        assert await mailbox.wait_for_new_mail(timeout=0.3) is False


async def test_new_mail_notifications_loop(
    dovecot: DovecotServer, mailbox_user: MailboxUser, imap_server: MailServer, loopback_guard: NetworkGuard
) -> None:
    async with ImapMailbox(imap_server, guard=loopback_guard, idle_reissue_seconds=0.5) as mailbox:
        await mailbox.select()
        last_uid = 0
        notifications = mailbox.new_mail_notifications()
        for number in (1, 2):
            await dovecot.deliver(mailbox_user.address, customer_mail(number))
            await asyncio.wait_for(anext(notifications), 5)
            uids = [message.uid async for message in mailbox.fetch_new(last_uid)]
            last_uid = max(uids)
        await notifications.aclose()
    assert last_uid == 2


@pytest.mark.parametrize("security", [Security.TLS, Security.NONE])
async def test_implicit_tls_and_plain_logins(
    dovecot: DovecotServer, imap_server: MailServer, loopback_guard: NetworkGuard, security: Security
) -> None:
    port = dovecot.imaps_port if security is Security.TLS else dovecot.imap_port
    settings = dataclasses.replace(imap_server, security=security, port=port)
    async with ImapMailbox(settings, guard=loopback_guard) as mailbox:
        assert (await mailbox.select()).exists == 0


async def test_wrong_password_and_missing_folder(
    imap_server: MailServer, loopback_guard: NetworkGuard
) -> None:
    with pytest.raises(AuthenticationFailed):
        async with ImapMailbox(dataclasses.replace(imap_server, password="wrong"), guard=loopback_guard):
            pass
    async with ImapMailbox(imap_server, guard=loopback_guard) as mailbox:
        with pytest.raises(FolderNotFound):
            await mailbox.select("No such folder")


async def test_folder_names_are_quoted_and_encoded(
    dovecot: DovecotServer, mailbox_user: MailboxUser, imap_server: MailServer, loopback_guard: NetworkGuard
) -> None:
    await dovecot.create_folder(mailbox_user.address, "Kundenanfragen März")
    await dovecot.deliver(mailbox_user.address, customer_mail(1), folder="Kundenanfragen März")
    async with ImapMailbox(imap_server, guard=loopback_guard) as mailbox:
        assert (await mailbox.select("Kundenanfragen März")).exists == 1


def test_uid_sets_and_mailbox_names() -> None:
    assert uid_set([7, 1, 2, 3, 5, 6]) == "1:3,5:7"
    assert uid_set([4]) == "4"
    assert encode_mailbox_name("Kundenanfragen März") == '"Kundenanfragen M&AOQ-rz"'
    assert encode_mailbox_name('A&B "x"') == '"A&-B \\"x\\""'


async def test_a_password_with_a_line_break_is_refused(imap_server: MailServer, loopback_guard: NetworkGuard) -> None:
    with pytest.raises(AuthenticationFailed):
        async with ImapMailbox(dataclasses.replace(imap_server, password="x\r\nA2 DELETE INBOX"), guard=loopback_guard):
            pass
