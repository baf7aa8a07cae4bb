"""The running sandbox: Dovecot for the mailboxes, and an SMTP server (aiosmtpd) that delivers into them.

Mail to a sandbox mailbox (the demo support mailbox) goes to that mailbox; mail to anyone else (the
customers Postdesk replies to) goes to the catch-all mailbox, so every message Postdesk sends can be
read there. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import signal
import warnings
from collections.abc import Callable
from dataclasses import asdict
from email.utils import formatdate
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from postdesk.sandbox.config import CATCH_ALL, DEFAULT_PORTS, DEMO_MAILBOX, PASSWORD, STATE_FILE, SandboxInfo
from postdesk.sandbox.dovecot import Dovecot


class SandboxDelivery:
    """aiosmtpd handler: every accepted message is stored in Dovecot (catch-all for unknown recipients)."""

    def __init__(self, dovecot: Dovecot) -> None:
        self.dovecot = dovecot

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        known = {user.lower() for user in await asyncio.to_thread(self.dovecot.users)}
        mailboxes = dict.fromkeys(
            recipient.lower() if recipient.lower() in known else CATCH_ALL for recipient in envelope.rcpt_tos
        )
        content = envelope.original_content or b""
        trace = (
            f"Return-Path: <{envelope.mail_from or ''}>\r\n"
            f"Received: from {session.host_name or 'unknown'} by sandbox.test (Postdesk sandbox); "
            f"{formatdate(localtime=True)}\r\n"
        ).encode()
        try:
            for mailbox in mailboxes:
                await self.dovecot.deliver(mailbox, trace + content)
        except (RuntimeError, OSError, TimeoutError):
            return "451 4.3.0 The sandbox could not store the message"
        return f"250 2.0.0 Delivered to {', '.join(mailboxes)}"


def _authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    """Any sandbox mailbox login is accepted (logging in is optional)."""
    if isinstance(auth_data, LoginPassword) and auth_data.password.decode(errors="replace") == PASSWORD:
        return AuthResult(success=True)
    return AuthResult(success=False, handled=False)


def smtp_protocol(dovecot: Dovecot) -> SMTP:
    with warnings.catch_warnings():
        # AUTH without TLS is what a loopback demo wants; aiosmtpd warns about it.
        warnings.simplefilter("ignore")
        return SMTP(
            SandboxDelivery(dovecot), hostname="sandbox.test", authenticator=_authenticate,
            auth_required=False, auth_require_tls=False,
        )  # fmt: skip


async def serve(
    directory: Path,
    *,
    host: str = "127.0.0.1",
    smtp_port: int = DEFAULT_PORTS["smtp"],
    imap_port: int = DEFAULT_PORTS["imap"],
    pop3_port: int = DEFAULT_PORTS["pop3"],
    on_ready: Callable[[SandboxInfo], None] | None = None,
) -> None:
    """Run the sandbox until SIGINT/SIGTERM; mail is kept in `directory` across runs."""
    dovecot = await asyncio.to_thread(
        Dovecot.start, directory / "dovecot", users=[(DEMO_MAILBOX, PASSWORD), (CATCH_ALL, PASSWORD)],
        imap_port=imap_port, pop3_port=pop3_port, greeting="Postdesk sandbox ready.",
    )  # fmt: skip
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    smtp = None
    try:
        smtp = await loop.create_server(lambda: smtp_protocol(dovecot), host, smtp_port)
        info = SandboxInfo(host, smtp_port, dovecot.imap_port, dovecot.pop3_port)
        (directory / STATE_FILE).write_text(json.dumps(asdict(info), indent=2))
        if on_ready is not None:
            on_ready(info)
        await stopping.wait()
    finally:
        if smtp is not None:
            smtp.close()
            await smtp.wait_closed()
        (directory / STATE_FILE).unlink(missing_ok=True)
        await asyncio.to_thread(dovecot.stop)
