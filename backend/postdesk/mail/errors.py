"""Errors raised by the mail adapters, shaped for the callers that must react to them.

- `InvalidMessage`: an outgoing message we refuse to build (header injection, bad address...).
- `MessageLimitExceeded`: an incoming message over the configured size, part or depth caps.
- `ServerError` and its kinds: talking to a mail server failed; `str(error)` is the human message a
  connection test shows ("authentication failed", "timed out after 10 s"...).
- `TransientDeliveryError` / `PermanentDeliveryError`: whether sending an outgoing message is worth
  retrying later (4xx, disconnects, timeouts, rate limits) or not (5xx, rejected payload).
"""

from __future__ import annotations

from dataclasses import dataclass


class MailError(Exception):
    """Base class of every error raised by `postdesk.mail`."""


class InvalidMessage(MailError, ValueError):
    """An outgoing message that must not be sent as given; `field` names the offending input."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class MessageLimitExceeded(MailError):
    """An incoming message exceeds one of the parser's caps (`limit` is "bytes", "parts" or "depth")."""

    def __init__(self, limit: str, maximum: int, actual: int | None = None) -> None:
        detail = f" ({actual})" if actual is not None else ""
        super().__init__(f"message exceeds the {limit} limit of {maximum}{detail}")
        self.limit = limit
        self.maximum = maximum
        self.actual = actual

    def __reduce__(self):  # crosses process boundaries (mail is parsed in a process pool)
        return (type(self), (self.limit, self.maximum, self.actual))


class ServerError(MailError):
    """Talking to a mail server failed. `str()` is a short message fit for an admin."""

    message = "unexpected answer from the server"

    def __init__(self, detail: str = "", *, message: str | None = None) -> None:
        super().__init__(message or self.message)
        self.detail = detail  # technical detail for logs, never shown to the admin


class HostRefused(ServerError):
    message = "host not allowed"


class ConnectionRefused(ServerError):
    message = "connection refused"


class ConnectionFailed(ServerError):
    message = "could not connect"


class ServerTimeout(ServerError):
    def __init__(self, seconds: float, detail: str = "") -> None:
        super().__init__(detail, message=f"timed out after {seconds:g} s")
        self.seconds = seconds


class TlsFailed(ServerError):
    message = "TLS handshake failed"


class AuthenticationFailed(ServerError):
    message = "authentication failed"


class FolderNotFound(ServerError):
    message = "folder not found"


class ProtocolError(ServerError):
    message = "unexpected answer from the server"


class UidValidityChanged(MailError):
    """The IMAP folder was recreated: UIDs seen before mean nothing now, the caller must resync."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(f"UIDVALIDITY changed from {expected} to {actual}")
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True)
class RecipientRefusal:
    """One recipient the server would not take, with its reply."""

    address: str
    code: int
    message: str

    @property
    def transient(self) -> bool:
        return 400 <= self.code < 500


class DeliveryError(MailError):
    """Sending an outgoing message failed.

    `code` is the SMTP or HTTP status when there was one; `refused` lists per-recipient refusals
    when every recipient was refused.
    """

    def __init__(
        self, message: str, *, code: int | None = None, refused: tuple[RecipientRefusal, ...] = ()
    ) -> None:
        super().__init__(message)
        self.code = code
        self.refused = refused


class TransientDeliveryError(DeliveryError):
    """Worth retrying later: 4xx replies, disconnects, timeouts, rate limits, server outages, and
    connection problems (`server_error` says which; a wrong password is fixed by an admin, then the
    queued message goes out)."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        refused: tuple[RecipientRefusal, ...] = (),
        retry_after: float | None = None,
        server_error: ServerError | None = None,
    ) -> None:
        super().__init__(message, code=code, refused=refused)
        self.retry_after = retry_after  # seconds the server asked us to wait, when it said so
        self.server_error = server_error


class PermanentDeliveryError(DeliveryError):
    """Retrying the same message will fail again: 5xx replies, a payload the provider rejects."""
