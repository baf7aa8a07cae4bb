"""ASGI middleware: request size limit, security headers, access log and metrics."""

from __future__ import annotations

import time
import uuid

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from postdesk.errors import error_response
from postdesk.observability import HTTP_LATENCY, HTTP_REQUESTS

log = structlog.get_logger("postdesk.http")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


class BodyTooLarge(Exception):
    pass


class RequestGuardMiddleware:
    """Refuses bodies over the limit (413), adds security headers, logs and measures each request."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            response = error_response(413, "payload_too_large", f"Request body over {self.max_body_bytes} bytes.")
            await response(scope, receive, send)
            return

        request_id = uuid.uuid4().hex[:12]
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge
            return message

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                # A response that set its own (stricter) policy keeps it, e.g. the public rating pages.
                message["headers"] = [*headers, *(h for h in SECURITY_HEADERS if h[0] not in present),
                                      (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except BodyTooLarge:
            response = error_response(413, "payload_too_large", f"Request body over {self.max_body_bytes} bytes.")
            await response(scope, receive, send_with_headers)
        finally:
            route = scope.get("route")
            route_name = getattr(route, "path", "unmatched")
            elapsed = time.perf_counter() - started
            HTTP_REQUESTS.labels(scope["method"], route_name, str(status)).inc()
            HTTP_LATENCY.labels(scope["method"], route_name).observe(elapsed)
            if scope["path"] not in ("/healthz", "/readyz", "/metrics"):
                log.info("request", method=scope["method"], path=scope["path"], status=status,
                         ms=round(elapsed * 1000, 1))
            structlog.contextvars.unbind_contextvars("request_id")
