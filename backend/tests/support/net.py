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
