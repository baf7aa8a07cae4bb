"""Connection tests of a server configuration: each leg (outgoing, incoming) checked on its own.

Every host goes through the network guard and the connection is made to the vetted address.
Messages are short and human ("authentication failed", "timed out after 10 s"); they never echo
server banners or resolver details, so the endpoint cannot be used to map a network.
"""

from __future__ import annotations

import asyncio
import imaplib
import poplib
import socket
import ssl
from typing import TYPE_CHECKING

import aiosmtplib
import httpx
import structlog

from postdesk.db import utcnow
from postdesk.net.guard import HostNotAllowed, NetworkGuard, VettedHost
from postdesk.servers.models import IncomingProtocol, Security, ServerType
from postdesk.servers.schemas import ConnectionTestResult, LegResult

if TYPE_CHECKING:
    from postdesk.servers.service import ServerConfig

log = structlog.get_logger(__name__)

DEFAULT_TIMEOUT = 10.0
SENDGRID_API_URL = "https://api.sendgrid.com"


class LegFailed(Exception):
    """A leg failed for a reason worth telling the admin."""


async def test_connection(
    config: ServerConfig, *, guard: NetworkGuard, timeout: float = DEFAULT_TIMEOUT,
    tls_context: ssl.SSLContext | None = None, sendgrid_api_url: str = SENDGRID_API_URL,
) -> ConnectionTestResult:
    context = tls_context or ssl.create_default_context()
    legs: list[asyncio.Task[LegResult]] = []
    async with asyncio.TaskGroup() as group:
        if config.server_type == ServerType.sendgrid:
            legs.append(group.create_task(_leg("outgoing", "sendgrid", timeout,
                                               _check_sendgrid(config, timeout, sendgrid_api_url))))
        else:
            legs.append(group.create_task(_leg("outgoing", "smtp", timeout,
                                               _check_smtp(config, guard, timeout, context))))
        if config.incoming_protocol == IncomingProtocol.imap:
            legs.append(group.create_task(_leg("incoming", "imap", timeout,
                                               _check_imap(config, guard, timeout, context))))
        elif config.incoming_protocol == IncomingProtocol.pop3:
            legs.append(group.create_task(_leg("incoming", "pop3", timeout,
                                               _check_pop3(config, guard, timeout, context))))
    results = [leg.result() for leg in legs]
    return ConnectionTestResult(ok=all(r.ok for r in results), tested_at=utcnow(), legs=results)


async def _leg(leg: str, protocol: str, timeout: float, check) -> LegResult:  # noqa: ANN001
    try:
        async with asyncio.timeout(timeout + 1):
            await check
        return LegResult(leg=leg, protocol=protocol, ok=True, message="connected")  # type: ignore[arg-type]
    except BaseException as exc:  # every failure becomes a message; nothing escapes to a 500
        if not isinstance(exc, Exception):
            raise
        message = _describe(exc, timeout)
        log.info("connection_test_failed", leg=leg, protocol=protocol, error=repr(exc)[:300])
        return LegResult(leg=leg, protocol=protocol, ok=False, message=message)  # type: ignore[arg-type]


def _describe(exc: Exception, timeout: float) -> str:
    if isinstance(exc, LegFailed):
        return str(exc)
    if isinstance(exc, HostNotAllowed):
        return "host not allowed"
    if isinstance(exc, (TimeoutError, socket.timeout, aiosmtplib.SMTPTimeoutError)):
        return f"timed out after {timeout:g} s"
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return "authentication failed"
    if isinstance(exc, ssl.SSLError) or "SSL" in type(exc).__name__ or _caused_by_ssl(exc):
        return "TLS handshake failed"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, (aiosmtplib.SMTPServerDisconnected, ConnectionResetError, EOFError)):
        return "the server closed the connection"
    if isinstance(exc, socket.gaierror):
        return "host name could not be resolved"
    return "could not connect"


def _caused_by_ssl(exc: BaseException) -> bool:
    cause = exc.__cause__ or exc.__context__
    return cause is not None and (isinstance(cause, ssl.SSLError) or _caused_by_ssl(cause))


async def _vet(host: str | None, guard: NetworkGuard, timeout: float) -> VettedHost:
    if not host:
        raise LegFailed("no server address configured")
    return await guard.vet(host, timeout=timeout)


async def _check_smtp(config: ServerConfig, guard: NetworkGuard, timeout: float, context: ssl.SSLContext) -> None:
    vetted = await _vet(config.smtp_host, guard, timeout)
    sock = await vetted.open_socket(config.smtp_port or 25, timeout=timeout)
    # From here the socket belongs to aiosmtplib's transport, which closes it; closing it here too
    # would free the descriptor while the event loop still watches it.
    client = aiosmtplib.SMTP(
        hostname=vetted.hostname, sock=sock, timeout=timeout, tls_context=context,
        use_tls=config.smtp_security == Security.tls,
        start_tls=True if config.smtp_security == Security.starttls else False,
    )
    try:
        await client.connect()
        if config.smtp_username:
            await client.login(config.smtp_username, config.smtp_password or "")
        await client.noop()
    finally:
        if client.is_connected:
            try:
                await client.quit()
            except aiosmtplib.SMTPException:
                client.close()
        else:
            client.close()


async def _check_sendgrid(config: ServerConfig, timeout: float, base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout) as http:
        response = await http.get("/v3/scopes", headers={"Authorization": f"Bearer {config.sendgrid_api_token}"})
    if response.status_code in (401, 403):
        raise LegFailed("authentication failed")
    if response.status_code != 200:
        raise LegFailed(f"unexpected answer from SendGrid (HTTP {response.status_code})")
    if "mail.send" not in response.json().get("scopes", []):
        raise LegFailed("the API key may not send mail (missing the mail.send scope)")


def _blocking_socket(vetted: VettedHost, port: int, timeout: float) -> socket.socket:
    """A blocking socket to the first vetted address that accepts (for the stdlib IMAP/POP3 clients)."""
    error: OSError = OSError("no address")
    for address in vetted.addresses:
        try:
            return socket.create_connection((address, port), timeout=timeout)
        except ConnectionRefusedError as refused:
            error = refused
    raise error


async def _check_imap(config: ServerConfig, guard: NetworkGuard, timeout: float, context: ssl.SSLContext) -> None:
    vetted = await _vet(config.incoming_host, guard, timeout)
    port = config.incoming_port or 993

    def check() -> None:
        class VettedIMAP(imaplib.IMAP4):
            def _create_socket(self, _timeout):  # noqa: ANN001, ANN202 - connect to the vetted address
                sock = _blocking_socket(vetted, port, timeout)
                if config.incoming_security == Security.tls:
                    return context.wrap_socket(sock, server_hostname=vetted.hostname)
                return sock

        imap = VettedIMAP(vetted.hostname, port, timeout=timeout)
        try:
            if config.incoming_security == Security.starttls:
                imap.starttls(context)
            try:
                imap.login(config.incoming_username or "", config.incoming_password or "")
            except imaplib.IMAP4.error as exc:
                raise LegFailed("authentication failed") from exc
            status, _ = imap.select(_quoted(config.imap_folder), readonly=True)
            if status != "OK":
                raise LegFailed("folder not found")
        finally:
            try:
                imap.logout()
            except (imaplib.IMAP4.error, OSError):
                pass

    await asyncio.to_thread(check)


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def _check_pop3(config: ServerConfig, guard: NetworkGuard, timeout: float, context: ssl.SSLContext) -> None:
    vetted = await _vet(config.incoming_host, guard, timeout)
    port = config.incoming_port or 995

    def check() -> None:
        class VettedPOP3(poplib.POP3):
            def _create_socket(self, _timeout):  # noqa: ANN001, ANN202 - connect to the vetted address
                sock = _blocking_socket(vetted, port, timeout)
                if config.incoming_security == Security.tls:
                    return context.wrap_socket(sock, server_hostname=vetted.hostname)
                return sock

        pop = VettedPOP3(vetted.hostname, port, timeout=timeout)
        try:
            if config.incoming_security == Security.starttls:
                pop.stls(context)
            try:
                pop.user(config.incoming_username or "")
                pop.pass_(config.incoming_password or "")
            except poplib.error_proto as exc:
                raise LegFailed("authentication failed") from exc
            pop.stat()
        finally:
            try:
                pop.quit()
            except (poplib.error_proto, OSError):
                pop.close()

    await asyncio.to_thread(check)
