"""A local stand-in for the SendGrid v3 API, enforcing the rules the real one does.

    with SendGridStandIn() as sendgrid:
        sender = SendGridSender(sendgrid.api_key, base_url=sendgrid.base_url)
        ...
        sendgrid.accepted            # [AcceptedMail(message_id, payload)]
        sendgrid.fail_next(429, retry_after=7)   # the next request answers 429 (or 500, 503...)

`POST /v3/mail/send`: Bearer auth with `api_key` (401 otherwise), JSON body checks that mirror
SendGrid's documented 400 errors, 413 over 30 MB, 202 with X-Message-Id when accepted.
`GET /v3/scopes`: the key's scopes (401 for other keys). Served by uvicorn in a thread.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Self

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.net import free_port

MAX_BODY_BYTES = 30 * 1024 * 1024
RESERVED_HEADERS = {
    "x-sg-id", "x-sg-eid", "received", "dkim-signature", "content-type", "content-transfer-encoding",
    "to", "from", "subject", "reply-to", "cc", "bcc",
}  # fmt: skip


@dataclass(frozen=True)
class AcceptedMail:
    message_id: str  # the X-Message-Id we answered
    payload: dict[str, Any]


class _RequestRejected(Exception):
    def __init__(self, message: str, field: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.field, self.status = message, field, status


def _error_body(*errors: tuple[str, str | None]) -> dict[str, Any]:
    return {"errors": [{"message": message, "field": field, "help": None} for message, field in errors]}


@dataclass
class SendGridStandIn:
    api_key: str = field(default_factory=lambda: "SG." + secrets.token_urlsafe(24))
    scopes: list[str] = field(default_factory=lambda: ["mail.send", "user.profile.read"])
    accepted: list[AcceptedMail] = field(default_factory=list)
    requests: int = 0
    max_body_bytes: int = MAX_BODY_BYTES  # lower it to provoke 413 without building 30 MB
    verified_senders: set[str] | None = None  # when set, other From addresses get 403 like SendGrid's
    port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        self._failures: list[tuple[int, dict[str, Any], dict[str, str]]] = []
        self._lock = threading.Lock()
        app = Starlette(
            routes=[
                Route("/v3/mail/send", self._mail_send, methods=["POST"]),
                Route("/v3/scopes", self._scopes, methods=["GET"]),
            ]
        )
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="sendgrid-standin", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("SendGrid stand-in did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.should_exit = True
        self._thread.join(10)

    def fail_next(
        self,
        status: int,
        *,
        count: int = 1,
        retry_after: int | None = None,
        message: str | None = None,
        field: str | None = None,
    ) -> None:
        """Answer the next `count` mail sends with `status` (e.g. 429 or 500) before any other check."""
        default_message = {429: "too many requests", 400: "Bad Request"}.get(status, "internal error")
        body = _error_body((message or default_message, field))
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        if status == 429:
            headers |= {
                "X-RateLimit-Limit": "600",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(int(time.time()) + (retry_after or 60)),
            }
        with self._lock:
            self._failures.extend([(status, body, headers)] * count)

    def reset(self) -> None:
        with self._lock:
            self.accepted.clear()
            self._failures.clear()
            self.requests = 0
            self.max_body_bytes = MAX_BODY_BYTES
            self.verified_senders = None

    # --- endpoints -----------------------------------------------------------------------------

    async def _scopes(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return _unauthorized()
        return JSONResponse({"scopes": self.scopes})

    async def _mail_send(self, request: Request) -> Response:
        with self._lock:
            self.requests += 1
            forced = self._failures.pop(0) if self._failures else None
        if forced is not None:
            status, body, headers = forced
            return JSONResponse(body, status_code=status, headers=headers)
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return _unauthorized()
        declared = int(request.headers.get("content-length") or 0)
        body = await request.body() if declared <= self.max_body_bytes else b""
        if declared > self.max_body_bytes or len(body) > self.max_body_bytes:
            return JSONResponse(_error_body(("Payload Too Large", None)), status_code=413)
        try:
            payload = json.loads(body)
            _check_mail_send(payload)
            self._check_sender_identity(payload)
        except ValueError:
            return JSONResponse(_error_body(("Bad Request", None)), status_code=400)
        except _RequestRejected as rejected:
            return JSONResponse(_error_body((rejected.message, rejected.field)), status_code=rejected.status)
        message_id = secrets.token_urlsafe(16)
        with self._lock:
            self.accepted.append(AcceptedMail(message_id, payload))
        return Response(status_code=202, headers={"X-Message-Id": message_id})

    def _check_sender_identity(self, payload: dict[str, Any]) -> None:
        sender = payload["from"]["email"].lower()
        if self.verified_senders is not None and sender not in self.verified_senders:
            raise _RequestRejected(
                "The from address does not match a verified Sender Identity. Mail cannot be sent until this error "
                "is resolved.",
                "from",
                status=403,
            )


def _unauthorized() -> Response:
    message = "The provided authorization grant is invalid, expired, or revoked"
    return JSONResponse(_error_body((message, None)), status_code=401)


def _check_mail_send(payload: Any) -> None:
    if not isinstance(payload, dict):
        raise _RequestRejected("Bad Request")
    personalizations = payload.get("personalizations")
    if not isinstance(personalizations, list) or not personalizations:
        raise _RequestRejected("You must have at least one personalization.", "personalizations")
    if len(personalizations) > 1000:
        raise _RequestRejected(
            "The personalization block is limited to 1000 personalizations per API request.",
            "personalizations",
        )
    recipients = 0
    for index, personalization in enumerate(personalizations):
        recipients += _check_personalization(index, personalization)
    if recipients > 1000:
        raise _RequestRejected(
            "There is a limit of 1000 total recipients (to + cc + bcc) per request.", "personalizations"
        )
    _check_email(payload.get("from"), "from")
    subject = payload.get("subject")
    if not (isinstance(subject, str) and subject) and not all(p.get("subject") for p in personalizations):
        raise _RequestRejected("The subject is required.", "subject")
    _check_content(payload.get("content"))
    _check_headers(payload.get("headers", {}))
    if "reply_to" in payload and "reply_to_list" in payload:
        raise _RequestRejected("reply_to and reply_to_list cannot both be set.", "reply_to")
    if "reply_to" in payload:
        _check_email(payload["reply_to"], "reply_to")
    for index, attachment in enumerate(payload.get("attachments", [])):
        _check_attachment(index, attachment)


def _check_personalization(index: int, personalization: Any) -> int:
    where = f"personalizations.{index}"
    if not isinstance(personalization, dict) or not personalization.get("to"):
        raise _RequestRejected("The to parameter is required for all personalization objects.", f"{where}.to")
    seen: set[str] = set()
    count = 0
    for kind in ("to", "cc", "bcc"):
        for position, recipient in enumerate(personalization.get(kind, [])):
            address = _check_email(recipient, f"{where}.{kind}.{position}")
            if address.lower() in seen:
                raise _RequestRejected(
                    "Each email address in the personalization block should be unique between to, cc, and bcc.",
                    f"{where}.{kind}.{position}.email",
                )
            seen.add(address.lower())
            count += 1
    return count


def _check_email(value: Any, where: str) -> str:
    if not isinstance(value, dict) or not isinstance(value.get("email"), str):
        raise _RequestRejected("The email parameter is required.", f"{where}.email")
    address = value["email"]
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain or any(ch.isspace() for ch in address):
        raise _RequestRejected("Does not contain a valid address.", f"{where}.email")
    return address


def _check_content(content: Any) -> None:
    if not isinstance(content, list) or not content:
        raise _RequestRejected(
            "Unless a valid template_id is provided, the content parameter is required.", "content"
        )
    types = [item.get("type") if isinstance(item, dict) else None for item in content]
    for index, item in enumerate(content):
        if not isinstance(item, dict) or not isinstance(item.get("value"), str) or not item["value"]:
            raise _RequestRejected(
                "The content value must be a string at least one character in length.",
                f"content.{index}.value",
            )
    if "text/plain" in types and types.index("text/plain") != 0:
        raise _RequestRejected("If present, text/plain content must be first.", "content.0.type")
    if "text/html" in types and types.index("text/html") > types.count("text/plain"):
        raise _RequestRejected("If present, text/html content must come right after text/plain.", "content")


def _check_headers(headers: Any) -> None:
    if not isinstance(headers, dict):
        raise _RequestRejected("Invalid type. Expected: object, given: other.", "headers")
    for name, value in headers.items():
        if name.lower() in RESERVED_HEADERS:
            raise _RequestRejected(f"The header {name} is reserved and cannot be set.", f"headers.{name}")
        if not isinstance(value, str):
            raise _RequestRejected("Header values must be strings.", f"headers.{name}")


def _check_attachment(index: int, attachment: Any) -> None:
    where = f"attachments.{index}"
    if not isinstance(attachment, dict) or not attachment.get("filename"):
        raise _RequestRejected("The attachment filename parameter is required.", f"{where}.filename")
    try:
        base64.b64decode(attachment.get("content", ""), validate=True)
    except (binascii.Error, ValueError):
        raise _RequestRejected("The attachment content must be base64 encoded.", f"{where}.content") from None
    disposition = attachment.get("disposition", "attachment")
    if disposition not in ("inline", "attachment"):
        raise _RequestRejected("The disposition must be inline or attachment.", f"{where}.disposition")
    if disposition == "inline" and not attachment.get("content_id"):
        raise _RequestRejected(
            "The content_id parameter is required when the disposition is inline.", f"{where}.content_id"
        )
