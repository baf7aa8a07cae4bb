"""The first sync of a mailbox takes everything, or only the mail received since a chosen day.

The mail is already on a real Dovecot before the first sync, APPENDed with internal dates on both
sides of the day; the day is chosen through `PUT /api/inbound/mailboxes/{server_id}` before any
campaign receives through the server, then a campaign is enabled and the fetchers take over.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import aioimaplib

from postdesk.accounts.caller import Caller
from postdesk.accounts.models import Role
from postdesk.campaigns import service as campaign_service
from postdesk.campaigns.schemas import CampaignUpdate
from postdesk.inbound.models import InboundMail, InboundMailbox
from postdesk.interactions.models import Message
from postdesk.uow import unit_of_work
from tests.campaigns.helpers import error_fields
from tests.inbound.conftest import Tenant, admin_headers, customer_mail, eventually, rows, seed_tenant


def _day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(hour=12, tzinfo=UTC)


async def _append(dovecot, tenant: Tenant, received: list[tuple[str, datetime]]) -> None:
    """APPEND with an internal date, as a migration or another client would store older mail."""
    client = aioimaplib.IMAP4(host="127.0.0.1", port=dovecot.imap_port, timeout=10)
    await client.wait_hello_from_server()
    assert (await client.login(tenant.mailbox, tenant.mailbox_password)).result == "OK"
    try:
        for subject, when in received:
            response = await client.append(customer_mail(subject=subject), mailbox="INBOX", date=when)
            assert response.result == "OK", response
    finally:
        await client.logout()


async def _start_receiving(runtime, tenant: Tenant) -> None:
    async with unit_of_work(runtime) as session:
        await campaign_service.update_campaign(session, Caller(company_id=tenant.company_id, role=Role.admin),
                                               tenant.campaign_id, CampaignUpdate(enabled=True))


async def _subjects(runtime, tenant: Tenant) -> list[str]:
    return sorted(m.subject for m in await rows(runtime, Message, Message.company_id == tenant.company_id))


async def _mailbox(runtime, tenant: Tenant) -> InboundMailbox:
    [mailbox] = await rows(runtime, InboundMailbox, InboundMailbox.email_server_id == tenant.server_id)
    return mailbox


async def test_first_sync_takes_only_mail_received_since_the_chosen_day(stack_runtime, api, dovecot):
    tenant = await seed_tenant(stack_runtime, dovecot, campaign_enabled=False)  # nothing fetches it yet
    await _append(dovecot, tenant, [("January 5", _day("2026-01-05")), ("January 20", _day("2026-01-20")),
                                    ("February 10", _day("2026-02-10")), ("March 1", _day("2026-03-01"))])
    headers = await admin_headers(api, tenant)
    url = f"/api/inbound/mailboxes/{tenant.server_id}"
    bad = await api.put(url, headers=headers, json={"sync_since": "the first of February"})
    assert bad.status_code == 422 and error_fields(bad) == {"sync_since"}

    chosen = await api.put(url, headers=headers, json={"sync_since": "2026-02-01"})
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["sync_since"] == "2026-02-01" and chosen.json()["uidvalidity"] is None
    await _start_receiving(stack_runtime, tenant)

    async def taken():
        subjects = await _subjects(stack_runtime, tenant)
        return subjects if len(subjects) >= 2 else None

    assert await eventually(taken, timeout=30) == ["February 10", "March 1"]
    await asyncio.sleep(1)  # a few more syncs: the older mail stays where it is
    assert await _subjects(stack_runtime, tenant) == ["February 10", "March 1"]
    ledger = await rows(stack_runtime, InboundMail, InboundMail.email_server_id == tenant.server_id)
    assert sorted(m.uid for m in ledger) == [3, 4]
    assert (await _mailbox(stack_runtime, tenant)).last_uid == 4

    # The day applies to the first sync only: later mail is taken whatever its date says.
    await _append(dovecot, tenant, [("Restored from a backup", _day("2025-12-24"))])

    async def later():
        subjects = await _subjects(stack_runtime, tenant)
        return subjects if len(subjects) >= 3 else None

    assert "Restored from a backup" in await eventually(later, timeout=30)
    too_late = await api.put(url, headers=headers, json={"sync_since": "2026-01-01"})
    assert too_late.status_code == 409 and error_fields(too_late) == {"sync_since"}


async def test_first_sync_since_a_day_with_no_mail_yet_takes_only_what_arrives_next(stack_runtime, api, dovecot):
    tenant = await seed_tenant(stack_runtime, dovecot, campaign_enabled=False)
    await _append(dovecot, tenant, [("Old 1", _day("2026-01-05")), ("Old 2", _day("2026-01-06"))])
    headers = await admin_headers(api, tenant)
    chosen = await api.put(f"/api/inbound/mailboxes/{tenant.server_id}", headers=headers,
                           json={"sync_since": "2026-02-01"})
    assert chosen.status_code == 200, chosen.text
    await _start_receiving(stack_runtime, tenant)

    async def positioned():
        mailbox = await _mailbox(stack_runtime, tenant)
        return mailbox if mailbox.uidvalidity is not None else None

    mailbox = await eventually(positioned, timeout=30)
    assert mailbox.last_uid == 2  # past the old mail, which is left alone
    await asyncio.sleep(1)
    assert await _subjects(stack_runtime, tenant) == []

    await dovecot.deliver(tenant.mailbox, customer_mail(subject="Arrived today"))

    async def arrived():
        return await _subjects(stack_runtime, tenant) or None

    assert await eventually(arrived, timeout=30) == ["Arrived today"]
