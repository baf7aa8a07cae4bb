"""The agent workspace API: tray and conversation, reply / forward / new email through a real SMTP
server, and every campaign rule enforced with a clear 4xx."""

from __future__ import annotations

import email
import email.policy
import uuid

import pytest

from postdesk.interactions.models import InteractionState
from tests.campaigns.helpers import make_server, make_template
from tests.conftest import eventually
from tests.interactions.factories import campaign_with_members, interaction_row, make_interaction
from tests.support.fixtures import SMTP_PASSWORD, SMTP_USER


@pytest.fixture
def relay(client, smtp_server):
    """An email server on the test SMTP server (aiosmtpd on 127.0.0.1) for a company."""

    async def make(company) -> dict:
        return await make_server(client, company, receiving=False, smtp_host="localhost", smtp_port=smtp_server.port,
                                 smtp_username=SMTP_USER, smtp_password=SMTP_PASSWORD, smtp_security="starttls",
                                 sender_email="support@example.test", is_default=True)

    return make


@pytest.fixture
def desk(client, runtime, company, make_user, relay):
    """An agent holding one customer interaction in a campaign with the given flags."""

    async def make(*, attachments=(), **campaign_fields):
        server = await relay(company)
        agent = await make_user(company, name="Alice Agent")
        campaign = await campaign_with_members(client, company, [agent], server=server, **campaign_fields)
        sample = await make_interaction(runtime, company_id=company.id, campaign_id=campaign["id"],
                                        state=InteractionState.assigned, agent_id=agent.id, attachments=attachments)
        return agent, campaign, sample

    return make


async def load(client, account, interaction_id) -> dict:
    response = await client.get(f"/api/interactions/{interaction_id}", headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()


def fields(response) -> set[str]:
    return {f["field"] for f in response.json()["error"]["fields"]}


async def test_tray_shows_unread_and_opening_the_conversation_marks_it_read(client, desk):
    agent, campaign, sample = await desk()
    tray = (await client.get("/api/agents/me/tray", headers=agent.headers)).json()
    assert [(i["id"], i["unread"]) for i in tray["items"]] == [(str(sample.interaction_id), True)]
    assert tray["items"][0]["waiting_seconds"] >= 0
    conversation = await load(client, agent, sample.interaction_id)
    assert conversation["client"] == {"campaign_name": campaign["title"], "client_email": "carla@customer.test",
                                      "client_name": "Carla Customer"}
    assert [m["direction"] for m in conversation["messages"]] == ["inbound"]
    tray = (await client.get("/api/agents/me/tray", headers=agent.headers)).json()
    assert tray["items"][0]["unread"] is False


async def test_reply_reaches_the_smtp_server_threaded_under_the_customer_message_with_the_signature(
        client, company, desk, smtp_server):
    signature = await make_template(client, company, kind="signature", subject="",
                                    html_body="<p>Kind regards, ${agent_name}</p>")
    agent, _, sample = await desk(signature_template_id=signature["id"])
    version = (await load(client, agent, sample.interaction_id))["interaction"]["version"]
    sent = await client.post(f"/api/interactions/{sample.interaction_id}/reply", headers=agent.headers, json={
        "expected_version": version, "html_body": "<p>Your parcel left today.</p>"})
    assert sent.status_code == 201, sent.text
    message = sent.json()["message"]
    assert message["status"] == "queued" and message["in_reply_to"] == sample.message_id_header
    assert message["subject"] == "Re: Where is my order?"

    received = await eventually(_received(smtp_server, "carla@customer.test"), timeout=30)
    mail = email.message_from_bytes(received[0].content, policy=email.policy.default)
    assert mail["In-Reply-To"] == sample.message_id_header
    assert sample.message_id_header in mail["References"]
    assert mail["Subject"] == "Re: Where is my order?"
    text = mail.get_body(("plain",)).get_content()
    assert "Your parcel left today." in text and "Kind regards, Alice Agent" in text


def _received(smtp_server, *recipients: str):
    """Mail the SMTP server got for exactly these recipients (an earlier test's late delivery is ignored)."""
    async def check():
        return [m for m in smtp_server.received if set(m.recipients) == set(recipients)]
    return check


async def test_reply_with_history_quotes_earlier_messages(client, desk):
    agent, _, sample = await desk()
    sent = await client.post(f"/api/interactions/{sample.interaction_id}/reply", headers=agent.headers, json={
        "expected_version": 1, "text_body": "On its way.", "quote_history": True})
    assert sent.status_code == 201, sent.text
    text = sent.json()["message"]["text_body"]
    assert text.startswith("On its way.") and "> Hello, any news?" in text


async def test_template_only_campaigns_refuse_free_text_and_foreign_templates(client, company, desk):
    agent, campaign, sample = await desk(allow_free_format=False)
    url = f"/api/interactions/{sample.interaction_id}/reply"
    free = await client.post(url, headers=agent.headers, json={"expected_version": 1, "text_body": "Hi"})
    assert free.status_code == 422 and fields(free) == {"text_body"}
    nothing = await client.post(url, headers=agent.headers, json={"expected_version": 1})
    assert nothing.status_code == 422 and fields(nothing) == {"template_id"}
    other = await campaign_with_members(client, company, [], server={})
    elsewhere = await make_template(client, company, campaign_id=other["id"])
    foreign = await client.post(url, headers=agent.headers, json={"expected_version": 1,
                                                                   "template_id": elsewhere["id"]})
    assert foreign.status_code == 422 and fields(foreign) == {"template_id"}
    ours = await make_template(client, company, campaign_id=campaign["id"], html_body="<p>Hello ${name}</p>")
    sent = await client.post(url, headers=agent.headers, json={"expected_version": 1, "template_id": ours["id"]})
    assert sent.status_code == 201, sent.text
    assert "Hello Carla Customer" in sent.json()["message"]["html_body"]


async def test_unconfirmed_invalid_addresses_are_refused_naming_the_address(client, desk, smtp_server):
    agent, _, sample = await desk(require_address_confirmation=True)
    url = f"/api/interactions/{sample.interaction_id}/forward"
    body = {"expected_version": 1, "to": "ops@example.test; billing@example.test, a@x.test b@y.test"}
    refused = await client.post(url, headers=agent.headers, json=body)
    assert refused.status_code == 422 and fields(refused) == {"to"}
    assert refused.json()["error"]["message"] == (
        "The input email address 'a@x.test b@y.test' appears to be invalid. Please confirm that you do want to use "
        "this email address, by pressing OK, or press Cancel and go back and correct it.")
    confirmed = await client.post(url, headers=agent.headers,
                                  json={**body, "confirm_addresses": ["a@x.test b@y.test"]})
    assert confirmed.status_code == 201, confirmed.text
    assert [a["address"] for a in confirmed.json()["message"]["to"]] == [
        "ops@example.test", "billing@example.test", "a@x.test", "b@y.test"]
    hopeless = await client.post(url, headers=agent.headers, json={
        "expected_version": 2, "to": "not-an-address", "confirm_addresses": ["not-an-address"]})
    assert hopeless.status_code == 422 and "not-an-address" in hopeless.json()["error"]["message"]
    # The confirmed forward goes out (and is waited for, so it cannot land in the next test's server).
    await eventually(_received(smtp_server, "ops@example.test", "billing@example.test", "a@x.test", "b@y.test"),
                     timeout=30)


async def test_forward_carries_the_original_attachments_to_every_address(client, runtime, desk, smtp_server):
    agent, _, sample = await desk(attachments=[("invoice.pdf", "application/pdf", b"%PDF-1.4 invoice")])
    sent = await client.post(f"/api/interactions/{sample.interaction_id}/forward", headers=agent.headers, json={
        "expected_version": 1, "to": "ops@example.test, billing@example.test", "text_body": "FYI"})
    assert sent.status_code == 201, sent.text
    message = sent.json()["message"]
    assert message["subject"] == "Fwd: Where is my order?"
    assert [a["filename"] for a in message["attachments"]] == ["invoice.pdf"]
    assert message["attachments"][0]["id"] != str(sample.attachment_ids[0])  # a new row, same stored bytes
    received = await eventually(_received(smtp_server, "ops@example.test", "billing@example.test"), timeout=30)
    mail = email.message_from_bytes(received[0].content, policy=email.policy.default)
    files = {part.get_filename(): part.get_content() for part in mail.iter_attachments()}
    assert files == {"invoice.pdf": b"%PDF-1.4 invoice"}


async def test_attachments_download_as_files_with_safe_content_types(client, company, make_user, desk):
    agent, _, sample = await desk(attachments=[("report.pdf", "application/pdf", b"%PDF"),
                                               ("page.html", "text/html", b"<script>alert(1)</script>")])
    conversation = await load(client, agent, sample.interaction_id)
    by_name = {a["filename"]: a["id"] for a in conversation["messages"][0]["attachments"]}
    pdf = await client.get(f"/api/interactions/{sample.interaction_id}/attachments/{by_name['report.pdf']}",
                           headers=agent.headers)
    assert pdf.status_code == 200 and pdf.content == b"%PDF"
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith('attachment; filename="report.pdf"')
    page = await client.get(f"/api/interactions/{sample.interaction_id}/attachments/{by_name['page.html']}",
                            headers=agent.headers)
    assert page.headers["content-type"] == "application/octet-stream"
    assert page.headers["x-content-type-options"] == "nosniff"
    outsider = await make_user(company)
    hidden = await client.get(f"/api/interactions/{sample.interaction_id}/attachments/{by_name['report.pdf']}",
                              headers=outsider.headers)
    assert hidden.status_code == 404


async def test_drafts_are_saved_resumed_and_deleted_only_where_allowed(client, desk):
    agent, _, sample = await desk()
    url = f"/api/interactions/{sample.interaction_id}/drafts"
    saved = await client.post(url, headers=agent.headers, json={"text_body": "Half a thought", "to": "x@y.test"})
    assert saved.status_code == 201, saved.text
    draft_id = saved.json()["id"]
    updated = await client.put(f"{url}/{draft_id}", headers=agent.headers, json={"text_body": "A whole thought"})
    assert updated.json()["text_body"] == "A whole thought"
    assert [d["id"] for d in (await load(client, agent, sample.interaction_id))["drafts"]] == [draft_id]
    sent = await client.post(f"/api/interactions/{sample.interaction_id}/reply", headers=agent.headers,
                             json={"expected_version": 1, "text_body": "A whole thought", "draft_id": draft_id})
    assert sent.status_code == 201, sent.text
    assert (await client.get(url, headers=agent.headers)).json() == []  # sending used the draft up
    again = (await client.post(url, headers=agent.headers, json={"text_body": "later"})).json()
    assert (await client.delete(f"{url}/{again['id']}", headers=agent.headers)).status_code == 204

    agent2, _, no_drafts = await desk(allow_drafts=False)
    refused = await client.post(f"/api/interactions/{no_drafts.interaction_id}/drafts", headers=agent2.headers,
                                json={"text_body": "x"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "campaign_rule"


async def test_put_back_and_move_follow_the_campaign_flags(client, runtime, company, desk):
    agent, _, sample = await desk(allow_put_back=False, allow_move=False)
    target = await campaign_with_members(client, company, [], server={})
    put_back = await client.post(f"/api/interactions/{sample.interaction_id}/put-back", headers=agent.headers,
                                 json={"expected_version": 1})
    assert put_back.status_code == 403 and put_back.json()["error"]["code"] == "campaign_rule"
    moved = await client.post(f"/api/interactions/{sample.interaction_id}/move", headers=agent.headers,
                              json={"expected_version": 1, "campaign_id": target["id"]})
    assert moved.status_code == 403

    agent, _, sample = await desk()
    moved = await client.post(f"/api/interactions/{sample.interaction_id}/move", headers=agent.headers,
                              json={"expected_version": 1, "campaign_id": target["id"]})
    assert moved.status_code == 200, moved.text
    assert moved.json()["campaign_id"] == target["id"] and moved.json()["state"] == "queued"
    assert moved.json()["agent_id"] is None
    missing = await client.post(f"/api/interactions/{sample.interaction_id}/move", headers=company.admin.headers,
                                json={"expected_version": moved.json()["version"], "campaign_id": str(uuid.uuid4())})
    assert missing.status_code == 404 and fields(missing) == {"campaign_id"}

    agent, _, sample = await desk()
    back = await client.post(f"/api/interactions/{sample.interaction_id}/put-back", headers=agent.headers,
                             json={"expected_version": 1})
    assert back.status_code == 200, back.text
    row = await interaction_row(runtime, sample.interaction_id)
    assert row.state is InteractionState.queued and row.agent_id is None  # the agent is offline: nobody takes it
    assert (await client.get("/api/agents/me/tray", headers=agent.headers)).json()["items"] == []


async def test_replies_carry_the_rating_block_when_qualification_is_on(client, desk):
    agent, _, sample = await desk(qualification={"enabled": True, "motivation_text": "How did we do?",
                                                 "thank_you_message": "Thanks!"})
    sent = await client.post(f"/api/interactions/{sample.interaction_id}/reply", headers=agent.headers,
                             json={"expected_version": 1, "text_body": "Done."})
    assert sent.status_code == 201, sent.text
    text = sent.json()["message"]["text_body"]
    assert text.startswith("Done.") and "How did we do?" in text and "/rate/" in text


async def test_blacklisted_recipients_are_refused_before_anything_is_sent(client, company, desk):
    agent, _, sample = await desk()
    listed = await client.post("/api/blacklist", headers=company.admin.headers, json={"value": "spam.test"})
    assert listed.status_code == 201, listed.text
    refused = await client.post(f"/api/interactions/{sample.interaction_id}/forward", headers=agent.headers,
                                json={"expected_version": 1, "to": "ok@example.test", "cc": "x@spam.test"})
    assert refused.status_code == 422 and fields(refused) == {"cc"}
    assert "x@spam.test" in refused.json()["error"]["message"]
    assert (await load(client, agent, sample.interaction_id))["interaction"]["version"] == 1


async def test_a_stale_version_is_refused_so_two_agents_never_send_blind(client, company, make_user, desk):
    agent, _, sample = await desk()
    supervisor = await make_user(company, role="supervisor")
    url = f"/api/interactions/{sample.interaction_id}/reply"
    first = await client.post(url, headers=supervisor.headers, json={"expected_version": 1, "text_body": "Me first"})
    assert first.status_code == 201
    second = await client.post(url, headers=agent.headers, json={"expected_version": 1, "text_body": "Me too"})
    assert second.status_code == 409 and fields(second) == {"expected_version"}
    assert second.json()["error"]["current_version"] == 2


async def test_only_the_assigned_agent_or_a_supervisor_acts(client, company, make_user, desk):
    agent, campaign, sample = await desk()
    colleague = await make_user(company)
    from tests.interactions.factories import set_members

    await set_members(client, company, campaign["id"], [agent, colleague])
    seen = await client.get(f"/api/interactions/{sample.interaction_id}", headers=colleague.headers)
    assert seen.status_code == 200  # same campaign: may read
    refused = await client.post(f"/api/interactions/{sample.interaction_id}/close", headers=colleague.headers,
                                json={"expected_version": 1, "disposition": "Solved"})
    assert refused.status_code == 403
    closed = await client.post(f"/api/interactions/{sample.interaction_id}/close", headers=agent.headers,
                               json={"expected_version": 1, "disposition": "Solved"})
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    assert closed.json()["disposition"] == "Solved"
    blank = await client.post(f"/api/interactions/{sample.interaction_id}/close", headers=agent.headers,
                              json={"expected_version": 2, "disposition": " "})
    assert blank.status_code == 422 and fields(blank) == {"disposition"}


async def test_search_finds_by_campaign_email_subject_and_name_within_what_the_caller_may_see(
        client, runtime, company, make_user, desk):
    agent, campaign, sample = await desk()
    other = await campaign_with_members(client, company, [], server={}, title=f"Returns {uuid.uuid4().hex[:4]}")
    hidden = await make_interaction(runtime, company_id=company.id, campaign_id=other["id"],
                                    customer_email="bob@shop.test", customer_name="Bob Buyer", subject="Refund")

    async def ids(account, **params):
        response = await client.get("/api/interactions", headers=account.headers, params=params)
        assert response.status_code == 200, response.text
        return {i["id"] for i in response.json()["items"]}

    mine = str(sample.interaction_id)
    assert await ids(agent, q=campaign["title"][-6:].upper()) == {mine}
    assert await ids(agent, q="carla@cust") == {mine}
    assert await ids(agent, q="where is my") == {mine}
    assert await ids(agent, q="carla customer") == {mine}
    assert await ids(agent, q="bob") == set()  # not the agent's campaign
    assert await ids(company.admin, q="bob") == {str(hidden.interaction_id)}
    assert await ids(company.admin, campaign=campaign["id"]) == {mine}


async def test_new_outbound_interactions_start_only_from_the_agents_campaigns(client, company, make_user, desk):
    agent, campaign, _ = await desk()
    other = await campaign_with_members(client, company, [], server={})
    body = {"to": "Dan Prospect <dan@prospect.test>", "subject": "Your quote", "text_body": "Here it is."}
    refused = await client.post("/api/interactions", headers=agent.headers, json={**body, "campaign_id": other["id"]})
    assert refused.status_code == 422 and fields(refused) == {"campaign_id"}
    started = await client.post("/api/interactions", headers=agent.headers,
                                json={**body, "campaign_id": campaign["id"]})
    assert started.status_code == 201, started.text
    interaction = started.json()["interaction"]
    assert interaction["direction"] == "outbound" and interaction["agent_id"] == agent.id
    assert interaction["customer_email"] == "dan@prospect.test" and interaction["customer_name"] == "Dan Prospect"
    tray = (await client.get("/api/agents/me/tray", headers=agent.headers)).json()
    assert interaction["id"] in {i["id"] for i in tray["items"]}
