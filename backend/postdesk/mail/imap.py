"""Receiving mail from a company's IMAP mailbox (aioimaplib).

The inbound fetcher keeps, per folder, the UIDVALIDITY and the last UID it stored. With an
`ImapMailbox` it selects the folder (a changed UIDVALIDITY raises `UidValidityChanged`: the folder
was recreated and must be resynced), streams messages above the last UID in bounded batches, marks
or deletes them once stored, then waits in IDLE until the server announces new mail. IDLE is
re-issued before servers drop it (29 minutes by RFC 2177); servers without IDLE are polled.

Three aioimaplib 2.0 behaviours are worked around here, so callers need not know them:
- a single "UID FETCH n:* (RFC822.SIZE)" over ~10,000 messages makes its parser recurse too deep
  (RecursionError): sizes are listed in windows of `size_window` UIDs;
- an EXISTS the server sends during FETCH/SEARCH/STORE is dropped and never repeated: before each
  IDLE (or poll) the folder is selected again, and a UIDNEXT above what was already seen counts as
  new mail;
- a server closing the connection during IDLE would only be noticed when the IDLE period ends: the
  connection's loss is watched and ends the wait at once with ConnectionFailed.
"""

from __future__ import annotations

import asyncio
import base64
import re
import ssl
from collections.abc import AsyncIterator, Awaitable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from types import TracebackType
from typing import NamedTuple, Self

import aioimaplib
from aioimaplib import STOP_WAIT_SERVER_PUSH, Command

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
    ConnectionFailed,
    FolderNotFound,
    ProtocolError,
    ServerError,
    TlsFailed,
    UidValidityChanged,
)
from postdesk.net import NetworkGuard, VettedHost

IDLE_REISSUE_SECONDS = 25 * 60  # below the 29 minutes after which servers may end an IDLE
POLL_SECONDS = 60.0  # for servers without IDLE
FETCH_BATCH_SIZE = 25
FETCH_BATCH_BYTES = 16 * 1024 * 1024  # a batch also ends here (always at least one message)
HEADER_ONLY_BYTES = 64 * 1024  # what a message above max_message_bytes counts (only its header is fetched)
SIZE_WINDOW = 200  # UIDs per size listing: keeps each answer small enough for aioimaplib's parser
MAX_MESSAGE_BYTES = 50 * 1024 * 1024

_FETCH_START = re.compile(rb"^\d+ FETCH \(")
_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_STATUS_CODE = re.compile(rb"\[(UIDVALIDITY|UIDNEXT) (\d+)\]")
_EXISTS = re.compile(rb"^(\d+) EXISTS")


@dataclass(frozen=True)
class FolderState:
    uidvalidity: int
    uidnext: int | None  # None when the server did not say (it may be computed from the last UID)
    exists: int


class FetchedMessage(NamedTuple):
    uid: int
    raw: bytes
    size: int
    oversized: bool = False  # over max_message_bytes: `raw` holds only the header section


class ImapMailbox:
    """One logged-in IMAP connection: `async with ImapMailbox(server, guard=guard) as mailbox:`."""

    def __init__(
        self,
        server: MailServer,
        *,
        guard: NetworkGuard,
        idle_reissue_seconds: float = IDLE_REISSUE_SECONDS,
        poll_seconds: float = POLL_SECONDS,
        fetch_batch_size: int = FETCH_BATCH_SIZE,
        fetch_batch_bytes: int = FETCH_BATCH_BYTES,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        size_window: int = SIZE_WINDOW,
    ) -> None:
        self.server = server
        self.guard = guard
        self.idle_reissue_seconds = idle_reissue_seconds
        self.poll_seconds = poll_seconds
        self.fetch_batch_size = fetch_batch_size
        self.fetch_batch_bytes = fetch_batch_bytes
        self.max_message_bytes = max_message_bytes
        self.size_window = size_window
        self._client: _GuardedImapClient | None = None
        self.folder: FolderState | None = None
        self._folder_name: str | None = None  # the encoded name of the selected folder
        self._seen_uidnext: int | None = None  # above every UID the caller has been shown

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def capabilities(self) -> frozenset[str]:
        return frozenset(self._connected.protocol.capabilities)

    @property
    def supports_idle(self) -> bool:
        return "IDLE" in self._connected.protocol.capabilities

    async def connect(self) -> None:
        """Connect, encrypt as configured and log in; raises ServerError kinds."""
        username, password = login_credentials(self.server)
        vetted = await vet_server(self.server, self.guard)
        context = await tls_context(self.server) if self.server.uses_tls else None
        implicit = context if self.server.security is Security.TLS else None
        client = _GuardedImapClient(vetted, self.server.port, implicit, self.server.timeout)
        try:
            await self._call(client.wait_hello_from_server())
            if self.server.security is Security.STARTTLS and context is not None:
                await self._call(client.starttls(context))
            response = await self._call(client.login(aioimaplib.quoted(username), password))
        except BaseException:
            await client.abort()
            raise
        if response.result != "OK":
            await client.abort()
            raise AuthenticationFailed(_text(response.lines))
        self._client = client

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            protocol = client.protocol
            # A command interrupted by a cancellation (IDLE, FETCH) never completes, and aioimaplib sends
            # LOGOUT only after it: only a connection at rest says goodbye.
            if protocol.pending_sync_command is None and not protocol.pending_async_commands:
                await asyncio.wait_for(client.logout(), timeout=min(5.0, self.server.timeout))
        except (aioimaplib.AioImapException, OSError, TimeoutError):
            pass  # nothing is lost: everything that mattered was committed before
        finally:
            await client.abort()

    async def select(self, folder: str = "INBOX", *, expected_uidvalidity: int | None = None) -> FolderState:
        """Select `folder`; raises FolderNotFound, or UidValidityChanged when it differs from before."""
        response = await self._call(self._connected.select(encode_mailbox_name(folder)))
        if response.result != "OK":
            raise FolderNotFound(_text(response.lines))
        state = self.folder = _folder_state(_byte_lines(response.lines))
        self._folder_name = encode_mailbox_name(folder)
        self._seen_uidnext = state.uidnext
        if expected_uidvalidity is not None and state.uidvalidity != expected_uidvalidity:
            raise UidValidityChanged(expected_uidvalidity, state.uidvalidity)
        return state

    async def fetch_new(self, last_uid: int) -> AsyncIterator[FetchedMessage]:
        """Messages with a UID above `last_uid`, oldest first, fetched in batches of at most
        `fetch_batch_size` messages and `fetch_batch_bytes` (the sizes are listed first).

        Bodies are read with BODY.PEEK so nothing is marked seen until `mark_seen`.
        """
        sizes = await self._sizes_above(last_uid)
        for batch in self._batches(sorted(sizes), sizes):
            small = [uid for uid in batch if sizes[uid] <= self.max_message_bytes]
            large = [uid for uid in batch if sizes[uid] > self.max_message_bytes]
            bodies = await self._fetch_literals(small, "BODY.PEEK[]") if small else {}
            headers = await self._fetch_literals(large, "BODY.PEEK[HEADER]") if large else {}
            for uid in batch:
                if uid in bodies:
                    yield FetchedMessage(uid, bodies[uid], sizes[uid])
                elif uid in headers:
                    yield FetchedMessage(uid, headers[uid], sizes[uid], oversized=True)
                # else: expunged meanwhile by another client; nothing to store

    def _batches(self, uids: list[int], sizes: dict[int, int]) -> Iterator[list[int]]:
        batch: list[int] = []
        batch_bytes = 0
        for uid in uids:
            size = sizes[uid] if sizes[uid] <= self.max_message_bytes else HEADER_ONLY_BYTES
            if batch and (len(batch) >= self.fetch_batch_size or batch_bytes + size > self.fetch_batch_bytes):
                yield batch
                batch, batch_bytes = [], 0
            batch.append(uid)
            batch_bytes += size
        if batch:
            yield batch

    async def first_uid_since(self, day: date) -> int | None:
        """The lowest UID of mail received on or after `day` (UID SEARCH SINCE), None when there is none."""
        response = await self._call(
            self._connected.uid_search("SINCE", day.strftime("%d-%b-%Y"), charset=None)
        )
        _expect_ok(response, "UID SEARCH")
        uids: list[int] = []
        for line in _byte_lines(response.lines):
            # aioimaplib hands `* SEARCH 3 4` over as b"3 4"; accept the keyword too, skip the status line.
            tokens = line.split()
            if tokens[:1] == [b"SEARCH"]:
                tokens = tokens[1:]
            if tokens and all(token.isdigit() for token in tokens):
                uids.extend(int(token) for token in tokens)
        return min(uids) if uids else None

    @property
    def disconnected(self) -> bool:
        """True once the connection is gone (closed by us or the server, or never opened)."""
        client = self._client
        return client is None or client.lost.is_set()

    async def mark_seen(self, uids: Iterable[int]) -> None:
        await self._store(uids, r"(\Seen)")

    async def delete(self, uids: Iterable[int]) -> None:
        """Delete messages for good: flag \\Deleted, then expunge (only these UIDs when UIDPLUS allows)."""
        uid_list = sorted(set(uids))
        if not uid_list:
            return
        await self._store(uid_list, r"(\Deleted)")
        if "UIDPLUS" in self._connected.protocol.capabilities:
            response = await self._call(self._connected.uid("expunge", uid_set(uid_list)))
        else:  # plain EXPUNGE also removes messages another client flagged \Deleted; nothing better exists
            response = await self._call(self._connected.expunge())
        _expect_ok(response, "EXPUNGE")

    async def wait_for_new_mail(self, *, timeout: float | None = None) -> bool:
        """Wait until the server announces new mail (True) or `timeout` seconds pass (False).

        Uses IDLE, re-issued every `idle_reissue_seconds`; polls with NOOP when IDLE is missing.
        Mail that arrived while other commands ran (announcements aioimaplib drops) counts as new:
        before each IDLE or poll the folder is selected again and its UIDNEXT compared. A
        connection the server closes meanwhile raises ConnectionFailed at once.
        """
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return False
            if await self._arrived_unannounced():
                return True
            if self.supports_idle:
                if await self._idle_once(_at_most(self.idle_reissue_seconds, remaining)):
                    return True
            else:
                await asyncio.sleep(_at_most(self.poll_seconds, remaining))
                if await self._poll_once():
                    return True

    async def new_mail_notifications(self) -> AsyncIterator[None]:
        """Yields each time new mail is announced; fetch inside the loop body, then it waits again."""
        while True:
            if await self.wait_for_new_mail():
                yield None

    # --- internals -----------------------------------------------------------------------------

    @property
    def _connected(self) -> _GuardedImapClient:
        if self._client is None:
            raise ServerError("not connected")
        if self._client.lost.is_set():  # aioimaplib would wait a whole timeout for an answer
            raise ConnectionFailed("the server closed the connection")
        return self._client

    async def _call[T](self, awaitable: Awaitable[T]) -> T:
        """Await an aioimaplib call, translating its failures into ServerError kinds."""
        try:
            return await awaitable
        except ServerError:
            raise
        except (aioimaplib.CommandTimeout, TimeoutError) as exc:
            raise server_error(TimeoutError(repr(exc)), self.server.timeout) from exc
        except aioimaplib.AioImapException as exc:
            raise ProtocolError(repr(exc)) from exc
        except (OSError, ssl.SSLError) as exc:
            raise server_error(exc, self.server.timeout) from exc

    async def _sizes_above(self, last_uid: int) -> dict[int, int]:
        """UID -> size above `last_uid`: windows up to the selected folder's UIDNEXT, then "n:*"
        for mail that arrived since SELECT (one "n:*" over thousands of messages breaks aioimaplib)."""
        sizes: dict[int, int] = {}
        start = last_uid + 1
        top = (self.folder.uidnext - 1) if self.folder is not None and self.folder.uidnext else 0
        while start <= top:
            end = min(start + max(self.size_window, 1) - 1, top)
            sizes.update(await self._sizes_in(f"{start}:{end}", start, end))
            start = end + 1
        # Then what arrived since SELECT; "n:*" always includes the last message, hence the filter.
        sizes.update(await self._sizes_in(f"{start}:*", start, None))
        if sizes:
            self._seen_uidnext = max(self._seen_uidnext or 0, max(sizes) + 1)
        return sizes

    async def _sizes_in(self, uids: str, lowest: int, highest: int | None) -> dict[int, int]:
        response = await self._call(self._connected.uid("fetch", uids, "(UID RFC822.SIZE)"))
        _expect_ok(response, "UID FETCH")
        sizes: dict[int, int] = {}
        for text, _literal in _fetch_items(response.lines):
            uid, size = _UID.search(text), _SIZE.search(text)
            if uid and size and lowest <= int(uid.group(1)) <= (highest or int(uid.group(1))):
                sizes[int(uid.group(1))] = int(size.group(1))
        return sizes

    async def _arrived_unannounced(self) -> bool:
        """Select the folder again: True when UIDNEXT moved past what the caller was shown, or the
        folder was recreated (aioimaplib drops an EXISTS that arrives during FETCH/SEARCH/STORE)."""
        if self._folder_name is None or self.folder is None:
            return False
        before, seen = self.folder, self._seen_uidnext
        response = await self._call(self._connected.select(self._folder_name))
        if response.result != "OK":
            raise FolderNotFound(_text(response.lines))
        fresh = self.folder = _folder_state(_byte_lines(response.lines))
        self._seen_uidnext = max(seen or 0, fresh.uidnext or 0) or None
        if fresh.uidvalidity != before.uidvalidity:
            return True  # the caller's next select() says so
        return fresh.uidnext is not None and seen is not None and fresh.uidnext > seen

    async def _fetch_literals(self, uids: list[int], item: str) -> dict[int, bytes]:
        response = await self._call(self._connected.uid("fetch", uid_set(uids), f"(UID {item})"))
        _expect_ok(response, "UID FETCH")
        found: dict[int, bytes] = {}
        for text, literal in _fetch_items(response.lines):
            uid = _UID.search(text)
            if uid and literal is not None:
                found[int(uid.group(1))] = literal
        return found

    async def _store(self, uids: Iterable[int], flags: str) -> None:
        uid_list = sorted(set(uids))
        if uid_list:
            response = await self._call(
                self._connected.uid("store", uid_set(uid_list), "+FLAGS.SILENT", flags)
            )
            _expect_ok(response, "UID STORE")

    async def _idle_once(self, period: float) -> bool:
        client = self._connected
        _drain(client.protocol.idle_queue)  # pushes left over from an earlier IDLE are stale
        # aioimaplib waits for the server's "+ idling" without a limit: a dead link would hang here.
        idle = await self._call(asyncio.wait_for(client.idle_start(timeout=period), self.server.timeout))
        lost = asyncio.ensure_future(client.lost.wait())
        try:
            while client.has_pending_idle():
                push = asyncio.ensure_future(client.wait_server_push(timeout=period + self.server.timeout))
                await asyncio.wait({push, lost}, return_when=asyncio.FIRST_COMPLETED)
                if not push.done():
                    # aioimaplib would only notice at the end of the period (or wait for a DONE answer).
                    push.cancel()
                    await asyncio.gather(push, return_exceptions=True)
                    raise ConnectionFailed("the server closed the connection")
                pushed = await self._call(push)
                if pushed == STOP_WAIT_SERVER_PUSH:
                    return False
                if any(_EXISTS.match(line) for line in _byte_lines(pushed)):
                    return True
                if lost.done():
                    raise ConnectionFailed("the server closed the connection")
            return False
        finally:
            lost.cancel()
            await asyncio.gather(lost, return_exceptions=True)
            if client.lost.is_set():
                idle.cancel()  # no answer to DONE will ever come
                await asyncio.gather(idle, return_exceptions=True)
            else:
                if client.has_pending_idle():
                    client.idle_done()
                await self._call(asyncio.wait_for(idle, self.server.timeout))

    async def _poll_once(self) -> bool:
        response = await self._call(self._connected.noop())
        return any(_EXISTS.match(line) for line in _byte_lines(response.lines))


class _FetchCommand(aioimaplib.FetchCommand):
    """aioimaplib's FETCH, except that `wait_data` (asked after every line received) reads only the
    lines it has not seen; aioimaplib's rescans the whole response each time, quadratic in a batch.
    And its timeout is not re-armed for every chunk received (a timer cancelled and scheduled each
    time): the chunk's time is noted, and the timer re-arms itself when it fires early."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._scanned = 0  # response lines already looked at
        self._depth = 0  # open parentheses since the last "n FETCH (" line, as aioimaplib counts them
        self._last_received = self._loop.time()

    def _reset_timer(self) -> None:
        self._last_received = self._loop.time()

    def _timeout_callback(self) -> None:
        quiet = self._loop.time() - self._last_received
        if self._timeout is not None and quiet < self._timeout:
            self._timer = self._loop.call_later(self._timeout - quiet, self._timeout_callback)
            return
        super()._timeout_callback()

    def wait_data(self) -> bool:
        lines = self._resp_lines
        while self._scanned < len(lines):
            line = lines[self._scanned]
            if isinstance(line, bytes):  # literals are bytearrays; aioimaplib skips them too
                if self.FETCH_MESSAGE_DATA_RE.match(line):
                    self._depth = 0
                self._depth += line.count(b"(") - line.count(b")")
            self._scanned += 1
        return self._depth != 0


class _ImapProtocol(aioimaplib.IMAP4ClientProtocol):
    """aioimaplib's protocol without two costs: its `data_received` formats every chunk received into
    a debug message even when debug logging is off, and its FETCH rescans every line (`_FetchCommand`).
    Together they were most of the CPU a mailbox sync takes."""

    async def fetch(self, message_set: str, message_parts: str, by_uid: bool = False,
                    timeout: float | None = None) -> aioimaplib.Response:
        return await self.execute(_FetchCommand(self.new_tag(), message_set, message_parts,
                                                prefix="UID" if by_uid else "", loop=self.loop, timeout=timeout))

    def data_received(self, d: bytes) -> None:
        try:
            self._handle_responses(self.incomplete_line + d, self._handle_line, self.current_command)
            self.incomplete_line = b""
            self.current_command = None
        except aioimaplib.IncompleteRead as incomplete_read:
            self.current_command = incomplete_read.cmd
            self.incomplete_line = incomplete_read.data


class _GuardedImapClient(aioimaplib.IMAP4):
    """aioimaplib client that connects to the guard's vetted address and can upgrade with STARTTLS."""

    def __init__(
        self, vetted: VettedHost, port: int, implicit_tls: ssl.SSLContext | None, timeout: float
    ) -> None:
        self._vetted = vetted
        self.lost = asyncio.Event()  # set when the transport closes, whoever closed it
        super().__init__(host=vetted.hostname, port=port, timeout=timeout, ssl_context=implicit_tls)

    def create_client(  # aioimaplib hook, called from __init__
        self,
        host: str,
        port: int,
        loop: asyncio.AbstractEventLoop | None,
        conn_lost_cb: object = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        running_loop = loop or asyncio.get_running_loop()
        self.protocol = _ImapProtocol(running_loop, lambda _exc: self.lost.set())
        self._client_task = running_loop.create_task(self._open(running_loop, port, ssl_context))

    async def _open(
        self, loop: asyncio.AbstractEventLoop, port: int, context: ssl.SSLContext | None
    ) -> object:
        sock = await self._vetted.open_socket(port, timeout=self.timeout)
        try:
            return await loop.create_connection(
                lambda: self.protocol,
                sock=sock,
                ssl=context,
                server_hostname=self._vetted.hostname if context else None,
            )  # the caller's wait_for bounds the TLS handshake too
        except BaseException:
            sock.close()
            raise

    async def starttls(self, context: ssl.SSLContext) -> None:
        protocol = self.protocol
        if "STARTTLS" not in protocol.capabilities:
            raise TlsFailed("server does not offer STARTTLS")
        command = Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)
        response = await asyncio.wait_for(protocol.execute(command), self.timeout)
        if response.result != "OK":
            raise TlsFailed(_text(response.lines))
        protocol.incomplete_line = b""  # plaintext sent before the handshake must not be trusted
        protocol.transport = await asyncio.wait_for(
            protocol.loop.start_tls(
                protocol.transport, protocol, context, server_hostname=self._vetted.hostname
            ),
            self.timeout,
        )
        await asyncio.wait_for(protocol.capability(), self.timeout)  # RFC 3501: forget pre-TLS capabilities

    async def abort(self) -> None:
        """Close the connection without a goodbye and wait for aioimaplib's connect task to settle."""
        transport = self.protocol.transport
        if transport is not None:
            transport.close()
        if not self._client_task.done():
            self._client_task.cancel()
        await asyncio.gather(self._client_task, return_exceptions=True)
        for task in list(self.tasks) + list(self.protocol.tasks):
            task.cancel()


def _folder_state(lines: list[bytes]) -> FolderState:
    codes = {name: int(value) for line in lines for name, value in _STATUS_CODE.findall(line)}
    if b"UIDVALIDITY" not in codes:
        raise ProtocolError("SELECT answer without UIDVALIDITY")
    exists = [int(match.group(1)) for line in lines if (match := _EXISTS.match(line))]
    return FolderState(
        uidvalidity=codes[b"UIDVALIDITY"], uidnext=codes.get(b"UIDNEXT"), exists=max(exists, default=0)
    )


def _at_most(period: float, remaining: float | None) -> float:
    return period if remaining is None else min(period, remaining)


def uid_set(uids: Iterable[int]) -> str:
    """Compact IMAP sequence set: [1, 2, 3, 7] -> "1:3,7"."""
    ranges: list[str] = []
    ordered = sorted(set(uids))
    start = previous = None
    for uid in ordered:
        if start is None:
            start = previous = uid
        elif uid == previous + 1:
            previous = uid
        else:
            ranges.append(f"{start}:{previous}" if start != previous else str(start))
            start = previous = uid
    if start is not None:
        ranges.append(f"{start}:{previous}" if start != previous else str(start))
    return ",".join(ranges)


def encode_mailbox_name(name: str) -> str:
    """A quoted IMAP mailbox name in modified UTF-7 (RFC 3501 section 5.1.3)."""
    encoded: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            utf16 = "".join(pending).encode("utf-16-be")
            encoded.append("&" + _b64(utf16).replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            encoded.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return aioimaplib.quoted("".join(encoded))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _fetch_items(lines: list[bytes | bytearray]) -> list[tuple[bytes, bytes | None]]:
    """Split an aioimaplib FETCH answer into (text of one FETCH item, its literal or None)."""
    items: list[tuple[bytearray, bytes | None]] = []
    for line in lines[:-1]:  # the last line is the tagged completion text
        if isinstance(line, bytes) and _FETCH_START.match(line):
            items.append((bytearray(line), None))
        elif not items:
            continue
        elif isinstance(line, bytearray) and items[-1][1] is None:
            items[-1] = (items[-1][0], bytes(line))
        else:
            items[-1][0].extend(b" " + bytes(line))
    return [(bytes(text), literal) for text, literal in items]


def _byte_lines(lines: object) -> list[bytes]:
    return (
        [bytes(line) for line in lines if isinstance(line, (bytes, bytearray))]
        if isinstance(lines, list)
        else []
    )


def _text(lines: list[bytes | bytearray]) -> str:
    return " ".join(bytes(line).decode(errors="replace") for line in lines)[:500]


def _expect_ok(response: aioimaplib.Response, command: str) -> None:
    if response.result != "OK":
        raise ProtocolError(f"{command} failed: {_text(response.lines)}")


def _drain(queue: asyncio.Queue[object]) -> None:
    while not queue.empty():
        queue.get_nowait()
