"""Presence: states, the workspace log in/out, breaks with a reason from the admin-managed list,
and supervisors seeing every agent's state with the time since their last change."""

from __future__ import annotations

import asyncio


async def test_presence_defaults_to_offline_and_workspace_login_logout_toggles_available(client, company, make_user):
    agent = await make_user(company)
    assert (await client.get("/api/agents/me/presence", headers=agent.headers)).json()["state"] == "offline"
    entered = await client.post("/api/agents/me/workspace", headers=agent.headers)
    assert entered.status_code == 200 and entered.json()["state"] == "available"
    left = await client.delete("/api/agents/me/workspace", headers=agent.headers)
    assert left.json()["state"] == "offline"
    busy = await client.put("/api/agents/me/presence", headers=agent.headers, json={"state": "busy"})
    assert busy.json()["state"] == "busy"


async def test_break_needs_a_reason_from_the_companys_list_once_it_has_one(client, make_company, make_user):
    company, other = await make_company(), await make_company()
    agent = await make_user(company)
    # No reasons configured: a plain break is fine.
    plain = await client.put("/api/agents/me/presence", headers=agent.headers, json={"state": "break"})
    assert plain.status_code == 200 and plain.json()["break_reason"] == ""

    refused = await client.post("/api/agents/break-reasons", headers=agent.headers, json={"name": "Lunch"})
    assert refused.status_code == 403  # admins manage the list
    lunch = (await client.post("/api/agents/break-reasons", headers=company.admin.headers,
                               json={"name": "Lunch"})).json()
    again = await client.post("/api/agents/break-reasons", headers=company.admin.headers, json={"name": "lunch"})
    assert again.status_code == 409
    theirs = (await client.post("/api/agents/break-reasons", headers=other.admin.headers,
                                json={"name": "Training"})).json()

    missing = await client.put("/api/agents/me/presence", headers=agent.headers, json={"state": "available"})
    assert missing.status_code == 200
    no_reason = await client.put("/api/agents/me/presence", headers=agent.headers, json={"state": "break"})
    assert no_reason.status_code == 422
    assert no_reason.json()["error"]["fields"][0]["field"] == "break_reason_id"
    foreign = await client.put("/api/agents/me/presence", headers=agent.headers,
                               json={"state": "break", "break_reason_id": theirs["id"]})
    assert foreign.status_code == 404 and foreign.json()["error"]["fields"][0]["field"] == "break_reason_id"
    on_break = await client.put("/api/agents/me/presence", headers=agent.headers,
                                json={"state": "break", "break_reason_id": lunch["id"]})
    assert on_break.status_code == 200
    assert on_break.json()["break_reason"] == "Lunch" and on_break.json()["break_reason_id"] == lunch["id"]
    listed = (await client.get("/api/agents/break-reasons", headers=agent.headers)).json()
    assert [r["name"] for r in listed] == ["Lunch"]

    retired = await client.patch(f"/api/agents/break-reasons/{lunch['id']}", headers=company.admin.headers,
                                 json={"active": False})
    assert retired.status_code == 200
    await client.put("/api/agents/me/presence", headers=agent.headers, json={"state": "available"})
    stale = await client.put("/api/agents/me/presence", headers=agent.headers,
                             json={"state": "break", "break_reason_id": lunch["id"]})
    assert stale.status_code == 422


async def test_supervisors_see_each_agents_state_and_time_since_the_last_change(client, company, make_user):
    agent, idle = await make_user(company), await make_user(company)
    supervisor = await make_user(company, role="supervisor")
    await client.put("/api/agents/me/presence", headers=agent.headers, json={"state": "available"})
    first = (await client.get("/api/agents/me/presence", headers=agent.headers)).json()["changed_at"]
    await asyncio.sleep(1.1)
    # Setting the same state again does not reset the clock.
    await client.put("/api/agents/me/presence", headers=agent.headers, json={"state": "available"})
    rows = {r["user_id"]: r for r in (await client.get("/api/agents/presence", headers=supervisor.headers)).json()}
    assert rows[agent.id]["state"] == "available" and rows[agent.id]["changed_at"] == first
    assert rows[agent.id]["seconds_since_change"] >= 1
    assert rows[idle.id]["state"] == "offline" and rows[idle.id]["seconds_since_change"] is None
    assert (await client.get("/api/agents/presence", headers=agent.headers)).status_code == 403


async def test_api_keys_have_no_presence(client, company):
    key = (await client.post("/api/api-keys", headers=company.admin.headers,
                             json={"name": "CRM", "role": "agent"})).json()
    response = await client.get("/api/agents/me/presence", headers={"X-API-Key": key["key"]})
    assert response.status_code == 403
