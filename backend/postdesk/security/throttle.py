"""Fixed-window counters for throttling (login attempts), in memory or shared through Redis."""

from __future__ import annotations

import time

from redis.asyncio import Redis


class MemoryCounter:
    """Counts per key within a window; enough for one embedded process."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}

    async def hit(self, key: str, window_seconds: int) -> int:
        now = time.monotonic()
        started, count = self._windows.get(key, (now, 0))
        if now - started >= window_seconds:
            started, count = now, 0
        self._windows[key] = (started, count + 1)
        if len(self._windows) > 100_000:  # bound memory under a spray of distinct keys
            self._expire(now, window_seconds)
        return count + 1

    async def count(self, key: str, window_seconds: int) -> tuple[int, int]:
        """(hits in the current window, seconds until it resets)."""
        now = time.monotonic()
        started, count = self._windows.get(key, (now, 0))
        if now - started >= window_seconds:
            return 0, 0
        return count, max(1, int(window_seconds - (now - started)))

    async def reset(self, key: str) -> None:
        self._windows.pop(key, None)

    def _expire(self, now: float, window_seconds: int) -> None:
        for key in [k for k, (s, _) in self._windows.items() if now - s >= window_seconds]:
            del self._windows[key]


class RedisCounter:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = f"{prefix}:throttle:"

    async def hit(self, key: str, window_seconds: int) -> int:
        name = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, window_seconds, nx=True)
            count, _ = await pipe.execute()
        return int(count)

    async def count(self, key: str, window_seconds: int) -> tuple[int, int]:
        name = self._prefix + key
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(name)
            pipe.ttl(name)
            value, ttl = await pipe.execute()
        return (int(value), max(1, int(ttl))) if value is not None and ttl > 0 else (0, 0)

    async def reset(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)
