"""Exactly-once ingestion when the process doing the fetching is SIGKILLed and restarted.

The fetching process is a real subprocess on a database of its own: `postdesk worker` in production
mode (fetchers run in every worker), `postdesk run` in embedded mode (fetchers run in the API).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from postdesk.inbound.models import InboundMail
from postdesk.interactions.models import Interaction, Message
from postdesk.runtime import Runtime
from postdesk.settings import REPO_ROOT
from tests.conftest import TEST_MODE, free_port, settings_from_env, start_worker, stop_process
from tests.inbound.conftest import customer_mail, drop_database, eventually, isolated_env, seed_tenant

MESSAGES = 150


@pytest.fixture
def crash_env(settings_env: dict[str, str], tmp_path: Path) -> Iterator[dict[str, str]]:
    env, database = isolated_env(settings_env, tmp_path / "data")
    from postdesk.migrate import upgrade_to_head

    upgrade_to_head(settings_from_env(env))
    yield env
    drop_database(database)


@pytest.fixture
async def observer(crash_env: dict[str, str]) -> AsyncIterator[Runtime]:
    """A runtime on the crash database that fetches nothing itself (it only seeds and looks)."""
    runtime = await Runtime.start(settings_from_env(crash_env, inbound_fetchers_enabled=False), role="cli")
    yield runtime
    await runtime.stop()


class FetchingProcesses:
    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.started: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        log_file = open(self.log_dir / f"fetching-{len(self.started)}.log", "wb")  # noqa: SIM115 - closed at stop
        if TEST_MODE == "production":
            process = start_worker(self.env, log_file)
        else:
            process = subprocess.Popen(
                [sys.executable, "-m", "postdesk", "run", "--no-migrate", "--port", str(free_port())],
                env={**os.environ, **self.env}, stdout=log_file, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
        log_file.close()
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                stop_process(process)


@pytest.fixture
def fetching(crash_env: dict[str, str], tmp_path: Path) -> Iterator[FetchingProcesses]:
    processes = FetchingProcesses(crash_env, tmp_path)
    yield processes
    processes.stop_all()


async def _recorded(runtime: Runtime, server_id) -> int:
    async with runtime.session_maker() as session:
        return int(await session.scalar(select(func.count()).select_from(InboundMail)
                                         .where(InboundMail.email_server_id == server_id)) or 0)


async def _deliver_many(dovecot, mailbox: str, count: int) -> None:
    for start in range(0, count, 10):
        await asyncio.gather(*(dovecot.deliver(mailbox, customer_mail(subject=f"Order {n}", body=f"Body {n}\n" * 50))
                               for n in range(start, min(start + 10, count))))


async def _assert_exactly_once(runtime: Runtime, tenant, count: int) -> None:
    async with runtime.session_maker() as session:
        subjects = list(await session.scalars(select(Message.subject).where(Message.company_id == tenant.company_id)))
        interactions = await session.scalar(select(func.count()).select_from(Interaction)
                                            .where(Interaction.company_id == tenant.company_id))
        uids = list(await session.scalars(select(InboundMail.uid).where(InboundMail.email_server_id == tenant.server_id)))
    assert len(subjects) == count and len(set(subjects)) == count
    assert interactions == count
    assert sorted(uids) == list(range(1, count + 1))


async def test_fetching_process_killed_between_fetch_and_commit_ingests_every_message_exactly_once(
        crash_env, observer, fetching, dovecot):
    tenant = await seed_tenant(observer, dovecot)
    await _deliver_many(dovecot, tenant.mailbox, MESSAGES)
    recorded = 0
    for _ in range(3):
        process = fetching.start()

        async def progressed(before: int = recorded):
            done = await _recorded(observer, tenant.server_id)
            return done if done > before else None

        recorded = await eventually(progressed, timeout=60, interval=0.02)
        if recorded >= MESSAGES:
            break
        process.send_signal(signal.SIGKILL)  # mid-stream: batches fetched, not yet committed
        process.wait()
    assert recorded < MESSAGES, "the process was never killed mid-mailbox; make the mailbox larger"
    fetching.start()

    async def all_recorded():
        return await _recorded(observer, tenant.server_id) >= MESSAGES

    await eventually(all_recorded, timeout=90, interval=0.2)
    await asyncio.sleep(1)
    await _assert_exactly_once(observer, tenant, MESSAGES)

    async def all_seen():  # marking seen, interrupted by the kills, was finished afterwards
        return not await dovecot.unseen_uids(tenant.mailbox)

    await eventually(all_seen, timeout=30)


@pytest.mark.skipif(TEST_MODE != "production", reason="several fetching processes exist only in production mode")
async def test_two_workers_fetch_a_mailbox_once_and_the_survivor_takes_over(crash_env, observer, fetching, dovecot):
    tenant = await seed_tenant(observer, dovecot)
    first, second = fetching.start(), fetching.start()
    await _deliver_many(dovecot, tenant.mailbox, 60)

    async def some():
        return await _recorded(observer, tenant.server_id) > 0

    await eventually(some, timeout=60, interval=0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()

    async def all_recorded():
        return await _recorded(observer, tenant.server_id) >= 60

    await eventually(all_recorded, timeout=60, interval=0.2)
    await asyncio.sleep(1)
    assert second.poll() is None
    await _assert_exactly_once(observer, tenant, 60)
