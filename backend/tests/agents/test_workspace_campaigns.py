"""The campaigns an agent works, as the workspace composer needs them: rules, reply templates and the
signature the send appends."""

from __future__ import annotations

from tests.campaigns.helpers import make_campaign, make_server, make_template


async def _join(client, company, campaign: dict, *agents) -> None:
    response = await client.put(f"/api/campaigns/{campaign['id']}/members", headers=company.admin.headers,
                                json={"members": [{"user_id": a.id} for a in agents]})
    assert response.status_code == 200, response.text


async def test_members_see_only_their_campaigns_with_their_reply_templates(client, company, make_user):
    await make_server(client, company)
    agent = await make_user(company, name="Ann Agent")
    signature = await make_template(client, company, name="Sig", kind="signature", subject="",
                                    html_body="<p>${agent_name} &middot; ${campaign}</p>")
    ours = await make_campaign(client, company, title="Billing", allow_free_format=False, allow_drafts=False,
                               signature_template_id=signature["id"])
    elsewhere = await make_campaign(client, company, title="Sales")
    await _join(client, company, ours, agent)
    own = await make_template(client, company, name="Billing reply", campaign_id=ours["id"], subject="Re: bill")
    shared = await make_template(client, company, name="Greeting")
    await make_template(client, company, name="Sales reply", campaign_id=elsewhere["id"])
    await make_template(client, company, name="Auto", kind="auto_reply")

    response = await client.get("/api/agents/me/campaigns", headers=agent.headers)
    assert response.status_code == 200, response.text
    [billing] = response.json()
    assert billing["id"] == ours["id"] and billing["title"] == "Billing" and billing["enabled"] is True
    assert billing["allow_free_format"] is False and billing["allow_drafts"] is False
    assert billing["allow_put_back"] is True and billing["require_address_confirmation"] is False
    assert [(t["id"], t["kind"], t["subject"]) for t in billing["templates"]] == [
        (own["id"], "reply", "Re: bill"), (shared["id"], "reply", shared["subject"])]
    assert billing["signature"]["template_id"] == signature["id"]
    assert "Ann Agent" in billing["signature"]["html_body"] and "Billing" in billing["signature"]["text_body"]


async def test_campaign_without_signature_has_none_and_non_members_see_nothing(client, company, make_user):
    await make_server(client, company)
    member, outsider = await make_user(company), await make_user(company)
    campaign = await make_campaign(client, company)
    await _join(client, company, campaign, member)
    [listed] = (await client.get("/api/agents/me/campaigns", headers=member.headers)).json()
    assert listed["signature"] is None
    assert (await client.get("/api/agents/me/campaigns", headers=outsider.headers)).json() == []


async def test_supervisors_see_every_campaign_of_their_company_only(client, make_company, make_user):
    ours, theirs = await make_company(), await make_company()
    for company in (ours, theirs):
        await make_server(client, company)
    first, second = await make_campaign(client, ours, title="A"), await make_campaign(client, ours, title="B")
    their_campaign = await make_campaign(client, theirs, title="Theirs")
    their_agent = await make_user(theirs)
    await _join(client, theirs, their_campaign, their_agent)
    supervisor = await make_user(ours, role="supervisor")
    seen = (await client.get("/api/agents/me/campaigns", headers=supervisor.headers)).json()
    assert [c["id"] for c in seen] == [first["id"], second["id"]]
    assert [c["id"] for c in (await client.get("/api/agents/me/campaigns", headers=ours.admin.headers)).json()] == [
        first["id"], second["id"]]
    # Another company's agent sees their own campaign, never ours.
    assert [c["id"] for c in (await client.get("/api/agents/me/campaigns", headers=their_agent.headers)).json()] == [
        their_campaign["id"]]


async def test_agent_api_keys_have_no_campaigns_of_their_own(client, company):
    key = (await client.post("/api/api-keys", headers=company.admin.headers,
                             json={"name": "CRM", "role": "agent"})).json()
    response = await client.get("/api/agents/me/campaigns", headers={"X-API-Key": key["key"]})
    assert response.status_code == 403
