"""The process-wide resources of an API or worker process, built once from Settings.

Embedded mode: SQLite (or any database), in-process jobs and events.
Production mode: PostgreSQL, arq on Redis, Redis pub/sub.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from postdesk.db import create_engine, create_session_maker
from postdesk.events.bus import InProcessEventBus, RedisEventBus
from postdesk.jobs.arq_engine import ArqJobEngine
from postdesk.jobs.inprocess import InProcessJobEngine
from postdesk.jobs.registry import load_job_modules
from postdesk.net.guard import NetworkGuard
from postdesk.security.secrets import SecretBox
from postdesk.security.throttle import MemoryCounter, RedisCounter
from postdesk.settings import Settings
from postdesk.storage import BlobStore, LocalBlobStore
from postdesk.uow import Event, JobRequest, PendingEffects

# Events after which the mailboxes to fetch (or how to reach them) may have changed.
_FETCHER_CONFIGURATION = frozenset({"email_server.changed", "campaign.changed"})


class JobEngine(Protocol):
    name: str

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def submit(self, requests: list[JobRequest]) -> None: ...
    async def wait_idle(self, timeout: float = 30) -> None: ...


class EventBus(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def publish(self, events: list[Event]) -> None: ...
    def subscribe(self, company_id: str): ...


@dataclass
class Runtime:
    settings: Settings
    role: Literal["api", "worker", "cli"]
    engine: AsyncEngine
    session_maker: async_sessionmaker[AsyncSession]
    secret_box: SecretBox
    counters: MemoryCounter | RedisCounter
    blobs: BlobStore
    network_guard: NetworkGuard = field(default_factory=NetworkGuard)
    mail_tls_context: ssl.SSLContext = field(default_factory=ssl.create_default_context)
    redis: Redis | None = None
    jobs: JobEngine = field(init=False)
    events: EventBus = field(init=False)
    fetchers: Any = None  # postdesk.inbound.supervisor.FetcherSupervisor where mailboxes are fetched
    mail_preparer: Any = None  # postdesk.inbound.prepare.MailPreparer, shared by this process's fetchers and API

    @classmethod
    async def start(cls, settings: Settings, role: Literal["api", "worker", "cli"] = "api") -> Runtime:
        load_job_modules()
        engine = create_engine(settings)
        redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
        runtime = cls(
            settings=settings,
            role=role,
            engine=engine,
            session_maker=create_session_maker(engine),
            secret_box=SecretBox([k.get_secret_value() for k in settings.encryption_keys]),
            counters=RedisCounter(redis, settings.redis_prefix) if redis else MemoryCounter(),
            network_guard=NetworkGuard(settings.network_allow),
            mail_tls_context=ssl.create_default_context(cafile=settings.mail_ca_file),
            redis=redis,
            blobs=LocalBlobStore(settings.resolved_storage_dir),
        )
        if redis is not None:
            runtime.jobs = ArqJobEngine(settings.redis_url or "", settings.redis_prefix)
            runtime.events = RedisEventBus(redis, settings.redis_prefix, listen=role == "api")
        else:
            runtime.jobs = InProcessJobEngine(runtime, settings.embedded_job_concurrency)
            runtime.events = InProcessEventBus()
        await runtime.events.start()
        # The in-process engine runs jobs only inside the API process; a CLI just queues nothing.
        if redis is not None or role == "api":
            await runtime.jobs.start()
        # Mailbox fetchers live beside the jobs: in the API when embedded, in every worker in production.
        from postdesk.inbound.prepare import MailPreparer

        # Fetchers and quarantine reprocessing prepare mail in worker processes (started on first use).
        runtime.mail_preparer = MailPreparer(settings.inbound_parse_processes)
        if settings.inbound_fetchers_enabled and (role == "worker" or (role == "api" and redis is None)):
            from postdesk.inbound.supervisor import FetcherSupervisor

            runtime.fetchers = FetcherSupervisor(runtime)
            await runtime.fetchers.start()
        return runtime

    async def stop(self) -> None:
        if self.fetchers is not None:
            await self.fetchers.stop()
        if self.mail_preparer is not None:
            self.mail_preparer.close()
        await self.jobs.stop()
        await self.events.stop()
        if self.redis is not None:
            await self.redis.aclose()
        await self.engine.dispose()

    async def release(self, pending: PendingEffects) -> None:
        """Hand a committed unit of work's jobs and events on (see postdesk.uow)."""
        if pending.jobs:
            await self.jobs.submit(pending.jobs)
        if pending.events:
            await self.events.publish(pending.events)
            # Fetchers follow a configuration change now, not at their next reconcile: this process's
            # at once, the worker processes' through Redis (production).
            if any(e.type in _FETCHER_CONFIGURATION for e in pending.events):
                if self.fetchers is not None:
                    self.fetchers.reconcile_soon()
                if self.redis is not None:
                    from postdesk.inbound.supervisor import announce_configuration_change

                    await announce_configuration_change(self.redis, self.settings.redis_prefix)
