"""Reconnect pacing for the long-running mailbox fetchers: exponential backoff with jitter.

A fetcher that loses its IMAP/POP3 connection reconnects with `connect_with_backoff`. Failures an
admin must fix (wrong password, TLS mismatch, host not allowed, missing folder) are raised at once
instead of being retried forever.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterator

from postdesk.mail.errors import (
    ConnectionFailed,
    ConnectionRefused,
    ProtocolError,
    ServerError,
    ServerTimeout,
)

RETRYABLE: tuple[type[ServerError], ...] = (ConnectionRefused, ConnectionFailed, ServerTimeout, ProtocolError)


def backoff_delays(
    *, initial: float = 1.0, factor: float = 2.0, maximum: float = 300.0, jitter: float = 0.1
) -> Iterator[float]:
    """1, 2, 4, ... seconds up to `maximum`, each varied by ±`jitter` so fetchers don't reconnect in step."""
    delay = initial
    while True:
        yield delay * random.uniform(1 - jitter, 1 + jitter)
        delay = min(delay * factor, maximum)


async def connect_with_backoff[T](
    connect: Callable[[], Awaitable[T]],
    *,
    attempts: int | None = None,
    delays: Iterator[float] | None = None,
    on_retry: Callable[[ServerError, float], None] | None = None,
) -> T:
    """Call `connect` until it succeeds, sleeping between retryable failures.

    Raises the last error after `attempts` tries (None: keep trying), and non-retryable ones at once.
    """
    pauses = delays if delays is not None else backoff_delays()
    attempt = 0
    while True:
        attempt += 1
        try:
            return await connect()
        except RETRYABLE as exc:
            if attempts is not None and attempt >= attempts:
                raise
            pause = next(pauses)
            if on_retry is not None:
                on_retry(exc, pause)
            await asyncio.sleep(pause)
