"""Campaigns: every field round-trips, titles are unique and quote-free, receiving needs an incoming
server, references stay inside the company, and what is still used cannot be deleted."""

from __future__ import annotations

import uuid

from tests.campaigns.helpers import error_fields, make_campaign, make_server, make_template


async def test_every_field_round_trips_and_the_default_server_is_used(client, company):
    server = await make_server(client, company)
    group = (await client.post("/api/campaign-groups", headers=company.admin.headers,
                               json={"name": "Retail", "description": "Shops"})).json()
    team = (await client.post("/api/teams", headers=company.admin.headers, json={"name": "Tier 1"})).json()
    auto_reply = await make_template(client, company, kind="auto_reply")
    signature = await make_template(client, company, kind="signature", subject="")
    body = {
        "title": "Billing questions", "description": "Invoices and refunds", "group_id": group["id"],
        "enabled": False, "receive_emails": True, "from_name": "Acme Billing", "service_level_seconds": 240,
        "warning_threshold_seconds": 60, "critical_threshold_seconds": 90, "strategy": "wrandom",
        "max_interactions_per_agent": 3, "max_interactions_in_queue": 50, "allow_free_format": False,
        "require_address_confirmation": True, "allow_put_back": False, "allow_move": False, "allow_drafts": False,
        "auto_reply_template_id": auto_reply["id"], "signature_template_id": signature["id"],
        "qualification": {"enabled": True, "motivation_text": "Rate our service", "thank_you_message": "Thanks!"},
        "team_ids": [team["id"]], "schedule_timezone": "Europe/Madrid",
    }
    created = await client.post("/api/campaigns", headers=company.admin.headers, json=body)
    assert created.status_code == 201, created.text
    fetched = (await client.get(f"/api/campaigns/{created.json()['id']}", headers=company.admin.headers)).json()
    for key, value in body.items():
        assert fetched[key] == value, key
    assert fetched["email_server_id"] == server["id"]


async def test_quotation_marks_in_titles_are_refused_naming_the_title(client, company):
    await make_server(client, company)
    for mark in "\"'“”‘’`":
        response = await client.post("/api/campaigns", headers=company.admin.headers, json={"title": f"Sales {mark}A"})
        assert response.status_code == 422, mark
        assert error_fields(response) == {"title"}
        assert "quotation marks" in response.json()["error"]["fields"][0]["message"]


async def test_titles_are_unique_per_company_whatever_the_case(client, make_company):
    ours, theirs = await make_company(), await make_company()
    for company in (ours, theirs):
        await make_server(client, company)
    await make_campaign(client, ours, title="Returns")
    again = await client.post("/api/campaigns", headers=ours.admin.headers, json={"title": "RETURNS"})
    assert again.status_code == 409 and error_fields(again) == {"title"}
    await make_campaign(client, theirs, title="Returns")
    other = await make_campaign(client, ours, title="Exchanges")
    rename = await client.patch(f"/api/campaigns/{other['id']}", headers=ours.admin.headers, json={"title": "returns"})
    assert rename.status_code == 409


async def test_receiving_needs_a_server_with_an_incoming_protocol(client, company):
    send_only = await make_server(client, company, receiving=False)
    refused = await client.post("/api/campaigns", headers=company.admin.headers,
                                json={"title": "Inbound", "email_server_id": send_only["id"]})
    assert refused.status_code == 422 and error_fields(refused) == {"email_server_id"}
    created = await make_campaign(client, company, receive_emails=False, email_server_id=send_only["id"])
    assert created["receive_emails"] is False
    turned_on = await client.patch(f"/api/campaigns/{created['id']}", headers=company.admin.headers,
                                   json={"receive_emails": True})
    assert turned_on.status_code == 422 and error_fields(turned_on) == {"email_server_id"}


async def test_a_company_without_a_server_is_told_to_add_one(client, company):
    response = await client.post("/api/campaigns", headers=company.admin.headers, json={"title": "First"})
    assert response.status_code == 422 and error_fields(response) == {"email_server_id"}


async def test_references_to_another_company_are_404_on_their_field(client, make_company):
    ours, theirs = await make_company(), await make_company()
    await make_server(client, ours)
    their_server = await make_server(client, theirs)
    their_group = (await client.post("/api/campaign-groups", headers=theirs.admin.headers, json={"name": "G"})).json()
    their_team = (await client.post("/api/teams", headers=theirs.admin.headers, json={"name": "T"})).json()
    their_template = await make_template(client, theirs, kind="signature")
    for field, value in (("email_server_id", their_server["id"]), ("group_id", their_group["id"]),
                         ("team_ids", [their_team["id"]]), ("signature_template_id", their_template["id"])):
        response = await client.post("/api/campaigns", headers=ours.admin.headers, json={"title": "X", field: value})
        assert response.status_code == 404, (field, response.text)
        assert error_fields(response) == {field}
    their_campaign = await make_campaign(client, theirs)
    for method in ("get", "patch", "delete"):
        response = await client.request(method, f"/api/campaigns/{their_campaign['id']}", headers=ours.admin.headers,
                                        json={} if method == "patch" else None)
        assert response.status_code == 404
    listed = await client.get("/api/campaigns", headers=ours.admin.headers)
    assert their_campaign["id"] not in {c["id"] for c in listed.json()["items"]}


async def test_cross_field_rules_name_their_fields(client, company):
    await make_server(client, company)
    reply = await make_template(client, company, kind="reply")
    cases = [
        ({"warning_threshold_seconds": 300, "critical_threshold_seconds": 100}, {"warning_threshold_seconds"}),
        ({"qualification": {"enabled": True}}, {"qualification.motivation_text"}),
        ({"auto_reply_template_id": reply["id"]}, {"auto_reply_template_id"}),
        ({"strategy": "roundrobin"}, {"strategy"}),
        ({"service_level_seconds": 0}, {"service_level_seconds"}),
        ({"from_name": "Acme\r\nBcc: x@example.test"}, {"from_name"}),
        ({"schedule_timezone": "Mars/Olympus"}, {"schedule_timezone"}),
        ({"max_interactions_per_agent": 0}, {"max_interactions_per_agent"}),
    ]
    for fields, expected in cases:
        response = await client.post("/api/campaigns", headers=company.admin.headers, json={"title": "T", **fields})
        assert response.status_code == 422, (fields, response.text)
        assert error_fields(response) == expected, fields


async def test_partial_edit_keeps_other_fields_and_null_clears_references(client, company):
    await make_server(client, company)
    group = (await client.post("/api/campaign-groups", headers=company.admin.headers, json={"name": "G"})).json()
    campaign = await make_campaign(client, company, group_id=group["id"], description="keep me")
    edited = await client.patch(f"/api/campaigns/{campaign['id']}", headers=company.admin.headers,
                                json={"group_id": None, "strategy": "linear"})
    assert edited.status_code == 200, edited.text
    assert edited.json()["group_id"] is None and edited.json()["strategy"] == "linear"
    assert edited.json()["description"] == "keep me"
    null_title = await client.patch(f"/api/campaigns/{campaign['id']}", headers=company.admin.headers,
                                    json={"title": None})
    assert null_title.status_code == 422 and error_fields(null_title) == {"title"}


async def test_campaign_group_with_campaigns_cannot_be_deleted(client, company):
    await make_server(client, company)
    group = (await client.post("/api/campaign-groups", headers=company.admin.headers, json={"name": "Retail"})).json()
    campaign = await make_campaign(client, company, title="Shop mail", group_id=group["id"])
    refused = await client.delete(f"/api/campaign-groups/{group['id']}", headers=company.admin.headers)
    assert refused.status_code == 409
    assert "Shop mail" in refused.json()["error"]["message"]
    assert [d["id"] for d in refused.json()["error"]["dependents"]] == [campaign["id"]]
    filtered = await client.get("/api/campaigns", headers=company.admin.headers, params={"group_id": group["id"]})
    assert [c["id"] for c in filtered.json()["items"]] == [campaign["id"]]
    await client.delete(f"/api/campaigns/{campaign['id']}", headers=company.admin.headers)
    assert (await client.delete(f"/api/campaign-groups/{group['id']}",
                                headers=company.admin.headers)).status_code == 204


async def test_deleting_a_server_used_by_campaigns_lists_them(client, company):
    server = await make_server(client, company)
    await make_campaign(client, company, title="Claims")
    refused = await client.delete(f"/api/email-servers/{server['id']}", headers=company.admin.headers)
    assert refused.status_code == 409
    assert refused.json()["error"]["dependents"][0]["name"] == "Claims"


async def test_template_used_as_signature_cannot_be_deleted_or_retyped(client, company):
    await make_server(client, company)
    signature = await make_template(client, company, kind="signature")
    campaign = await make_campaign(client, company, title="Warranty", signature_template_id=signature["id"])
    refused = await client.delete(f"/api/templates/{signature['id']}", headers=company.admin.headers)
    assert refused.status_code == 409 and "Warranty" in refused.json()["error"]["message"]
    retype = await client.patch(f"/api/templates/{signature['id']}", headers=company.admin.headers,
                                json={"kind": "reply"})
    assert retype.status_code == 409
    await client.patch(f"/api/campaigns/{campaign['id']}", headers=company.admin.headers,
                       json={"signature_template_id": None})
    assert (await client.delete(f"/api/templates/{signature['id']}",
                                headers=company.admin.headers)).status_code == 204


async def test_a_campaigns_own_templates_go_with_it(client, company):
    await make_server(client, company)
    campaign = await make_campaign(client, company)
    own = await make_template(client, company, kind="signature", campaign_id=campaign["id"])
    await client.patch(f"/api/campaigns/{campaign['id']}", headers=company.admin.headers,
                       json={"signature_template_id": own["id"]})
    other = await make_campaign(client, company)
    borrowed = await client.patch(f"/api/campaigns/{other['id']}", headers=company.admin.headers,
                                  json={"signature_template_id": own["id"]})
    assert borrowed.status_code == 422 and error_fields(borrowed) == {"signature_template_id"}
    assert (await client.delete(f"/api/campaigns/{campaign['id']}", headers=company.admin.headers)).status_code == 204
    assert (await client.get(f"/api/templates/{own['id']}", headers=company.admin.headers)).status_code == 404


async def test_members_are_added_and_removed_across_several_campaigns(client, company, make_user):
    await make_server(client, company)
    first, second = await make_campaign(client, company), await make_campaign(client, company)
    ana, ben = await make_user(company, "agent"), await make_user(company, "agent")
    added = await client.post("/api/campaigns/memberships", headers=company.admin.headers,
                              json={"campaign_ids": [first["id"], second["id"]], "add_user_ids": [ana.id, ben.id]})
    assert added.status_code == 200, added.text
    assert all({m["user_id"] for m in c["members"]} == {ana.id, ben.id} for c in added.json())
    removed = await client.post("/api/campaigns/memberships", headers=company.admin.headers,
                                json={"campaign_ids": [second["id"]], "remove_user_ids": [ana.id]})
    assert [m["user_id"] for m in removed.json()[0]["members"]] == [ben.id]
    members = await client.get(f"/api/campaigns/{first['id']}/members", headers=company.admin.headers)
    assert {m["user_id"] for m in members.json()} == {ana.id, ben.id}


async def test_member_weights_and_order_serve_wrandom_and_linear(client, company, make_user):
    await make_server(client, company)
    campaign = await make_campaign(client, company, strategy="linear")
    ana, ben = await make_user(company, "agent"), await make_user(company, "agent")
    replaced = await client.put(f"/api/campaigns/{campaign['id']}/members", headers=company.admin.headers,
                                json={"members": [{"user_id": ana.id, "weight": 5, "position": 2},
                                                  {"user_id": ben.id, "weight": 1, "position": 1}]})
    assert replaced.status_code == 200, replaced.text
    assert [(m["user_id"], m["weight"]) for m in replaced.json()] == [(ben.id, 1), (ana.id, 5)]
    bad_weight = await client.put(f"/api/campaigns/{campaign['id']}/members", headers=company.admin.headers,
                                  json={"members": [{"user_id": ana.id, "weight": 0}]})
    assert bad_weight.status_code == 422 and error_fields(bad_weight) == {"members.0.weight"}


async def test_members_from_another_company_are_404_naming_the_field(client, make_company, make_user):
    ours, theirs = await make_company(), await make_company()
    await make_server(client, ours)
    campaign = await make_campaign(client, ours)
    outsider = await make_user(theirs, "agent")
    response = await client.post("/api/campaigns/memberships", headers=ours.admin.headers,
                                 json={"campaign_ids": [campaign["id"]], "add_user_ids": [outsider.id]})
    assert response.status_code == 404 and error_fields(response) == {"add_user_ids"}
    unknown = await client.post("/api/campaigns/memberships", headers=ours.admin.headers,
                                json={"campaign_ids": [str(uuid.uuid4())], "add_user_ids": [ours.admin.id]})
    assert unknown.status_code == 404 and error_fields(unknown) == {"campaign_ids"}


async def test_details_show_settings_and_the_templates_agents_can_use(client, company):
    server = await make_server(client, company)
    campaign = await make_campaign(client, company, title="Orders", service_level_seconds=120)
    own = await make_template(client, company, name="Order status", subject="Your order ${order}",
                              campaign_id=campaign["id"])
    shared = await make_template(client, company, name="Greeting")
    other = await make_campaign(client, company)
    await make_template(client, company, name="Not ours", campaign_id=other["id"])
    details = await client.get(f"/api/campaigns/{campaign['id']}/details", headers=company.admin.headers)
    assert details.status_code == 200, details.text
    body = details.json()
    assert body["campaign"]["title"] == "Orders" and body["campaign"]["service_level_seconds"] == 120
    assert body["campaign"]["allow_free_format"] is True and body["email_server_name"] == server["name"]
    rows = {row["name"]: row for row in body["templates"]}
    assert set(rows) == {"Greeting", "Order status"}
    assert rows["Order status"]["subject"] == "Your order ${order}" and not rows["Order status"]["all_campaigns"]
    assert rows["Greeting"]["all_campaigns"] and rows["Greeting"]["id"] == shared["id"]
    assert rows["Order status"]["added_on"] and own["id"] == rows["Order status"]["id"]


async def test_supervisors_read_campaigns_and_agents_do_not(client, company, make_user):
    await make_server(client, company)
    campaign = await make_campaign(client, company)
    supervisor, agent = await make_user(company, "supervisor"), await make_user(company, "agent")
    assert (await client.get(f"/api/campaigns/{campaign['id']}", headers=supervisor.headers)).status_code == 200
    assert (await client.get("/api/campaigns", headers=supervisor.headers)).status_code == 200
    write = await client.patch(f"/api/campaigns/{campaign['id']}", headers=supervisor.headers, json={"enabled": False})
    assert write.status_code == 403
    assert (await client.get("/api/campaigns", headers=agent.headers)).status_code == 403
    assert (await client.post("/api/campaign-groups", headers=supervisor.headers,
                              json={"name": "x"})).status_code == 403


async def test_campaign_list_pages_and_filters(client, company):
    await make_server(client, company)
    for title in ("Alpha", "Beta", "Gamma"):
        await make_campaign(client, company, title=title, enabled=title != "Beta")
    page = (await client.get("/api/campaigns", headers=company.admin.headers, params={"limit": 2})).json()
    assert page["total"] == 3 and [c["title"] for c in page["items"]] == ["Alpha", "Beta"]
    enabled = (await client.get("/api/campaigns", headers=company.admin.headers, params={"enabled": "true"})).json()
    assert [c["title"] for c in enabled["items"]] == ["Alpha", "Gamma"]
    search = (await client.get("/api/campaigns", headers=company.admin.headers, params={"q": "amm"})).json()
    assert [c["title"] for c in search["items"]] == ["Gamma"]
