"""Email-group notifications: a failed call reported by telephony is emailed, by a job, to every contact
of the groups attached to the campaign for failed calls, through the campaign's SMTP server; rows are
recorded before sending, retried on transient failures, and never sent twice."""

from __future__ import annotations

import asyncio
import email
import email.policy
import uuid

from postdesk.notifications import service as notification_service
from postdesk.uow import unit_of_work
from tests.campaigns.helpers import error_fields, make_campaign
from tests.conftest import eventually
from tests.support.fixtures import SMTP_PASSWORD, SMTP_USER

NOW = "2026-03-29T00:30:00Z"  # 01:30 in Madrid, just before the clocks go forward


async def smtp_campaign(client, company, smtp_server) -> dict:
    server = await client.post("/api/email-servers", headers=company.admin.headers, json={
        "name": f"Relay {uuid.uuid4().hex[:6]}", "server_type": "smtp", "sender_email": "support@acme.test",
        "sender_name": "Acme Support", "smtp_host": "localhost", "smtp_port": smtp_server.port,
        "smtp_security": "starttls", "smtp_username": SMTP_USER, "smtp_password": SMTP_PASSWORD,
        "incoming_protocol": "none"})
    assert server.status_code == 201, server.text
    return await make_campaign(client, company, title=f"Hotline {uuid.uuid4().hex[:4]}",
                               email_server_id=server.json()["id"], receive_emails=False,
                               schedule_timezone="Europe/Madrid")


async def make_group(client, company, campaign, contacts: list[tuple[str, str]], events: list[str]) -> dict:
    created = await client.post("/api/email-groups", headers=company.admin.headers, json={
        "name": f"Group {uuid.uuid4().hex[:6]}",
        "contacts": [{"email": address, "contact_name": name} for address, name in contacts]})
    assert created.status_code == 201, created.text
    attached = await client.put(f"/api/email-groups/{created.json()['id']}/campaigns/{campaign['id']}",
                                headers=company.admin.headers, json={"events": events})
    assert attached.status_code == 200, attached.text
    return created.json()


async def notifications_of(client, company, failed_call_id: str) -> list[dict]:
    response = await client.get("/api/notifications", headers=company.admin.headers,
                                params={"failed_call_id": failed_call_id})
    assert response.status_code == 200
    return response.json()["items"]


async def test_a_failed_call_reaches_every_contact_of_the_group_through_smtp(client, company, smtp_server,
                                                                             runtime):
    campaign = await smtp_campaign(client, company, smtp_server)
    await make_group(client, company, campaign, [("lead@acme.test", "Team Lead"), ("night@acme.test", "Night")],
                     ["failed_call"])
    # A second group shares one address (told once) and adds another.
    await make_group(client, company, campaign, [("NIGHT@acme.test", "Night"), ("callbacks@acme.test", "")],
                     ["failed_call", "interaction_lost"])
    await make_group(client, company, campaign, [("sla@acme.test", "SLA")], ["service_level_breached"])

    report = {"campaign_id": campaign["id"], "caller": "+34 600 123 456", "caller_name": "María",
              "reason": "abandoned in queue", "occurred_at": NOW, "external_id": "pbx-call-1"}
    response = await client.post("/api/events/failed-call", headers=company.admin.headers, json=report)
    assert response.status_code == 202, response.text
    call = response.json()
    assert call["duplicate"] is False
    assert sorted(n["recipient_email"].lower() for n in call["notifications"]) == [
        "callbacks@acme.test", "lead@acme.test", "night@acme.test"]

    mails = await eventually(lambda: _received(smtp_server, 3))
    assert sorted(r.lower() for mail in mails for r in mail.recipients) == [
        "callbacks@acme.test", "lead@acme.test", "night@acme.test"]
    for mail in mails:
        assert len(mail.recipients) == 1 and mail.authenticated_as == SMTP_USER
        parsed = email.message_from_bytes(mail.content, policy=email.policy.default)
        assert parsed["From"].addresses[0].addr_spec == "support@acme.test"
        assert parsed["Auto-Submitted"] == "auto-generated"
        assert "María" in parsed["Subject"] and campaign["title"] in parsed["Subject"]
        body = parsed.get_body(("plain",)).get_content()
        assert "+34 600 123 456" in body and "abandoned in queue" in body
        assert "2026-03-29 01:30:00 Europe/Madrid" in body

    rows = await eventually(lambda: _all_in_state(client, company, call["id"], "sent"))
    assert {r["message_id"] for r in rows} == {
        email.message_from_bytes(m.content, policy=email.policy.default)["Message-ID"] for m in mails}
    assert all(r["attempts"] == 1 for r in rows)

    # The same report again: nothing new is recorded or sent.
    again = await client.post("/api/events/failed-call", headers=company.admin.headers, json=report)
    assert again.status_code == 202 and again.json()["duplicate"] is True and again.json()["id"] == call["id"]
    # Running a finished job again sends nothing either.
    for row in rows:
        await notification_service.deliver(runtime, uuid.UUID(row["id"]))
    await asyncio.sleep(0.5)
    assert len(smtp_server.received) == 3


async def test_a_transient_refusal_is_retried_and_a_permanent_one_recorded(client, company, smtp_server):
    campaign = await smtp_campaign(client, company, smtp_server)
    await make_group(client, company, campaign, [("ok@acme.test", ""), ("gone@acme.test", "")], ["failed_call"])
    smtp_server.refuse_recipient("gone@acme.test", "550 5.1.1 No such user")
    smtp_server.data_reply = "451 4.3.0 Try again later"
    response = await client.post("/api/events/failed-call", headers=company.admin.headers, json={
        "campaign_id": campaign["id"], "caller": "+1 555 0100", "reason": "no agent answered", "occurred_at": NOW})
    call_id = response.json()["id"]

    async def ok_retried() -> dict | None:
        rows = {r["recipient_email"]: r for r in await notifications_of(client, company, call_id)}
        row = rows["ok@acme.test"]
        return row if row["state"] == "queued" and row["attempts"] == 1 and row["last_error"] else None

    waiting = await eventually(ok_retried)
    assert "451" in waiting["last_error"]
    smtp_server.data_reply = None  # the server recovers before the next attempt (5 s later)
    rows = await eventually(lambda: _states(client, company, call_id, {"ok@acme.test": "sent",
                                                                         "gone@acme.test": "failed"}), timeout=30)
    assert rows["ok@acme.test"]["attempts"] == 2
    assert "550" in rows["gone@acme.test"]["last_error"]
    assert [m.recipients for m in smtp_server.received] == [("ok@acme.test",)]


async def test_failed_call_reports_are_checked_naming_the_field(client, make_company, smtp_server):
    ours, theirs = await make_company(), await make_company()
    await smtp_campaign(client, ours, smtp_server)
    their_campaign = await smtp_campaign(client, theirs, smtp_server)
    body = {"campaign_id": their_campaign["id"], "caller": "+1 555 0100", "reason": "busy", "occurred_at": NOW}
    foreign = await client.post("/api/events/failed-call", headers=ours.admin.headers, json=body)
    assert foreign.status_code == 404 and error_fields(foreign) == {"campaign_id"}
    naive = await client.post("/api/events/failed-call", headers=theirs.admin.headers,
                              json={**body, "occurred_at": "2026-03-29T00:30:00"})
    assert naive.status_code == 422 and error_fields(naive) == {"occurred_at"}
    injected = await client.post("/api/events/failed-call", headers=theirs.admin.headers,
                                 json={**body, "caller": "x\r\nBcc: victim@example.test"})
    assert injected.status_code == 422 and error_fields(injected) == {"caller"}
    listed = await client.get("/api/notifications", headers=ours.admin.headers)
    assert listed.json()["total"] == 0


async def test_notify_groups_tells_the_groups_attached_for_the_event(client, company, smtp_server, runtime):
    campaign = await smtp_campaign(client, company, smtp_server)
    await make_group(client, company, campaign, [("ops@acme.test", "Ops")], ["delivery_failed"])
    await make_group(client, company, campaign, [("calls@acme.test", "Calls")], ["failed_call"])
    async with unit_of_work(runtime) as session:
        rows = await notification_service.notify_groups(
            session, company_id=uuid.UUID(company.id), campaign_id=uuid.UUID(campaign["id"]),
            subject="Mailbox support@acme.test\r\ncannot be read", text="IMAP login failed.")
    assert [r.recipient_email for r in rows] == ["ops@acme.test"]
    mails = await eventually(lambda: _received(smtp_server, 1))
    parsed = email.message_from_bytes(mails[0].content, policy=email.policy.default)
    assert parsed["Subject"] == "Mailbox support@acme.test cannot be read"


async def _received(smtp_server, count: int):
    mails = smtp_server.received
    return mails if len(mails) >= count else None


async def _all_in_state(client, company, call_id: str, state: str) -> list[dict] | None:
    rows = await notifications_of(client, company, call_id)
    return rows if rows and all(r["state"] == state for r in rows) else None


async def _states(client, company, call_id: str, wanted: dict[str, str]) -> dict[str, dict] | None:
    rows = {r["recipient_email"]: r for r in await notifications_of(client, company, call_id)}
    return rows if all(rows[k]["state"] == v for k, v in wanted.items()) else None
