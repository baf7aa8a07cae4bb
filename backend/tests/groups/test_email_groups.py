"""Email groups: unique names, validated contacts added and removed, attachment to campaigns for notifications."""

from __future__ import annotations

from tests.campaigns.helpers import error_fields, make_campaign, make_server


async def test_group_with_contacts_round_trips_and_contacts_come_and_go(client, company):
    created = await client.post("/api/email-groups", headers=company.admin.headers, json={
        "name": "Night supervisors", "description": "Lost calls after 22:00",
        "contacts": [{"email": "Ana@Example.test", "contact_name": "Ana", "description": "Team lead"}],
    })
    assert created.status_code == 201, created.text
    group = created.json()
    assert [(c["email"], c["contact_name"]) for c in group["contacts"]] == [("Ana@example.test", "Ana")]
    added = await client.post(f"/api/email-groups/{group['id']}/contacts", headers=company.admin.headers,
                              json={"email": "ben@example.test", "contact_name": "Ben"})
    assert added.status_code == 201
    again = await client.post(f"/api/email-groups/{group['id']}/contacts", headers=company.admin.headers,
                              json={"email": "BEN@example.test"})
    assert again.status_code == 409 and error_fields(again) == {"email"}
    removed = await client.delete(f"/api/email-groups/{group['id']}/contacts/{group['contacts'][0]['id']}",
                                  headers=company.admin.headers)
    assert removed.status_code == 204
    fetched = (await client.get(f"/api/email-groups/{group['id']}", headers=company.admin.headers)).json()
    assert [c["email"] for c in fetched["contacts"]] == ["ben@example.test"]


async def test_bad_contacts_and_duplicate_names_name_their_fields(client, company):
    bad = await client.post("/api/email-groups", headers=company.admin.headers,
                            json={"name": "G", "contacts": [{"email": "not an address"}]})
    assert bad.status_code == 422 and error_fields(bad) == {"contacts.0.email"}
    await client.post("/api/email-groups", headers=company.admin.headers, json={"name": "Managers"})
    dup = await client.post("/api/email-groups", headers=company.admin.headers, json={"name": "managers"})
    assert dup.status_code == 409 and error_fields(dup) == {"name"}


async def test_attached_group_cannot_be_deleted_until_detached(client, company):
    await make_server(client, company)
    campaign = await make_campaign(client, company, title="Callbacks")
    group = (await client.post("/api/email-groups", headers=company.admin.headers, json={"name": "Alerts"})).json()
    url = f"/api/email-groups/{group['id']}/campaigns/{campaign['id']}"
    attached = await client.put(url, headers=company.admin.headers,
                                json={"events": ["failed_call", "service_level_breached"]})
    assert attached.status_code == 200, attached.text
    assert attached.json()["campaigns"] == [{"campaign_id": campaign["id"], "title": "Callbacks",
                                             "events": ["failed_call", "service_level_breached"]}]
    refused = await client.delete(f"/api/email-groups/{group['id']}", headers=company.admin.headers)
    assert refused.status_code == 409 and "Callbacks" in refused.json()["error"]["message"]
    assert (await client.delete(url, headers=company.admin.headers)).status_code == 204
    assert (await client.delete(f"/api/email-groups/{group['id']}", headers=company.admin.headers)).status_code == 204


async def test_groups_and_campaigns_of_another_company_are_404(client, make_company):
    ours, theirs = await make_company(), await make_company()
    await make_server(client, theirs)
    their_campaign = await make_campaign(client, theirs)
    their_group = (await client.post("/api/email-groups", headers=theirs.admin.headers, json={"name": "T"})).json()
    ours_group = (await client.post("/api/email-groups", headers=ours.admin.headers, json={"name": "O"})).json()
    assert (await client.get(f"/api/email-groups/{their_group['id']}", headers=ours.admin.headers)).status_code == 404
    attach = await client.put(f"/api/email-groups/{ours_group['id']}/campaigns/{their_campaign['id']}",
                              headers=ours.admin.headers, json={"events": ["interaction_lost"]})
    assert attach.status_code == 404
    listed = (await client.get("/api/email-groups", headers=ours.admin.headers)).json()
    assert [g["name"] for g in listed["items"]] == ["O"]
