"""Connection tests of a server configuration: each leg (outgoing, incoming) checked on its own.

The checking itself is `postdesk.mail.probe` (the same guard, TLS and login code that sending and
fetching use); this module turns a stored configuration into the adapters' `MailServer` settings and
the probes' answers into the API's per-leg result. Messages stay short and human ("authentication
failed", "timed out after 10 s") and never echo banners, resolver details or secrets.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import structlog

from postdesk.db import utcnow
from postdesk.mail import probe
from postdesk.mail.connection import MailServer
from postdesk.mail.connection import Security as MailSecurity
from postdesk.mail.sendgrid import SENDGRID_API
from postdesk.net.guard import NetworkGuard
from postdesk.servers.models import IncomingProtocol, ServerType
from postdesk.servers.schemas import ConnectionTestResult, LegResult

if TYPE_CHECKING:
    from postdesk.servers.service import ServerConfig

log = structlog.get_logger(__name__)

DEFAULT_TIMEOUT = probe.PROBE_TIMEOUT
SENDGRID_API_URL = SENDGRID_API
NO_ADDRESS = "no server address configured"
NO_TOKEN = "no API token configured"


@dataclass(frozen=True)
class MailNetwork:
    """How this process reaches admin-entered mail servers: the guard, trusted CAs, timeouts."""

    guard: NetworkGuard
    tls_context: ssl.SSLContext | None = field(default=None, repr=False)  # None: system CAs only
    sendgrid_api_url: str = SENDGRID_API_URL
    timeout: float = DEFAULT_TIMEOUT

    async def test(self, config: ServerConfig) -> ConnectionTestResult:
        return await test_connection(config, self)


def outgoing_server(config: ServerConfig, network: MailNetwork) -> MailServer:
    """The SMTP settings of `config` as the mail adapters take them (for sending and probing)."""
    return MailServer(
        host=config.smtp_host or "",
        port=config.smtp_port or 25,
        security=MailSecurity(config.smtp_security.value),
        username=config.smtp_username,
        password=config.smtp_password,
        timeout=network.timeout,
        tls_context=network.tls_context,
    )


def incoming_server(config: ServerConfig, network: MailNetwork) -> MailServer:
    """The IMAP/POP3 settings of `config` as the mail adapters take them (for fetching and probing)."""
    return MailServer(
        host=config.incoming_host or "",
        port=config.incoming_port or 0,
        security=MailSecurity(config.incoming_security.value),
        username=config.incoming_username,
        password=config.incoming_password,
        timeout=network.timeout,
        tls_context=network.tls_context,
    )


async def test_connection(config: ServerConfig, network: MailNetwork) -> ConnectionTestResult:
    async with asyncio.TaskGroup() as group:
        legs = [group.create_task(_outgoing(config, network))]
        if config.incoming_protocol != IncomingProtocol.none:
            legs.append(group.create_task(_incoming(config, network)))
    results = [leg.result() for leg in legs]
    return ConnectionTestResult(ok=all(r.ok for r in results), tested_at=utcnow(), legs=results)


async def _outgoing(config: ServerConfig, network: MailNetwork) -> LegResult:
    if config.server_type == ServerType.sendgrid:
        if not config.sendgrid_api_token:
            return _leg("outgoing", "sendgrid", probe.ProbeResult(False, NO_TOKEN))
        result = await probe.probe_sendgrid(
            config.sendgrid_api_token, base_url=network.sendgrid_api_url, timeout=network.timeout
        )
        return _leg("outgoing", "sendgrid", result)
    if not config.smtp_host:
        return _leg("outgoing", "smtp", probe.ProbeResult(False, NO_ADDRESS))
    return _leg("outgoing", "smtp", await probe.probe_smtp(outgoing_server(config, network), guard=network.guard))


async def _incoming(config: ServerConfig, network: MailNetwork) -> LegResult:
    protocol = config.incoming_protocol.value
    if not config.incoming_host:
        return _leg("incoming", protocol, probe.ProbeResult(False, NO_ADDRESS))
    server = incoming_server(config, network)
    if config.incoming_protocol == IncomingProtocol.imap:
        result = await probe.probe_imap(server, guard=network.guard, folder=config.imap_folder)
    else:
        result = await probe.probe_pop3(server, guard=network.guard)
    return _leg("incoming", protocol, result)


def _leg(leg: str, protocol: str, result: probe.ProbeResult) -> LegResult:
    if not result.ok:
        log.info("connection_test_failed", leg=leg, protocol=protocol, message=result.message)
    return LegResult(leg=leg, protocol=protocol, ok=result.ok, message=result.message)  # type: ignore[arg-type]
