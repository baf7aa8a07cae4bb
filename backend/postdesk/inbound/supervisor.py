"""Keeps one fetcher running per mailbox that an enabled, receiving campaign uses.

Fetchers are long-lived tasks, not jobs. A supervisor runs in the API process in embedded mode
and in every worker process in production; every `inbound_reconcile_seconds` it compares the
running fetchers with the configuration and starts, stops or restarts them (a changed host,
password, folder... gives a new fingerprint), so configuration changes apply without a restart.
A change saved through the API is applied at once: the process that saved it wakes its own
supervisor and, in production, announces it on a Redis channel every worker's supervisor listens to.

In production each mailbox is fetched by exactly one process at a time: a fetcher runs only while
its process holds the mailbox's Redis lease (SET NX PX with a random token, renewed at a third
of its length, released by compare-and-delete). A process that cannot renew stops its fetcher;
another takes over once the lease has expired. Should two ever overlap, the ledger's unique
constraints still record each message once.

Each reconcile also checks the wanted mailboxes for outages to tell their email groups about
(postdesk.inbound.alerts: once per outage, whichever supervisor gets there first).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import structlog

from postdesk.inbound import alerts
from postdesk.inbound.fetcher import MailboxFetcher
from postdesk.inbound.repository import InboundRepository, WantedMailbox

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from postdesk.runtime import Runtime

log = structlog.get_logger(__name__)


def _configuration_channel(prefix: str) -> str:
    return f"{prefix}:inbound:configuration"


async def announce_configuration_change(redis: Redis, prefix: str) -> None:
    """Tell every process's supervisor that mail servers or campaigns changed (production)."""
    try:
        await redis.publish(_configuration_channel(prefix), "changed")
    except Exception:  # the next periodic reconcile still applies the change
        log.warning("inbound_configuration_announce_failed", exc_info=True)


_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


class Lease:
    """This process's right to fetch one mailbox (production); `lost` is set when it cannot be kept."""

    def __init__(self, redis: Redis, key: str, seconds: float) -> None:
        self.redis = redis
        self.key = key
        self.token = secrets.token_hex(16)
        self.milliseconds = max(int(seconds * 1000), 1000)
        self.lost = asyncio.Event()
        self._renewer: asyncio.Task | None = None

    async def acquire(self) -> bool:
        if not await self.redis.set(self.key, self.token, nx=True, px=self.milliseconds):
            return False
        self._renewer = asyncio.create_task(self._renew(), name=f"lease:{self.key}")
        return True

    async def _renew(self) -> None:
        loop = asyncio.get_running_loop()
        renewed_at = loop.time()
        while True:
            await asyncio.sleep(self.milliseconds / 3000)
            try:
                if not await self.redis.eval(_RENEW, 1, self.key, self.token, self.milliseconds):
                    break  # expired and maybe taken by another process
                renewed_at = loop.time()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("inbound_lease_renew_failed", key=self.key, exc_info=True)
                if loop.time() - renewed_at > self.milliseconds / 1000 * 0.8:
                    break
        self.lost.set()

    async def release(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        with contextlib.suppress(Exception):
            await self.redis.eval(_RELEASE, 1, self.key, self.token)


@dataclass
class _Running:
    wanted: WantedMailbox
    task: asyncio.Task
    lease: Lease | None = None
    fetcher: MailboxFetcher | None = field(default=None, repr=False)


class FetcherSupervisor:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.running: dict[uuid.UUID, _Running] = {}
        self._loop_task: asyncio.Task | None = None
        self._listener: asyncio.Task | None = None
        self._wakeup = asyncio.Event()

    async def start(self) -> None:
        self.runtime.mail_preparer.warm_up()
        self._loop_task = asyncio.create_task(self._loop(), name="inbound-supervisor")
        if self.runtime.redis is not None:
            self._listener = asyncio.create_task(self._listen_for_changes(self.runtime.redis),
                                                 name="inbound-configuration-listener")

    async def stop(self) -> None:
        for task in (self._listener, self._loop_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._loop_task = self._listener = None
        await asyncio.gather(*(self._stop(server_id) for server_id in list(self.running)), return_exceptions=True)

    def reconcile_soon(self) -> None:
        """Reconcile now instead of at the next tick (e.g. after a configuration change in this process)."""
        self._wakeup.set()

    async def _listen_for_changes(self, redis: Redis) -> None:
        """Production: reconcile as soon as any process announces a configuration change."""
        backoff = 0.5
        while True:
            try:
                async with redis.pubsub() as pubsub:
                    await pubsub.subscribe(_configuration_channel(self.settings.redis_prefix))
                    backoff = 0.5
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            self.reconcile_soon()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("inbound_configuration_listener_failed", retry_in=backoff, exc_info=True)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10)

    async def _loop(self) -> None:
        while True:
            self._wakeup.clear()  # before: a change made while this reconcile runs asks for another
            try:
                await self.reconcile()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("inbound_reconcile_failed", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self.settings.inbound_reconcile_seconds)

    async def reconcile(self) -> None:
        async with self.runtime.session_maker() as session:
            wanted = {w.server_id: w for w in await InboundRepository(session).wanted_mailboxes()}
        for server_id, running in list(self.running.items()):
            target = wanted.get(server_id)
            lost = running.lease is not None and running.lease.lost.is_set()
            if target is None or target.fingerprint != running.wanted.fingerprint or running.task.done() or lost:
                reason = ("not wanted" if target is None else "lease lost" if lost
                          else "ended" if running.task.done() else "configuration changed")
                log.info("inbound_fetcher_stopping", server_id=str(server_id), reason=reason)
                await self._stop(server_id)
        for server_id, target in wanted.items():
            if server_id not in self.running:
                await self._start(target)
        try:
            await alerts.check(self.runtime, wanted_server_ids=wanted.keys())
        except Exception:  # e.g. a deadlock with another supervisor: the next reconcile checks again
            log.warning("inbound_alert_check_failed", exc_info=True)

    async def _start(self, target: WantedMailbox) -> None:
        lease = None
        if self.runtime.redis is not None:
            lease = Lease(self.runtime.redis, f"{self.settings.redis_prefix}:inbound:lease:{target.server_id}",
                          self.settings.inbound_lock_seconds)
            if not await lease.acquire():
                return  # another worker process fetches this mailbox
        fetcher = MailboxFetcher(self.runtime, target.server_id, target.company_id)
        task = asyncio.create_task(self._run(fetcher, lease), name=f"inbound-fetcher:{target.server_id}")
        self.running[target.server_id] = _Running(target, task, lease, fetcher)
        log.info("inbound_fetcher_started", server_id=str(target.server_id))

    async def _run(self, fetcher: MailboxFetcher, lease: Lease | None) -> None:
        if lease is None:
            await fetcher.run()
            return
        # Stop fetching the moment the lease is lost, not only at the next reconcile.
        fetching = asyncio.create_task(fetcher.run())
        losing = asyncio.create_task(lease.lost.wait())
        try:
            await asyncio.wait({fetching, losing}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (fetching, losing):
                task.cancel()
            await asyncio.gather(fetching, losing, return_exceptions=True)

    async def _stop(self, server_id: uuid.UUID) -> None:
        running = self.running.pop(server_id, None)
        if running is None:
            return
        running.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await running.task
        if running.lease is not None:
            await running.lease.release()
