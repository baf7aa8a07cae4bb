"""What the SMTP, IMAP and POP3 adapters share: server settings, TLS, the guard, error translation.

Each adapter opens its connection to the address vetted by `postdesk.net` and verifies TLS against
the host name the admin entered; low-level failures (refused, timed out, TLS, ...) are translated
once here into the `ServerError` kinds whose messages connection tests show.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from enum import StrEnum

from postdesk.mail.errors import (
    AuthenticationFailed,
    ConnectionFailed,
    ConnectionRefused,
    HostRefused,
    ServerError,
    ServerTimeout,
    TlsFailed,
)
from postdesk.net import HostNotAllowed, NetworkGuard, VettedHost

DEFAULT_TIMEOUT = 30.0


class Security(StrEnum):
    NONE = "none"  # plain text (only sensible on a trusted network)
    STARTTLS = "starttls"  # plain connect, then upgrade; refused if the server cannot upgrade
    TLS = "tls"  # TLS from the first byte (SMTPS 465, IMAPS 993, POP3S 995)


@dataclass(frozen=True)
class MailServer:
    """How to reach and log in to one mail server, as configured by a company admin."""

    host: str
    port: int
    security: Security = Security.STARTTLS
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = DEFAULT_TIMEOUT
    verify_tls: bool = True
    ca_pem: str | None = field(default=None, repr=False)  # extra trusted CA, e.g. a company's own
    # A ready client context (e.g. the process's, trusting POSTDESK_MAIL_CA_FILE); when set it is used
    # as is and `verify_tls`/`ca_pem` are ignored.
    tls_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)

    @property
    def uses_tls(self) -> bool:
        return self.security is not Security.NONE


async def vet_server(server: MailServer, guard: NetworkGuard) -> VettedHost:
    try:
        return await guard.vet(server.host, timeout=server.timeout)
    except HostNotAllowed as exc:
        raise HostRefused(exc.reason) from None


async def tls_context(server: MailServer) -> ssl.SSLContext:
    """A client TLS context for `server`, built in a thread (loading CA files is blocking I/O)."""
    if server.tls_context is not None:
        return server.tls_context
    return await asyncio.to_thread(_build_tls_context, server.verify_tls, server.ca_pem)


def _build_tls_context(verify: bool, ca_pem: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca_pem:
        context.load_verify_locations(cadata=ca_pem)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def login_credentials(server: MailServer) -> tuple[str, str]:
    """(username, password) to send; refuses line breaks and NULs, which would inject protocol commands."""
    username, password = server.username or "", server.password or ""
    if any(char in value for value in (username, password) for char in "\r\n\x00"):
        raise AuthenticationFailed("user name or password contains a line break or NUL")
    return username, password


def server_error(exc: BaseException, timeout: float) -> ServerError:
    """Translate a low-level failure (looking through wrapped causes) into a ServerError kind."""
    for cause in _cause_chain(exc):
        match cause:
            case ServerError():
                return cause
            case HostNotAllowed():
                return HostRefused(cause.reason)
            case ssl.SSLError() | ssl.CertificateError():
                return TlsFailed(str(cause))
            case TimeoutError():
                return ServerTimeout(timeout, str(exc))
            case ConnectionAbortedError() if "handshake is taking longer" in str(cause):
                return ServerTimeout(timeout, str(cause))  # asyncio's own TLS handshake timeout
            case ConnectionRefusedError():
                return ConnectionRefused(str(cause))
    if isinstance(exc, OSError):
        return ConnectionFailed(str(exc))
    return ServerError(f"{type(exc).__name__}: {exc}")


def _cause_chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain
