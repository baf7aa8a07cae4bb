"""Receiving mail from a company's POP3 mailbox (stdlib poplib, run in a worker thread).

POP3 has no folders and no flags: the fetcher lists messages by UIDL (stable ids), retrieves the
ones it has not stored yet, and deletes a message only when asked, after the caller committed it.
Deletions take effect at `close()` (QUIT): if the connection drops first, the server keeps the
messages, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import poplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from postdesk.mail.connection import (
    MailServer,
    Security,
    login_credentials,
    server_error,
    tls_context,
    vet_server,
)
from postdesk.mail.errors import AuthenticationFailed, ProtocolError, ServerError, TlsFailed
from postdesk.net import NetworkGuard, VettedHost

# poplib refuses lines over 2048 bytes; real mail (HTML on one line) often has longer ones.
MAX_LINE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Pop3Listing:
    uid: str  # UIDL: stable across sessions
    number: int  # message number: valid in this session only
    size: int


class Pop3Mailbox:
    """One logged-in POP3 session: `async with Pop3Mailbox(server, guard=guard) as mailbox:`."""

    def __init__(self, server: MailServer, *, guard: NetworkGuard) -> None:
        self.server = server
        self.guard = guard
        self._client: _GuardedPOP3 | None = None
        self._numbers: dict[str, int] = {}
        self._lock = asyncio.Lock()  # poplib is not thread-safe: one command at a time

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if exc_type is None:
            await self.close()
        else:
            await self.abort()  # leave pending deletions undone: the caller did not finish

    async def connect(self) -> None:
        """Connect, encrypt as configured and log in; raises ServerError kinds."""
        login_credentials(self.server)  # refused before any connection is made
        vetted = await vet_server(self.server, self.guard)
        context = await tls_context(self.server) if self.server.uses_tls else None
        opening = asyncio.ensure_future(self._run(lambda: _open(vetted, self.server, context)))
        try:
            self._client = await asyncio.shield(opening)
        except asyncio.CancelledError:
            # The thread cannot be stopped; close what it opens instead of leaking the socket.
            opening.add_done_callback(_close_opened_client)
            raise

    async def stat(self) -> tuple[int, int]:
        """(message count, mailbox size in bytes)."""
        return await self._run(lambda: self._connected.stat())

    async def list_messages(self) -> list[Pop3Listing]:
        def listing() -> list[Pop3Listing]:
            client = self._connected
            uids = dict(_pairs(client.uidl()[1]))
            sizes = dict(_pairs(client.list()[1]))
            return [
                Pop3Listing(uid, int(number), int(sizes.get(number, "0"))) for number, uid in uids.items()
            ]

        listings = await self._run(listing)
        self._numbers = {item.uid: item.number for item in listings}
        return listings

    async def retrieve(self, uid: str) -> bytes:
        number = self._number(uid)
        return await self._run(lambda: b"\r\n".join(self._connected.retr(number)[1]) + b"\r\n")

    async def retrieve_header(self, uid: str) -> bytes:
        """Only the header section (TOP n 0), e.g. for a message too large to download."""
        number = self._number(uid)
        return await self._run(lambda: b"\r\n".join(self._connected.top(number, 0)[1]) + b"\r\n")

    async def delete(self, uid: str) -> None:
        """Mark for deletion; the server deletes at `close()` (QUIT)."""
        number = self._number(uid)
        await self._run(lambda: self._connected.dele(number))

    async def close(self) -> None:
        """QUIT: applies the deletions."""
        client, self._client = self._client, None
        if client is not None:
            try:
                await self._run(client.quit)
            finally:
                await asyncio.to_thread(client.close)  # quit() skips it when QUIT fails

    async def abort(self) -> None:
        """Drop the connection without QUIT: the server forgets the deletions of this session."""
        client, self._client = self._client, None
        if client is not None:
            await asyncio.to_thread(client.close)

    @property
    def _connected(self) -> _GuardedPOP3:
        if self._client is None:
            raise ServerError("not connected")
        return self._client

    def _number(self, uid: str) -> int:
        try:
            return self._numbers[uid]
        except KeyError:
            raise ProtocolError(f"unknown UIDL {uid!r}: call list_messages() first") from None

    async def _run[T](self, command: Callable[[], T]) -> T:
        async with self._lock:
            try:
                return await asyncio.to_thread(command)
            except ServerError:
                raise
            except poplib.error_proto as exc:
                raise ProtocolError(str(exc)) from exc
            except (OSError, ssl.SSLError) as exc:
                raise server_error(exc, self.server.timeout) from exc


def _open(vetted: VettedHost, server: MailServer, context: ssl.SSLContext | None) -> _GuardedPOP3:
    """Blocking: connect, greet, STLS if configured, log in (runs in a worker thread)."""
    implicit = context if server.security is Security.TLS else None
    client = _GuardedPOP3(vetted, server.port, server.timeout, implicit)
    try:
        if server.security is Security.STARTTLS and context is not None:
            _start_tls(client, context)
        _login(client, *login_credentials(server))
    except BaseException:
        client.close()
        raise
    return client


def _close_opened_client(opening: asyncio.Future[_GuardedPOP3]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        opening.result().close()


def _start_tls(client: _GuardedPOP3, context: ssl.SSLContext) -> None:
    try:
        client.stls(context)
    except poplib.error_proto as exc:
        raise TlsFailed(str(exc)) from exc


def _login(client: _GuardedPOP3, username: str, password: str) -> None:
    try:
        client.user(username)
        client.pass_(password)
    except poplib.error_proto as exc:
        raise AuthenticationFailed(str(exc)) from exc


def _pairs(lines: list[bytes]) -> list[tuple[str, str]]:
    pairs = []
    for line in lines:
        first, _, second = line.decode("ascii", errors="replace").strip().partition(" ")
        if first and second:
            pairs.append((first, second.strip()))
    return pairs


class _GuardedPOP3(poplib.POP3):
    """poplib client that connects to the vetted addresses and accepts long lines."""

    def __init__(
        self, vetted: VettedHost, port: int, timeout: float, implicit_tls: ssl.SSLContext | None
    ) -> None:
        self._vetted = vetted
        self._implicit_tls = implicit_tls
        self.file = self.sock = None
        try:
            super().__init__(vetted.hostname, port, timeout)  # self.host stays the name, for TLS checks
        except BaseException:
            self.close()  # poplib leaves the socket open when the greeting fails
            raise

    def _create_socket(self, timeout: float | None) -> socket.socket:
        sock = _connect_first(self._vetted.addresses, self.port, timeout)
        if self._implicit_tls is None:
            return sock
        try:
            return self._implicit_tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise

    def _getline(self) -> tuple[bytes, int]:
        line = self.file.readline(MAX_LINE_BYTES + 1)
        if len(line) > MAX_LINE_BYTES:
            raise poplib.error_proto("line too long")
        if not line:
            raise poplib.error_proto("-ERR EOF")
        octets = len(line)
        if line[-2:] == b"\r\n":
            return line[:-2], octets
        if line[:1] == b"\r":
            return line[1:-1], octets
        return line[:-1], octets


def _connect_first(addresses: tuple[str, ...], port: int, timeout: float | None) -> socket.socket:
    last_error: OSError = OSError("no address to connect to")
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as exc:
            last_error = exc
    raise last_error
