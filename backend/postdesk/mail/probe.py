"""Connection tests for the email-server settings page: one call per leg, one human answer each.

Each probe connects, encrypts and logs in exactly as sending or fetching would (same guard, same
TLS checks), does one harmless command, and says "connected" or what went wrong: "authentication
failed", "TLS handshake failed", "connection refused", "timed out after 10 s", "folder not found",
"host not allowed". The whole probe is bounded by the server's timeout.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from postdesk.mail.connection import MailServer, server_error
from postdesk.mail.errors import ServerError, ServerTimeout
from postdesk.mail.imap import ImapMailbox
from postdesk.mail.pop3 import Pop3Mailbox
from postdesk.mail.sendgrid import SCOPES_PATH, SENDGRID_API
from postdesk.mail.smtp import connect_smtp
from postdesk.net import NetworkGuard

log = logging.getLogger(__name__)

PROBE_TIMEOUT = 10.0
PROBE_GRACE = 1.0
CONNECTED = "connected"


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    message: str


async def probe_smtp(
    server: MailServer, *, guard: NetworkGuard, local_hostname: str | None = None
) -> ProbeResult:
    async def check() -> None:
        client = await connect_smtp(server, guard=guard, local_hostname=local_hostname)
        try:
            await client.quit()
        finally:
            client.close()

    return await _probe("smtp", server.timeout, check)


async def probe_imap(server: MailServer, *, guard: NetworkGuard, folder: str = "INBOX") -> ProbeResult:
    async def check() -> None:
        async with ImapMailbox(server, guard=guard) as mailbox:
            await mailbox.select(folder)

    return await _probe("imap", server.timeout, check)


async def probe_pop3(server: MailServer, *, guard: NetworkGuard) -> ProbeResult:
    async def check() -> None:
        async with Pop3Mailbox(server, guard=guard) as mailbox:
            await mailbox.stat()

    return await _probe("pop3", server.timeout, check)


async def probe_sendgrid(
    api_key: str, *, base_url: str = SENDGRID_API, timeout: float = PROBE_TIMEOUT
) -> ProbeResult:
    """Checks the key against GET /v3/scopes and that it may send mail (scope mail.send)."""
    try:
        async with httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout) as client:
            response = await client.get(SCOPES_PATH, headers={"Authorization": f"Bearer {api_key}"})
    except httpx.TimeoutException:
        return ProbeResult(False, str(ServerTimeout(timeout)))
    except httpx.TransportError as exc:
        return ProbeResult(False, str(server_error(exc, timeout)))
    if response.status_code in (401, 403):
        return ProbeResult(False, "authentication failed")
    if response.status_code == 429:
        return ProbeResult(False, "rate limited by SendGrid, try again in a minute")
    if not response.is_success:
        return ProbeResult(False, f"SendGrid answered {response.status_code}")
    try:
        scopes = response.json().get("scopes") or []
    except (ValueError, AttributeError):
        return ProbeResult(False, "unexpected answer from the server")
    if "mail.send" not in scopes:
        return ProbeResult(False, "the API key may not send mail (mail.send permission missing)")
    return ProbeResult(True, CONNECTED)


async def _probe(leg: str, timeout: float, check: Callable[[], Awaitable[None]]) -> ProbeResult:
    try:
        # Each step has `timeout` already; the grace lets the step report its own failure first.
        async with asyncio.timeout(timeout + PROBE_GRACE):
            await check()
    except ServerError as exc:
        log.info("%s probe failed: %s (%s)", leg, exc, exc.detail)
        return ProbeResult(False, str(exc))
    except (TimeoutError, OSError, ssl.SSLError) as exc:
        return ProbeResult(False, str(server_error(exc, timeout)))  # the overall bound was hit
    except Exception as exc:  # noqa: BLE001 - a connection test answers; it never turns into a server error
        # Only the type: an exception's text may quote the command it failed on (e.g. a LOGIN).
        log.warning("%s probe failed unexpectedly: %s", leg, type(exc).__name__)
        return ProbeResult(False, ServerError.message)
    return ProbeResult(True, CONNECTED)
