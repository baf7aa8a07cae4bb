"""A mailbox that cannot be read is emailed to its campaigns' email groups once per outage.

The fetching processes are real: `postdesk worker` twice in production mode (two supervisors racing
to tell the same outage), `postdesk run` in embedded mode; the mailbox is a real Dovecot account
with a wrong password or a closed port, and the notifications go out through aiosmtpd.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from postdesk.accounts import service as accounts_service
from postdesk.accounts.caller import Caller
from postdesk.accounts.models import Role
from postdesk.accounts.schemas import CompanyCreate
from postdesk.campaigns import service as campaign_service
from postdesk.campaigns.schemas import CampaignCreate
from postdesk.db import utcnow
from postdesk.groups import service as groups_service
from postdesk.groups.models import NotificationEvent
from postdesk.groups.schemas import ContactIn, EmailGroupCreate
from postdesk.inbound import alerts
from postdesk.inbound.models import InboundMailbox, MailboxStatus
from postdesk.notifications.models import Notification
from postdesk.runtime import Runtime
from postdesk.servers import service as server_service
from postdesk.servers.schemas import EmailServerCreate, EmailServerUpdate
from postdesk.uow import unit_of_work
from tests.conftest import PASSWORD, TEST_MODE, free_port, settings_from_env
from tests.inbound.conftest import drop_database, eventually, isolated_env
from tests.inbound.test_crash import FetchingProcesses
from tests.support.fixtures import SMTP_PASSWORD, SMTP_USER, _smtp_server, smtp_server  # noqa: F401


def _alert_env(settings_env: dict[str, str], data_dir: Path, **alert: str) -> Iterator[dict[str, str]]:
    env, database = isolated_env(settings_env, data_dir)
    env.update({f"POSTDESK_INBOUND_ALERT_AFTER_{key.upper()}": value for key, value in alert.items()})
    from postdesk.migrate import upgrade_to_head

    upgrade_to_head(settings_from_env(env))
    yield env
    drop_database(database)


@pytest.fixture
def after_minutes_env(settings_env, tmp_path) -> Iterator[dict[str, str]]:
    """Told after 3 s of failing (a count that is never reached)."""
    yield from _alert_env(settings_env, tmp_path / "data", failures="1000", minutes="0.05")


@pytest.fixture
def after_failures_env(settings_env, tmp_path) -> Iterator[dict[str, str]]:
    """Told after two failures in a row (a duration that is never reached)."""
    yield from _alert_env(settings_env, tmp_path / "data", failures="2", minutes="60")


@pytest.fixture
async def observer_of() -> AsyncIterator[Callable[[dict[str, str]], Awaitable[Runtime]]]:
    """Starts a runtime on a test's database that fetches nothing itself (it seeds and looks)."""
    started: list[Runtime] = []

    async def start(env: dict[str, str]) -> Runtime:
        started.append(await Runtime.start(settings_from_env(env, inbound_fetchers_enabled=False), role="cli"))
        return started[-1]

    yield start
    for runtime in started:
        await runtime.stop()


@pytest.fixture
def fetching(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], FetchingProcesses]]:
    """Starts the processes that fetch (and check for outages): two supervisors in production, each checking
    every mailbox; in embedded mode the app runs the only one."""
    started: list[FetchingProcesses] = []

    def start(env: dict[str, str]) -> FetchingProcesses:
        processes = FetchingProcesses(env, tmp_path)
        started.append(processes)
        for _ in range(2 if TEST_MODE == "production" else 1):
            processes.start()
        return processes

    yield start
    for processes in started:
        processes.stop_all()


@dataclass
class Helpdesk:
    company_id: uuid.UUID
    caller: Caller
    server_id: uuid.UUID
    server_name: str
    mailbox_password: str
    told: list[str]  # who the groups make responsible for mailbox trouble
    not_told: list[str]  # attached for other events, or to a campaign that does not receive


async def seed_helpdesk(runtime: Runtime, dovecot, smtp_server, *, password: str) -> Helpdesk:  # noqa: F811
    """A company whose server reads a Dovecot mailbox (with `password`) and sends through aiosmtpd, used by two
    receiving campaigns and a disabled one, with groups attached for various events."""
    address, real_password = dovecot.new_user()
    suffix = uuid.uuid4().hex[:8]
    async with unit_of_work(runtime) as session:
        company = await accounts_service.create_company(session, CompanyCreate(
            name=f"Alerts {suffix}", admin_email=f"admin-{suffix}@example.test", admin_name="Admin",
            admin_password=PASSWORD))
    caller = Caller(company_id=company.id, role=Role.admin)
    network = server_service.MailNetwork(guard=runtime.network_guard, tls_context=runtime.mail_tls_context)
    name = f"Support mailbox {suffix}"
    async with unit_of_work(runtime) as session:
        server = await server_service.create_server(session, caller, EmailServerCreate(
            name=name, sender_email=f"support-{suffix}@example.test", smtp_host="localhost",
            smtp_port=smtp_server.port, smtp_security="starttls", smtp_username=SMTP_USER,
            smtp_password=SMTP_PASSWORD, incoming_protocol="imap", incoming_host="localhost",
            incoming_port=dovecot.imap_port, incoming_security="starttls", incoming_username=address,
            incoming_password=password), box=runtime.secret_box, network=network)
    people = {role: f"{role}-{suffix}@example.test" for role in ("lead", "night", "returns", "calls", "archive")}
    async with unit_of_work(runtime) as session:
        orders = await campaign_service.create_campaign(session, caller, CampaignCreate(
            title=f"Orders {suffix}", email_server_id=server.id))
        returns = await campaign_service.create_campaign(session, caller, CampaignCreate(
            title=f"Returns {suffix}", email_server_id=server.id))
        archive = await campaign_service.create_campaign(session, caller, CampaignCreate(
            title=f"Archive {suffix}", email_server_id=server.id, enabled=False))
        attached = [
            (orders.id, [people["lead"], people["night"]], [NotificationEvent.delivery_failed]),
            # Shares `night` with the group above: told once, through either campaign.
            (returns.id, [people["night"].upper(), people["returns"]],
             [NotificationEvent.delivery_failed, NotificationEvent.failed_call]),
            (orders.id, [people["calls"]], [NotificationEvent.failed_call]),
            (archive.id, [people["archive"]], [NotificationEvent.delivery_failed]),
        ]
        for number, (campaign_id, contacts, events) in enumerate(attached):
            group = await groups_service.create_group(session, caller, EmailGroupCreate(
                name=f"Group {number} {suffix}", contacts=[ContactIn(email=c) for c in contacts]))
            await groups_service.attach(session, caller, group.id, campaign_id, events)
    return Helpdesk(company.id, caller, server.id, name, real_password, told=[people["lead"], people["night"], people["returns"]],
                    not_told=[people["calls"], people["archive"]])


async def _change_server(runtime: Runtime, helpdesk: Helpdesk, **changes: object) -> None:
    network = server_service.MailNetwork(guard=runtime.network_guard, tls_context=runtime.mail_tls_context)
    async with unit_of_work(runtime) as session:
        await server_service.update_server(session, helpdesk.caller, helpdesk.server_id, EmailServerUpdate(**changes),
                                           box=runtime.secret_box, network=network)


async def _mailbox(runtime: Runtime, helpdesk: Helpdesk) -> InboundMailbox | None:
    async with runtime.session_maker() as session:
        return await session.scalar(select(InboundMailbox).where(InboundMailbox.email_server_id == helpdesk.server_id,
                                                                 InboundMailbox.folder == "INBOX"))


async def _notifications(runtime: Runtime, helpdesk: Helpdesk) -> int:
    async with runtime.session_maker() as session:
        return int(await session.scalar(select(func.count()).select_from(Notification)
                                        .where(Notification.company_id == helpdesk.company_id)) or 0)


def _mails_to(smtp_server, helpdesk: Helpdesk) -> list:  # noqa: F811
    ours = {a.lower() for a in helpdesk.told + helpdesk.not_told}
    return [m for m in smtp_server.received if any(r.lower() in ours for r in m.recipients)]


async def _in_state(runtime: Runtime, helpdesk: Helpdesk, status: MailboxStatus) -> InboundMailbox | None:
    mailbox = await _mailbox(runtime, helpdesk)
    return mailbox if mailbox is not None and mailbox.status is status else None


async def _told(smtp_server, helpdesk: Helpdesk, count: int):  # noqa: F811
    mails = _mails_to(smtp_server, helpdesk)
    return mails if len(mails) >= count else None


async def test_a_failing_mailbox_is_told_once_per_outage_and_its_recovery_tells_nothing(
        after_minutes_env, observer_of, fetching, dovecot, smtp_server):  # noqa: F811
    observer = await observer_of(after_minutes_env)
    helpdesk = await seed_helpdesk(observer, dovecot, smtp_server, password="not-the-password")
    processes = fetching(after_minutes_env)
    failing = await eventually(lambda: _in_state(observer, helpdesk, MailboxStatus.error), timeout=60)
    assert failing.alerted_at is None  # failing for less than the 3 s the rule asks

    await eventually(lambda: _told(smtp_server, helpdesk, 3), timeout=30)
    await asyncio.sleep(3)  # many more checks by every supervisor: nobody tells it again
    mails = _mails_to(smtp_server, helpdesk)
    assert sorted(r.lower() for m in mails for r in m.recipients) == sorted(helpdesk.told)
    assert await _notifications(observer, helpdesk) == 3
    mailbox = await _mailbox(observer, helpdesk)
    assert mailbox is not None and mailbox.status is MailboxStatus.error
    assert mailbox.failing_since is not None and mailbox.alerted_at is not None
    assert mailbox.alerted_at - mailbox.failing_since >= timedelta(seconds=3)
    parsed = email.message_from_bytes(mails[0].content, policy=email.policy.default)
    assert helpdesk.server_name in parsed["Subject"] and parsed["Auto-Submitted"] == "auto-generated"
    body = parsed.get_body(("plain",)).get_content()
    assert mailbox.last_error and mailbox.last_error in body
    assert "Orders" in body and "Returns" in body and "Archive" not in body

    # The admin fixes the password: the outage ends, and nobody is emailed about that.
    await _change_server(observer, helpdesk, incoming_password=helpdesk.mailbox_password)
    recovered = await eventually(lambda: _in_state(observer, helpdesk, MailboxStatus.ok), timeout=30)
    await eventually(lambda: _outage_closed(observer, helpdesk), timeout=10)
    await asyncio.sleep(2)
    assert len(_mails_to(smtp_server, helpdesk)) == 3 and await _notifications(observer, helpdesk) == 3

    # A new outage (the port is closed now) is told again, once.
    await _change_server(observer, helpdesk, incoming_port=free_port())
    await eventually(lambda: _told(smtp_server, helpdesk, 6), timeout=40)
    await asyncio.sleep(3)
    assert len(_mails_to(smtp_server, helpdesk)) == 6 and await _notifications(observer, helpdesk) == 6
    mailbox = await _mailbox(observer, helpdesk)
    assert mailbox is not None and mailbox.failing_since is not None and recovered.last_ok_at is not None
    assert mailbox.failing_since >= recovered.last_ok_at
    assert all(process.poll() is None for process in processes.started)  # every supervisor lived throughout


async def test_a_mailbox_is_told_after_the_configured_number_of_failures_in_a_row(
        after_failures_env, observer_of, fetching, dovecot, smtp_server):  # noqa: F811
    observer = await observer_of(after_failures_env)
    helpdesk = await seed_helpdesk(observer, dovecot, smtp_server, password="not-the-password")
    fetching(after_failures_env)
    await eventually(lambda: _in_state(observer, helpdesk, MailboxStatus.error), timeout=60)
    await asyncio.sleep(2)
    mailbox = await _mailbox(observer, helpdesk)
    # Not told before a second failure in a row. (The fetcher writes a repeated identical error once, so
    # one wrong password stays one failure, however often it is tried.)
    assert mailbox is not None and mailbox.consecutive_failures >= 1
    assert mailbox.consecutive_failures >= 2 or (mailbox.alerted_at is None and not _mails_to(smtp_server, helpdesk))

    # Another wrong password: the restarted fetcher fails a second time in a row.
    await _change_server(observer, helpdesk, incoming_password="still-not-the-password")
    await eventually(lambda: _told(smtp_server, helpdesk, 3), timeout=30)
    await asyncio.sleep(2)
    assert len(_mails_to(smtp_server, helpdesk)) == 3 and await _notifications(observer, helpdesk) == 3
    mailbox = await _mailbox(observer, helpdesk)
    assert mailbox is not None and mailbox.consecutive_failures >= 2 and mailbox.alerted_at is not None


@pytest.fixture
def three_or_a_minute_env(settings_env, tmp_path) -> Iterator[dict[str, str]]:
    yield from _alert_env(settings_env, tmp_path / "data", failures="3", minutes="1")


async def test_concurrent_checks_tell_an_outage_once_and_a_missed_recovery_opens_a_new_one(
        three_or_a_minute_env, observer_of, dovecot, smtp_server):  # noqa: F811
    """The rule itself, on mailbox rows written as the fetcher writes them (no fetcher runs here), six
    checks at a time: in production, six transactions on PostgreSQL racing for the same row."""
    checker = await observer_of(three_or_a_minute_env)
    helpdesk = await seed_helpdesk(checker, dovecot, smtp_server, password="whatever")
    now = utcnow()
    async with unit_of_work(checker) as session:
        session.add(InboundMailbox(company_id=helpdesk.company_id, email_server_id=helpdesk.server_id,
                                   folder="INBOX", status=MailboxStatus.error, last_error="[AUTHENTICATIONFAILED]",
                                   last_error_at=now - timedelta(minutes=30), consecutive_failures=1))
        # Left by the folder the server read before (nobody fetches it now): its old failure is no outage.
        session.add(InboundMailbox(company_id=helpdesk.company_id, email_server_id=helpdesk.server_id,
                                   folder="Old folder", status=MailboxStatus.error, last_error="no such folder",
                                   last_error_at=now - timedelta(minutes=30), consecutive_failures=1))
    wanted = {helpdesk.server_id}

    async def checks() -> int:
        return sum(await asyncio.gather(*(alerts.check(checker, wanted_server_ids=wanted) for _ in range(6))))

    assert await alerts.check(checker, wanted_server_ids=set()) == 0  # nobody fetches it: nobody is told
    assert await checks() == 1
    assert await checks() == 0
    assert await _notifications(checker, helpdesk) == 3
    mailbox = await _mailbox(checker, helpdesk)
    assert mailbox is not None and mailbox.failing_since == now - timedelta(minutes=30)

    # Read again: the outage closes without a word.
    await _write(checker, helpdesk, status=MailboxStatus.ok, last_ok_at=now - timedelta(minutes=20),
                 consecutive_failures=0)
    assert await checks() == 0
    assert await _outage_closed(checker, helpdesk)
    # Failing again: a new outage, told at its third failure in a row (well within the minute).
    await _write(checker, helpdesk, status=MailboxStatus.error, last_error_at=now - timedelta(seconds=20),
                 consecutive_failures=1)
    assert await checks() == 0
    mailbox = await _mailbox(checker, helpdesk)
    assert mailbox is not None and mailbox.failing_since == now - timedelta(seconds=20)
    await _write(checker, helpdesk, consecutive_failures=2)
    assert await checks() == 0
    await _write(checker, helpdesk, consecutive_failures=3)
    assert await checks() == 1 and await _notifications(checker, helpdesk) == 6

    # Read again, then failing three times, all between two checks: still a new outage, told again.
    await _write(checker, helpdesk, last_ok_at=now - timedelta(seconds=15), last_error_at=now - timedelta(seconds=10),
                 consecutive_failures=3)
    assert await checks() == 1 and await _notifications(checker, helpdesk) == 9
    mailbox = await _mailbox(checker, helpdesk)
    assert mailbox is not None and mailbox.failing_since == now - timedelta(seconds=10)
    assert await checks() == 0
    # A success recorded later than the failure (two processes' clocks): one new outage, not one per check.
    await _write(checker, helpdesk, last_ok_at=now - timedelta(seconds=5))
    assert await checks() == 1 and await checks() == 0
    mailbox = await _mailbox(checker, helpdesk)
    assert mailbox is not None and mailbox.failing_since == now - timedelta(seconds=5)


async def _write(runtime: Runtime, helpdesk: Helpdesk, **values: object) -> None:
    async with unit_of_work(runtime) as session:
        await session.execute(update(InboundMailbox).where(InboundMailbox.email_server_id == helpdesk.server_id,
                                                           InboundMailbox.folder == "INBOX").values(**values))


async def _outage_closed(runtime: Runtime, helpdesk: Helpdesk) -> bool:
    mailbox = await _mailbox(runtime, helpdesk)
    return mailbox is not None and mailbox.failing_since is None and mailbox.alerted_at is None
