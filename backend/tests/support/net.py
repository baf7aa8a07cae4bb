"""Loopback network helpers for tests: free ports, a closed port, and servers that misbehave.

`BlackHoleServer` accepts TCP connections and never says a word (a firewall dropping replies, a
hung server); `HangUpServer` accepts and closes at once. Both run in a thread, on 127.0.0.1.
"""

from __future__ import annotations

import socket
import threading
from typing import Self


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (connections are refused)."""
    return free_port()


class _ThreadedListener:
    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self._accepted: list[socket.socket] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=type(self).__name__, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        self._thread.join(5)
        for connection in self._accepted:
            connection.close()
        self._listener.close()

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._handle(connection)

    def _handle(self, connection: socket.socket) -> None:
        raise NotImplementedError


class BlackHoleServer(_ThreadedListener):
    """Accepts connections, reads nothing, answers nothing, until closed."""

    def _handle(self, connection: socket.socket) -> None:
        self._accepted.append(connection)


class HangUpServer(_ThreadedListener):
    """Accepts connections and closes them straight away."""

    def _handle(self, connection: socket.socket) -> None:
        connection.close()


class ScriptedServer(_ThreadedListener):
    """A line-protocol server that follows a script, to stall at a chosen step of a dialogue.

    It sends `greeting`, then answers each line it receives with the reply of the first rule whose
    bytes occur in the (upper-cased) line; `{tag}` in a reply is replaced by the line's first word (an
    IMAP tag). A rule with reply None makes it go silent for good: a server that hangs mid-dialogue,
    e.g. right after the client sent its password. Lines it received are kept in `received`.
    """

    def __init__(self, greeting: bytes, rules: list[tuple[bytes, bytes | None]]) -> None:
        super().__init__()
        self.greeting = greeting
        self.rules = rules
        self.received: list[bytes] = []

    def _handle(self, connection: socket.socket) -> None:
        self._accepted.append(connection)
        threading.Thread(target=self._converse, args=(connection,), daemon=True).start()

    def _converse(self, connection: socket.socket) -> None:
        connection.settimeout(0.2)
        buffer = b""
        silent = False
        try:
            connection.sendall(self.greeting)
            while not self._stopping.is_set():
                try:
                    chunk = connection.recv(4096)
                except TimeoutError:
                    continue
                if not chunk:
                    return
                buffer += chunk
                while b"\n" in buffer and not silent:
                    line, buffer = buffer.split(b"\n", 1)
                    self.received.append(line + b"\n")
                    reply = self._reply(line)
                    if reply is None:
                        silent = True
                    else:
                        connection.sendall(reply.replace(b"{tag}", line.split(b" ", 1)[0]))
        except OSError:
            return

    def _reply(self, line: bytes) -> bytes | None:
        for needle, reply in self.rules:
            if needle in line.upper():
                return reply
        return b"{tag} BAD unknown\r\n"


def imap_stalling_at_login() -> ScriptedServer:
    """An IMAP server that greets, answers CAPABILITY, and never answers LOGIN."""
    return ScriptedServer(
        b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n",
        [(b"CAPABILITY", b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n{tag} OK done\r\n"), (b"LOGIN", None)],
    )


def pop3_stalling_at_password() -> ScriptedServer:
    """A POP3 server that takes USER and never answers PASS."""
    return ScriptedServer(b"+OK ready\r\n", [(b"USER", b"+OK\r\n"), (b"PASS", None), (b"CAPA", b"-ERR\r\n")])


def smtp_stalling_at_auth() -> ScriptedServer:
    """An SMTP server that offers AUTH without TLS and never answers the AUTH command."""
    return ScriptedServer(
        b"220 stall.example.test ESMTP\r\n",
        [(b"EHLO", b"250-stall.example.test\r\n250 AUTH PLAIN LOGIN\r\n"), (b"AUTH", None),
         (b"QUIT", b"221 bye\r\n")],
    )


class TcpRelay:
    """Forwards 127.0.0.1:`port` to 127.0.0.1:`upstream_port`, like a network path between client and server.

    It records what clients sent (`client_bytes`, to count protocol commands in plain-text sessions),
    can `stall()` (bytes are swallowed both ways while connections stay open: a dead link or a hung
    server), and can be started late on a port reserved up front (a server coming back).
    """

    def __init__(self, upstream_port: int, *, port: int | None = None) -> None:
        self.upstream_port = upstream_port
        self.port = port or free_port()
        self._client_bytes = bytearray()
        self._lock = threading.Lock()
        self._stalled = threading.Event()
        self._stopping = threading.Event()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []

    @property
    def client_bytes(self) -> bytes:
        with self._lock:
            return bytes(self._client_bytes)

    def stall(self) -> None:
        self._stalled.set()

    def start(self) -> Self:
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.2)
        self._spawn(self._accept)
        return self

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(5)
        for sock in self._sockets:
            sock.close()
        if self._listener is not None:
            self._listener.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            self._sockets += [client, upstream]
            self._spawn(self._pump, client, upstream, True)
            self._spawn(self._pump, upstream, client, False)

    def _pump(self, source: socket.socket, target: socket.socket, from_client: bool) -> None:
        source.settimeout(0.2)
        while not self._stopping.is_set():
            try:
                data = source.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not data:
                break
            if self._stalled.is_set():
                continue  # swallowed: the other side hears nothing
            if from_client:
                with self._lock:
                    self._client_bytes += data
            try:
                target.sendall(data)
            except OSError:
                break
        try:
            target.shutdown(socket.SHUT_WR)
        except OSError:
            pass
