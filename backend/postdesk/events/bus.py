"""Event buses: in-process for embedded mode, Redis pub/sub for several API processes.

Each process keeps one local fan-out; in production a single pattern subscription per process
feeds it, so a WebSocket costs a queue, not a Redis connection.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import asdict

import structlog
from redis.asyncio import Redis

from postdesk.uow import Event

log = structlog.get_logger(__name__)

SUBSCRIBER_QUEUE_SIZE = 1000


class LocalFanout:
    """Delivers events to the subscribers of this process, per company."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[Event]]] = defaultdict(set)

    def deliver(self, event: Event) -> None:
        for queue in list(self._subscribers.get(event.company_id, ())):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                # A stalled browser must not hold memory or block others; it will resync on reconnect.
                log.warning("event_subscriber_overflow", company_id=event.company_id)

    @asynccontextmanager
    async def subscribe(self, company_id: str) -> AsyncIterator[asyncio.Queue[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue(SUBSCRIBER_QUEUE_SIZE)
        self._subscribers[company_id].add(queue)
        try:
            yield queue
        finally:
            self._subscribers[company_id].discard(queue)
            if not self._subscribers[company_id]:
                del self._subscribers[company_id]


class InProcessEventBus:
    def __init__(self) -> None:
        self.local = LocalFanout()

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, events: list[Event]) -> None:
        for event in events:
            self.local.deliver(event)

    def subscribe(self, company_id: str):
        return self.local.subscribe(company_id)


class RedisEventBus:
    def __init__(self, redis: Redis, prefix: str, *, listen: bool = True) -> None:
        self._redis = redis
        self._listen_enabled = listen
        self._prefix = f"{prefix}:events:"
        self.local = LocalFanout()
        self._listener: asyncio.Task | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        if not self._listen_enabled:  # worker processes only publish
            return
        self._listener = asyncio.create_task(self._listen(), name="event-bus-listener")
        await asyncio.wait_for(self._ready.wait(), 10)

    async def stop(self) -> None:
        if self._listener:
            self._listener.cancel()
            with suppress(asyncio.CancelledError):
                await self._listener

    async def publish(self, events: list[Event]) -> None:
        if not events:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for event in events:
                pipe.publish(self._prefix + event.company_id, json.dumps(asdict(event), default=str))
            await pipe.execute()

    def subscribe(self, company_id: str):
        return self.local.subscribe(company_id)

    async def _listen(self) -> None:
        backoff = 0.5
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.psubscribe(self._prefix + "*")
                    self._ready.set()
                    backoff = 0.5
                    async for message in pubsub.listen():
                        if message["type"] == "pmessage":
                            self.local.deliver(_decode(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("event_bus_listener_failed", retry_in=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10)


def _decode(raw: bytes | str) -> Event:
    payload = json.loads(raw)
    user_ids = payload.get("user_ids")
    return Event(
        type=payload["type"],
        company_id=payload["company_id"],
        data=payload["data"],
        user_ids=tuple(user_ids) if user_ids is not None else None,
        min_role=payload.get("min_role"),
    )
