"""Sending mail through a company's own SMTP server (aiosmtplib).

A send job opens one `SmtpSession` and pushes several messages through the same connection. The
outcome of each message is a `DeliveryResult` (who was accepted, who was refused and why) or a
`TransientDeliveryError` (retry later: 4xx, disconnects, timeouts, connection problems) or a
`PermanentDeliveryError` (5xx: retrying the same message would fail again).

Messages are validated before any byte goes to the server, so an injected header never reaches it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import aiosmtplib

from postdesk.mail.compose import CheckedMessage, OutgoingMessage, build_message, check_message, message_bytes
from postdesk.mail.connection import (
    MailServer,
    Security,
    login_credentials,
    server_error,
    tls_context,
    vet_server,
)
from postdesk.mail.errors import (
    AuthenticationFailed,
    PermanentDeliveryError,
    RecipientRefusal,
    ServerError,
    TlsFailed,
    TransientDeliveryError,
)
from postdesk.net import NetworkGuard

# A reused connection idle longer than this is checked with NOOP first: servers drop idle clients,
# and resending after a lost reply could deliver a message twice.
IDLE_CHECK_AFTER = 5.0


@dataclass(frozen=True)
class DeliveryResult:
    message_id: str
    accepted: tuple[str, ...]
    refused: tuple[RecipientRefusal, ...]
    reply: str  # the server's answer to DATA, often with its queue id


async def connect_smtp(
    server: MailServer, *, guard: NetworkGuard, local_hostname: str | None = None
) -> aiosmtplib.SMTP:
    """An SMTP connection, encrypted as configured and logged in; raises ServerError kinds."""
    username, password = login_credentials(server)
    vetted = await vet_server(server, guard)
    context = await tls_context(server) if server.uses_tls else None
    try:
        sock = await vetted.open_socket(server.port, timeout=server.timeout)
    except (OSError, TimeoutError) as exc:
        raise server_error(exc, server.timeout) from exc
    client = aiosmtplib.SMTP(
        hostname=vetted.hostname,  # TLS is verified against the name the admin entered
        sock=sock,
        timeout=server.timeout,
        use_tls=server.security is Security.TLS,
        start_tls=False,  # upgraded below, so a server without STARTTLS is refused, not used in clear
        tls_context=context,
        local_hostname=local_hostname,
    )
    try:
        await client.connect()
        if server.security is Security.STARTTLS:
            await _upgrade_to_tls(client)
        if username:
            await _log_in(client, username, password)
    except BaseException as exc:
        client.close()
        if isinstance(exc, Exception) and not isinstance(exc, ServerError):
            raise server_error(exc, server.timeout) from exc
        raise
    return client


async def _log_in(client: aiosmtplib.SMTP, username: str, password: str) -> None:
    try:
        await client.login(username, password)
    except aiosmtplib.SMTPAuthenticationError as exc:
        raise AuthenticationFailed(f"{exc.code} {exc.message}") from exc
    except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError):
        raise
    except aiosmtplib.SMTPException as exc:  # no AUTH offered, or no mechanism we share
        raise AuthenticationFailed(str(exc)) from exc


async def _upgrade_to_tls(client: aiosmtplib.SMTP) -> None:
    await client.ehlo()
    if not client.supports_extension("starttls"):
        raise TlsFailed("server does not offer STARTTLS")
    await client.starttls()


class SmtpSender:
    """Sends messages through one configured SMTP server."""

    def __init__(self, server: MailServer, *, guard: NetworkGuard, local_hostname: str | None = None) -> None:
        self.server = server
        self.guard = guard
        self.local_hostname = local_hostname

    def session(self) -> SmtpSession:
        """`async with sender.session() as session:` sends several messages over one connection."""
        return SmtpSession(self)

    async def send(
        self, message: OutgoingMessage | CheckedMessage, *, envelope_from: str | None = None
    ) -> DeliveryResult:
        checked = message if isinstance(message, CheckedMessage) else check_message(message)
        async with self.session() as session:
            return await session.send(checked, envelope_from=envelope_from)


class SmtpSession:
    def __init__(self, sender: SmtpSender) -> None:
        self._sender = sender
        self._client: aiosmtplib.SMTP | None = None
        self._last_used = 0.0

    async def __aenter__(self) -> Self:
        await self._connected_client()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.close()

    async def send(
        self, message: OutgoingMessage | CheckedMessage, *, envelope_from: str | None = None
    ) -> DeliveryResult:
        """Send one message; `envelope_from` overrides MAIL FROM (e.g. a bounce address)."""
        checked = message if isinstance(message, CheckedMessage) else check_message(message)
        data = await asyncio.to_thread(_render, checked)  # base64 of large attachments is CPU work
        client = await self._connected_client()
        sender_address = envelope_from or checked.sender.address
        try:
            refused, reply = await client.sendmail(sender_address, checked.envelope_recipients, data)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise _all_recipients_refused(exc) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise _reply_error(exc.code, exc.message) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            self._drop()
            failure = server_error(exc, self._sender.server.timeout)
            raise TransientDeliveryError(str(failure), server_error=failure) from exc
        finally:
            self._last_used = time.monotonic()
        refusals = tuple(
            RecipientRefusal(address, response.code, response.message)
            for address, response in refused.items()
        )
        accepted = tuple(address for address in checked.envelope_recipients if address not in refused)
        return DeliveryResult(message_id=checked.message_id, accepted=accepted, refused=refusals, reply=reply)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            if client.is_connected:
                await client.quit(timeout=min(5.0, self._sender.server.timeout))
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            pass  # the messages are sent (or not) already; a failed goodbye changes nothing
        finally:
            client.close()

    async def _connected_client(self) -> aiosmtplib.SMTP:
        if (
            self._client is not None
            and self._client.is_connected
            and await self._fresh_or_alive(self._client)
        ):
            return self._client
        self._drop()
        sender = self._sender
        try:
            self._client = await connect_smtp(
                sender.server, guard=sender.guard, local_hostname=sender.local_hostname
            )
        except ServerError as exc:
            raise TransientDeliveryError(str(exc), server_error=exc) from exc
        self._last_used = time.monotonic()
        return self._client

    async def _fresh_or_alive(self, client: aiosmtplib.SMTP) -> bool:
        if time.monotonic() - self._last_used < IDLE_CHECK_AFTER:
            return True
        try:
            await client.noop(timeout=min(5.0, self._sender.server.timeout))
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            return False
        return True

    def _drop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def _render(checked: CheckedMessage) -> bytes:
    return message_bytes(build_message(checked))


def _reply_error(code: int, message: str) -> TransientDeliveryError | PermanentDeliveryError:
    text = f"{code} {message}".strip()
    if 500 <= code < 600:
        return PermanentDeliveryError(text, code=code)
    return TransientDeliveryError(text, code=code if code > 0 else None)


def _all_recipients_refused(
    exc: aiosmtplib.SMTPRecipientsRefused,
) -> TransientDeliveryError | PermanentDeliveryError:
    refusals = tuple(RecipientRefusal(error.recipient, error.code, error.message) for error in exc.recipients)
    summary = "all recipients refused: " + "; ".join(f"{r.address}: {r.code} {r.message}" for r in refusals)
    if any(refusal.transient for refusal in refusals):
        return TransientDeliveryError(summary, refused=refusals)
    return PermanentDeliveryError(summary, refused=refusals)
