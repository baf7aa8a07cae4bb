"""Sending one outgoing message through a company's configured email server (SMTP or SendGrid).

Turns the stored `EmailServer` row into the right mail adapter (secrets decrypted, the network
guard and the process's TLS trust applied) and reports what happened as a `SendOutcome`. Failures
are the adapters' own: `TransientDeliveryError` (retry later), `PermanentDeliveryError` (don't),
`InvalidMessage` (the message itself can never be sent). Used by the delivery job and by
notifications; it writes nothing to the database.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from postdesk.mail.compose import OutgoingMessage, build_message, check_message, message_bytes
from postdesk.mail.errors import PermanentDeliveryError, RecipientRefusal
from postdesk.mail.sendgrid import SendGridSender
from postdesk.mail.smtp import SmtpSender
from postdesk.servers.connection import MailNetwork, outgoing_server
from postdesk.servers.models import EmailServer, ServerType
from postdesk.servers.service import config_from_server, with_default_ports

if TYPE_CHECKING:
    from postdesk.runtime import Runtime

# SendGrid is an HTTP API with large bodies; give it more than one SMTP dialogue step.
SENDGRID_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class SendOutcome:
    """A message the server accepted (for at least one recipient)."""

    message_id: str  # our Message-ID header, angle-bracketed
    provider_message_id: str | None  # SendGrid's X-Message-Id, or the SMTP server's answer to DATA
    raw: bytes  # the RFC 5322 message as we built it (SMTP: same headers and parts; MIME boundaries may differ)
    accepted: tuple[str, ...]
    refused: tuple[RecipientRefusal, ...] = ()


async def send_via_server(runtime: Runtime, server: EmailServer, message: OutgoingMessage) -> SendOutcome:
    """Send `message` through `server`; raises InvalidMessage, TransientDeliveryError or PermanentDeliveryError."""
    checked = check_message(message)
    raw = await asyncio.to_thread(lambda: message_bytes(build_message(checked)))
    config = with_default_ports(config_from_server(server, runtime.secret_box))
    settings = runtime.settings
    if config.server_type == ServerType.sendgrid:
        if not config.sendgrid_api_token:
            raise PermanentDeliveryError("the SendGrid server has no API token configured")
        async with SendGridSender(config.sendgrid_api_token, base_url=settings.sendgrid_api_url,
                                  timeout=max(settings.mail_timeout_seconds, SENDGRID_TIMEOUT_SECONDS)) as sender:
            result = await sender.send(checked)
        return SendOutcome(checked.message_id, result.provider_message_id, raw, tuple(checked.envelope_recipients))
    if not config.smtp_host:
        raise PermanentDeliveryError("the SMTP server has no host configured")
    network = MailNetwork(guard=runtime.network_guard, tls_context=runtime.mail_tls_context,
                          sendgrid_api_url=settings.sendgrid_api_url, timeout=settings.mail_timeout_seconds)
    result = await SmtpSender(outgoing_server(config, network), guard=runtime.network_guard).send(checked)
    return SendOutcome(checked.message_id, result.reply[:200] or None, raw, result.accepted, result.refused)


__all__ = ["SendOutcome", "send_via_server"]
