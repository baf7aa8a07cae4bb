"""`postdesk sandbox` works as the README says: start it, send samples, read them, point Postdesk at it."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from postdesk.mail.addresses import EmailAddress
from postdesk.mail.compose import OutgoingMessage, make_message_id
from postdesk.mail.connection import MailServer, Security
from postdesk.mail.imap import ImapMailbox
from postdesk.mail.parse import parse_message
from postdesk.mail.smtp import SmtpSender
from postdesk.net import NetworkGuard
from postdesk.sandbox.config import CATCH_ALL, DEMO_MAILBOX, PASSWORD, SandboxInfo, running_sandbox
from postdesk.settings import REPO_ROOT
from tests.support.net import free_port

GUARD = NetworkGuard(["127.0.0.0/8"])


@pytest.fixture(scope="module")
def sandbox_dir() -> Iterator[Path]:
    """The real command, in its own process, as a newcomer starts it."""
    directory = Path(tempfile.mkdtemp(prefix="postdesk-sandbox-"))
    directory.chmod(0o755)
    ports = [str(free_port()) for _ in range(3)]
    output = directory.parent / f"{directory.name}.log"
    with output.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "postdesk", "sandbox", "--dir", str(directory), "--smtp-port", ports[0],
             "--imap-port", ports[1], "--pop3-port", ports[2]],
            stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while (info := running_sandbox(directory)) is None:
            assert process.poll() is None and time.monotonic() < deadline, output.read_text()
            time.sleep(0.1)
        assert f"port {info.smtp_port}" in output.read_text() and PASSWORD in output.read_text()
        yield directory
    finally:
        process.terminate()
        process.wait(20)
        assert running_sandbox(directory) is None  # stopped cleanly, Dovecot with it
        shutil.rmtree(directory, ignore_errors=True)
        output.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def sandbox(sandbox_dir: Path) -> SandboxInfo:
    info = running_sandbox(sandbox_dir)
    assert info is not None
    return info


def _mailbox(info: SandboxInfo, user: str) -> MailServer:
    return MailServer(info.host, info.imap_port, Security.NONE, user, PASSWORD, timeout=5)


async def _messages(info: SandboxInfo, user: str, count: int) -> list:
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        async with ImapMailbox(_mailbox(info, user), guard=GUARD) as mailbox:
            await mailbox.select()
            found = [parse_message(message.raw) async for message in mailbox.fetch_new(last_uid=0)]
        if len(found) >= count or asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(0.2)


async def test_samples_sent_into_the_sandbox_can_be_read_over_imap(sandbox: SandboxInfo, sandbox_dir: Path) -> None:
    sent = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "postdesk", "sandbox", "send-samples", "--dir",
        str(Path(tempfile.gettempdir()) / "no-sandbox-here"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=REPO_ROOT,
    )  # fmt: skip
    refused, _ = await sent.communicate()
    assert sent.returncode != 0 and b"no sandbox is running" in refused

    sent = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "postdesk", "sandbox", "send-samples", "--dir", str(sandbox_dir),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=REPO_ROOT,
    )  # fmt: skip
    printed, _ = await sent.communicate()
    assert sent.returncode == 0, printed

    messages = await _messages(sandbox, DEMO_MAILBOX, 5)
    subjects = [message.subject for message in messages]
    assert subjects[:2] == ["Where is my order #48213?", "Re: Where is my order #48213?"]
    assert "Rechnung doppelt abgebucht – bitte prüfen" in subjects
    follow_up, photo = messages[1], next(m for m in messages if m.attachments)
    assert follow_up.in_reply_to == messages[0].message_id
    assert photo.attachments[0].filename == "parcel.png" and photo.html
    assert all(message.to[0].address == DEMO_MAILBOX for message in messages)


async def test_postdesk_connects_to_the_sandbox_with_the_printed_settings(client, company, sandbox) -> None:
    body = {"server_type": "smtp", "sender_email": DEMO_MAILBOX, "smtp_host": sandbox.host,
            "smtp_port": sandbox.smtp_port, "smtp_security": "none", "incoming_protocol": "imap",
            "incoming_host": sandbox.host, "incoming_port": sandbox.imap_port, "incoming_security": "none",
            "incoming_username": DEMO_MAILBOX, "incoming_password": PASSWORD}
    for protocol, port in (("imap", sandbox.imap_port), ("pop3", sandbox.pop3_port)):
        response = await client.post("/api/email-servers/test", headers=company.admin.headers,
                                     json={**body, "incoming_protocol": protocol, "incoming_port": port})
        assert response.status_code == 200, response.text
        assert [leg["message"] for leg in response.json()["legs"]] == ["connected", "connected"]


async def test_mail_postdesk_sends_to_customers_lands_in_the_catch_all(sandbox: SandboxInfo) -> None:
    reply = OutgoingMessage(
        sender=EmailAddress(DEMO_MAILBOX, "Acme Support"),
        to=["Dana Whitfield <dana.whitfield@example.com>"],
        subject="Re: Where is my order #48213?",
        text="Your boots ship today.",
        message_id=make_message_id("sandbox.test", "IX1"),
    )
    settings = MailServer(sandbox.host, sandbox.smtp_port, Security.NONE, timeout=5)
    await SmtpSender(settings, guard=GUARD).send(reply)

    [received] = await _messages(sandbox, CATCH_ALL, 1)
    assert received.subject == "Re: Where is my order #48213?"
    assert received.message_id == reply.message_id
