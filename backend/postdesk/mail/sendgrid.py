"""Sending mail through the SendGrid v3 Web API (`POST /v3/mail/send`) with httpx.

The same `OutgoingMessage` that the SMTP sender takes becomes a SendGrid JSON payload. SendGrid's
documented limits are checked before the request (so a message that can never go out fails at
once with `InvalidMessage` naming the field), and API answers map onto the delivery errors:
400/401/403/413 are permanent, 429 and 5xx transient (with the wait SendGrid asked for).

The base URL is operator configuration (EU region, or a local stand-in in tests), not admin input.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Self

import httpx

from postdesk.mail.addresses import EmailAddress
from postdesk.mail.compose import Attachment, CheckedMessage, OutgoingMessage, check_message
from postdesk.mail.errors import InvalidMessage, PermanentDeliveryError, TransientDeliveryError

SENDGRID_API = "https://api.sendgrid.com"
MAIL_SEND_PATH = "/v3/mail/send"
SCOPES_PATH = "/v3/scopes"

# Limits from SendGrid's Mail Send reference and its list of 400 errors.
MAX_PAYLOAD_BYTES = 30 * 1024 * 1024
MAX_PERSONALIZATIONS = 1000
MAX_RECIPIENTS = 1000
MAX_REPLY_TO = 1000
RESERVED_HEADERS = frozenset(
    {"x-sg-id", "x-sg-eid", "received", "dkim-signature", "content-type", "content-transfer-encoding",
     "to", "from", "subject", "reply-to", "cc", "bcc"}
)  # fmt: skip
PERMANENT_STATUSES = frozenset({400, 401, 403, 404, 405, 413})


@dataclass(frozen=True)
class SendGridResult:
    message_id: str  # our Message-ID header
    provider_message_id: str | None  # SendGrid's X-Message-Id, to match its event webhooks


class SendGridSender:
    """Sends messages with one SendGrid API key; reuse one instance (it pools HTTP connections)."""

    def __init__(self, api_key: str, *, base_url: str = SENDGRID_API, timeout: float = 30.0) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            headers={"Authorization": f"Bearer {api_key}", "User-Agent": "Postdesk"},
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(self, message: OutgoingMessage | CheckedMessage) -> SendGridResult:
        checked = message if isinstance(message, CheckedMessage) else check_message(message)
        # base64 and JSON of up to 30 MB is CPU work: keep it off the event loop.
        body = await asyncio.to_thread(lambda: encode_payload(build_payload(checked)))
        try:
            response = await self._client.post(
                MAIL_SEND_PATH, content=body, headers={"Content-Type": "application/json"}
            )
        except httpx.TimeoutException as exc:
            raise TransientDeliveryError(f"SendGrid timed out: {exc!r}") from exc
        except httpx.TransportError as exc:
            raise TransientDeliveryError(f"SendGrid unreachable: {exc!r}") from exc
        if response.is_success:
            return SendGridResult(checked.message_id, response.headers.get("X-Message-Id"))
        raise _response_error(response)


def build_payload(checked: CheckedMessage) -> dict[str, Any]:
    """The /v3/mail/send JSON for `checked`; raises InvalidMessage where SendGrid would answer 400."""
    personalization = _personalization(checked)
    if not checked.subject.strip():
        raise InvalidMessage("subject", "SendGrid requires a subject")
    if not checked.text:
        raise InvalidMessage("text", "SendGrid requires a non-empty body")
    payload: dict[str, Any] = {
        "personalizations": [personalization],
        "from": _address(checked.sender),
        "subject": checked.subject,
        # SendGrid requires text/plain first, then text/html.
        "content": [{"type": "text/plain", "value": checked.text}]
        + ([{"type": "text/html", "value": checked.html}] if checked.html else []),
        "headers": _headers(checked),
    }
    if len(checked.reply_to) == 1:
        payload["reply_to"] = _address(checked.reply_to[0])
    elif checked.reply_to:
        if len(checked.reply_to) > MAX_REPLY_TO:
            raise InvalidMessage("reply_to", f"SendGrid accepts at most {MAX_REPLY_TO} reply-to addresses")
        payload["reply_to_list"] = [_address(address) for address in checked.reply_to]
    if checked.attachments:
        payload["attachments"] = [_attachment(attachment) for attachment in checked.attachments]
    return payload


def encode_payload(payload: dict[str, Any]) -> bytes:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    if len(body) > MAX_PAYLOAD_BYTES:
        raise InvalidMessage(
            "attachments", f"message is {len(body) / 1_048_576:.1f} MB; SendGrid accepts at most 30 MB"
        )
    return body


def _personalization(checked: CheckedMessage) -> dict[str, Any]:
    if not checked.to:
        raise InvalidMessage("to", "SendGrid requires at least one To recipient")
    # SendGrid refuses an address that appears twice in to/cc/bcc; the first mention wins.
    seen: set[str] = set()
    groups = {
        "to": _unique(checked.to, seen),
        "cc": _unique(checked.cc, seen),
        "bcc": _unique(checked.bcc, seen),
    }
    if len(seen) > MAX_RECIPIENTS:
        raise InvalidMessage("to", f"SendGrid accepts at most {MAX_RECIPIENTS} recipients per message")
    return {
        kind: [_address(address) for address in addresses] for kind, addresses in groups.items() if addresses
    }


def _unique(addresses: Iterable[EmailAddress], seen: set[str]) -> list[EmailAddress]:
    unique = []
    for address in addresses:
        key = address.address.lower()
        if key not in seen:
            seen.add(key)
            unique.append(address)
    return unique


def _address(address: EmailAddress) -> dict[str, str]:
    return {"email": address.address, "name": address.name} if address.name else {"email": address.address}


def _headers(checked: CheckedMessage) -> dict[str, str]:
    headers = {"Message-ID": checked.message_id}
    if checked.in_reply_to:
        headers["In-Reply-To"] = checked.in_reply_to
    if checked.references:
        headers["References"] = " ".join(checked.references)
    if checked.auto_submitted:
        headers["Auto-Submitted"] = checked.auto_submitted
    for name, value in checked.headers:
        if name.lower() in RESERVED_HEADERS:
            raise InvalidMessage("headers", f"{name} is reserved by SendGrid")
        headers[name] = value
    return headers


def _attachment(attachment: Attachment) -> dict[str, str]:
    item = {
        "content": base64.b64encode(attachment.data).decode("ascii"),
        "filename": attachment.filename,
        "type": attachment.content_type,
        "disposition": "inline" if attachment.inline else "attachment",
    }
    if attachment.content_id:
        item["content_id"] = attachment.content_id
    return item


def _response_error(response: httpx.Response) -> TransientDeliveryError | PermanentDeliveryError:
    message = f"SendGrid {response.status_code}: {_error_messages(response)}"
    if response.status_code == 429 or response.status_code >= 500:
        return TransientDeliveryError(message, code=response.status_code, retry_after=_retry_after(response))
    if response.status_code in PERMANENT_STATUSES or 400 <= response.status_code < 500:
        return PermanentDeliveryError(message, code=response.status_code)
    return TransientDeliveryError(message, code=response.status_code)


def _error_messages(response: httpx.Response) -> str:
    try:
        errors = response.json().get("errors") or []
        messages = [
            f"{error['message']} ({error['field']})" if error.get("field") else str(error["message"])
            for error in errors
            if isinstance(error, dict) and error.get("message")
        ]
    except (ValueError, AttributeError, TypeError):
        messages = []
    return "; ".join(messages) or response.reason_phrase or "no error message"


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait, from Retry-After (seconds or HTTP date) or SendGrid's X-RateLimit-Reset."""
    retry_after = response.headers.get("Retry-After")
    if retry_after:
        if retry_after.strip().isdigit():
            return float(retry_after)
        try:
            return max(0.0, parsedate_to_datetime(retry_after).timestamp() - time.time())
        except (TypeError, ValueError):
            pass
    reset = response.headers.get("X-RateLimit-Reset")
    if reset and reset.strip().isdigit():
        return max(0.0, int(reset) - time.time())
    return None
