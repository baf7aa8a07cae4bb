"""Channel filters: ordered rules per email server send each incoming message to a campaign; the first
match wins, a default campaign takes the rest, and regexes are checked on save and bounded in time."""

from __future__ import annotations

import time
import uuid

from postdesk.filters import service as filter_service
from postdesk.mail.parse import parse_message
from postdesk.uow import unit_of_work
from tests.campaigns.helpers import error_fields, make_campaign, make_server


def raw(*, sender: str = "Ann <ann@customer.test>", to: str = "support@acme.test", cc: str | None = None,
        subject: str = "Hello", body: str = "Just a question.", html: bool = False,
        extra: str = "") -> str:
    headers = [f"From: {sender}", f"To: {to}", *([f"Cc: {cc}"] if cc else []), f"Subject: {subject}",
               f"Message-ID: <{uuid.uuid4().hex}@customer.test>", "MIME-Version: 1.0",
               f"Content-Type: text/{'html' if html else 'plain'}; charset=utf-8"]
    return "\r\n".join(headers) + ("\r\n" + extra if extra else "") + "\r\n\r\n" + body + "\r\n"


async def add_filter(client, company, server, campaign, **fields) -> dict:
    body = {"name": f"Filter {uuid.uuid4().hex[:6]}", "campaign_id": campaign["id"], **fields}
    response = await client.post(f"/api/email-servers/{server['id']}/filters", headers=company.admin.headers,
                                 json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def test_filters_pick_the_right_campaign_for_a_set_of_raw_messages(client, company):
    server = await make_server(client, company)
    billing, sales, vip, urgent, invoices, fallback = [
        await make_campaign(client, company, title=t)
        for t in ("Billing", "Sales", "VIP", "Urgent", "Invoices", "General")]
    by_recipient = await add_filter(client, company, server, billing, field="recipient", match="address",
                                    value="Billing@Acme.test")
    by_sender_domain = await add_filter(client, company, server, vip, field="sender", match="domain",
                                        value="@bigclient.test")
    by_subject = await add_filter(client, company, server, urgent, field="subject", match="regex",
                                  value=r"\b(urgent|asap)\b")
    by_body = await add_filter(client, company, server, invoices, field="body", match="contains",
                               value="invoice number")
    by_delivered_to = await add_filter(client, company, server, sales, field="recipient", match="domain",
                                       value="sales.acme.test")
    default = await client.put(f"/api/email-servers/{server['id']}/default-campaign",
                               headers=company.admin.headers, json={"campaign_id": fallback["id"]})
    assert default.status_code == 200 and default.json()["effective_campaign_id"] == fallback["id"]

    cases = [
        (raw(to="BILLING@acme.test"), billing, by_recipient),
        (raw(cc="billing@acme.test"), billing, by_recipient),
        # Both the recipient and the subject filter match: the earlier one wins.
        (raw(to="billing@acme.test", subject="URGENT please"), billing, by_recipient),
        (raw(sender="boss@eu.bigclient.test"), vip, by_sender_domain),
        (raw(sender="someone@notbigclient.test"), fallback, None),
        (raw(subject="Need this ASAP"), urgent, by_subject),
        (raw(subject="Asapfoo"), fallback, None),
        (raw(body="<p>My <b>Invoice Number</b> is 42</p>", html=True), invoices, by_body),
        (raw(extra="Delivered-To: orders@sales.acme.test"), sales, by_delivered_to),
        (raw(), fallback, None),
    ]
    for index, (message, campaign, matched) in enumerate(cases):
        response = await client.post(f"/api/email-servers/{server['id']}/filters/test",
                                     headers=company.admin.headers, json={"raw_message": message})
        assert response.status_code == 200, response.text
        result = response.json()
        assert result["campaign_id"] == campaign["id"], (index, result)
        assert result["campaign_title"] == campaign["title"]
        assert result["reason"] == ("filter" if matched else "default"), index
        assert result["filter_id"] == (matched["id"] if matched else None), index
        assert result["filter_name"] == (matched["name"] if matched else None)


async def test_reordering_changes_which_filter_wins(client, company):
    server = await make_server(client, company)
    first, second = await make_campaign(client, company), await make_campaign(client, company)
    a = await add_filter(client, company, server, first, field="subject", match="contains", value="refund")
    b = await add_filter(client, company, server, second, field="sender", match="domain", value="customer.test")
    url = f"/api/email-servers/{server['id']}"
    message = {"raw_message": raw(subject="Refund please")}
    assert (await client.post(f"{url}/filters/test", headers=company.admin.headers, json=message)).json()[
        "filter_id"] == a["id"]
    reordered = await client.put(f"{url}/filters/order", headers=company.admin.headers,
                                 json={"filter_ids": [b["id"], a["id"]]})
    assert reordered.status_code == 200
    assert [(f["id"], f["position"]) for f in reordered.json()] == [(b["id"], 0), (a["id"], 1)]
    listed = (await client.get(f"{url}/filters", headers=company.admin.headers)).json()
    assert [f["id"] for f in listed] == [b["id"], a["id"]]
    assert (await client.post(f"{url}/filters/test", headers=company.admin.headers, json=message)).json()[
        "filter_id"] == b["id"]
    # Inserting at a position shifts the others down.
    c = await add_filter(client, company, server, first, field="subject", match="contains", value="x", position=0)
    listed = (await client.get(f"{url}/filters", headers=company.admin.headers)).json()
    assert [f["id"] for f in listed] == [c["id"], b["id"], a["id"]]
    # A disabled filter is skipped.
    await client.patch(f"{url}/filters/{b['id']}", headers=company.admin.headers, json={"enabled": False})
    assert (await client.post(f"{url}/filters/test", headers=company.admin.headers, json=message)).json()[
        "filter_id"] == a["id"]
    incomplete = await client.put(f"{url}/filters/order", headers=company.admin.headers,
                                  json={"filter_ids": [a["id"], b["id"]]})
    assert incomplete.status_code == 422 and error_fields(incomplete) == {"filter_ids"}
    twice = await client.put(f"{url}/filters/order", headers=company.admin.headers,
                             json={"filter_ids": [a["id"], a["id"], b["id"]]})
    assert twice.status_code == 422 and error_fields(twice) == {"filter_ids"}


async def test_filter_values_are_checked_on_save_naming_the_field(client, company):
    server = await make_server(client, company)
    campaign = await make_campaign(client, company)
    url = f"/api/email-servers/{server['id']}/filters"
    cases = [
        ({"field": "subject", "match": "regex", "value": "(unclosed"}, "value"),
        ({"field": "subject", "match": "regex", "value": "a" * 501}, "value"),
        ({"field": "subject", "match": "domain", "value": "acme.test"}, "match"),
        ({"field": "body", "match": "address", "value": "a@acme.test"}, "match"),
        ({"field": "sender", "match": "domain", "value": "not a domain"}, "value"),
        ({"field": "recipient", "match": "address", "value": "nobody"}, "value"),
        ({"field": "subject", "match": "contains", "value": "   "}, "value"),
        ({"field": "postcode", "match": "contains", "value": "x"}, "field"),
    ]
    for fields, field in cases:
        response = await client.post(url, headers=company.admin.headers,
                                     json={"name": "F", "campaign_id": campaign["id"], **fields})
        assert response.status_code == 422, (fields, response.text)
        assert error_fields(response) == {field}, fields
    saved = await add_filter(client, company, server, campaign, field="subject", match="contains", value="x")
    bad_edit = await client.patch(f"{url}/{saved['id']}", headers=company.admin.headers,
                                  json={"match": "regex", "value": "[z-a]"})
    assert bad_edit.status_code == 422 and error_fields(bad_edit) == {"value"}
    duplicate = await client.post(url, headers=company.admin.headers,
                                  json={"name": saved["name"].upper(), "campaign_id": campaign["id"],
                                        "field": "subject", "match": "contains", "value": "y"})
    assert duplicate.status_code == 409 and error_fields(duplicate) == {"name"}


async def test_a_catastrophic_regex_times_out_as_no_match(client, company):
    server = await make_server(client, company)
    slow, fallback = await make_campaign(client, company), await make_campaign(client, company)
    await add_filter(client, company, server, slow, field="body", match="regex", value=r"^(a|aa)+$")
    await client.put(f"/api/email-servers/{server['id']}/default-campaign", headers=company.admin.headers,
                     json={"campaign_id": fallback["id"]})
    started = time.monotonic()
    response = await client.post(f"/api/email-servers/{server['id']}/filters/test", headers=company.admin.headers,
                                 json={"raw_message": raw(body="a" * 5000 + "!")})
    assert response.status_code == 200
    assert response.json()["campaign_id"] == fallback["id"] and response.json()["reason"] == "default"
    assert time.monotonic() - started < 5


async def test_choose_campaign_falls_back_to_the_only_receiving_campaign(client, company, runtime):
    server = await make_server(client, company)
    company_id, server_id = uuid.UUID(company.id), uuid.UUID(server["id"])
    message = parse_message(raw().encode())

    async def choose(**kwargs) -> filter_service.ChannelDecision:
        async with unit_of_work(runtime) as session:
            return await filter_service.choose_campaign(session, company_id=company_id, server_id=server_id,
                                                        message=message, **kwargs)

    assert await choose() == filter_service.ChannelDecision(None, None, "no campaign")
    only = await make_campaign(client, company, email_server_id=server["id"])
    await make_campaign(client, company, email_server_id=server["id"], enabled=False)
    await make_campaign(client, company, email_server_id=server["id"], receive_emails=False)
    assert await choose() == filter_service.ChannelDecision(uuid.UUID(only["id"]), None, "default")
    await make_campaign(client, company, email_server_id=server["id"])
    assert (await choose()).reason == "no campaign"
    shown = (await client.get(f"/api/email-servers/{server['id']}/default-campaign",
                              headers=company.admin.headers)).json()
    assert shown == {"campaign_id": None, "effective_campaign_id": None}

    # A disabled campaign is still chosen: the pipeline decides what to do with its mail.
    disabled = await make_campaign(client, company, enabled=False)
    rule = await add_filter(client, company, server, disabled, field="recipient", match="address",
                            value="orders@acme.test")
    assert await choose() == filter_service.ChannelDecision(None, None, "no campaign")
    decision = await choose(delivered_to=["Orders@acme.test"])
    assert decision == filter_service.ChannelDecision(uuid.UUID(disabled["id"]), uuid.UUID(rule["id"]), "filter")


async def test_references_stay_inside_the_company(client, make_company):
    ours, theirs = await make_company(), await make_company()
    our_server, their_server = await make_server(client, ours), await make_server(client, theirs)
    our_campaign, their_campaign = await make_campaign(client, ours), await make_campaign(client, theirs)
    url = f"/api/email-servers/{our_server['id']}"
    body = {"name": "F", "field": "subject", "match": "contains", "value": "x"}
    foreign_campaign = await client.post(f"{url}/filters", headers=ours.admin.headers,
                                         json={**body, "campaign_id": their_campaign["id"]})
    assert foreign_campaign.status_code == 404 and error_fields(foreign_campaign) == {"campaign_id"}
    foreign_default = await client.put(f"{url}/default-campaign", headers=ours.admin.headers,
                                       json={"campaign_id": their_campaign["id"]})
    assert foreign_default.status_code == 404 and error_fields(foreign_default) == {"campaign_id"}
    foreign_server = await client.post(f"/api/email-servers/{their_server['id']}/filters",
                                       headers=ours.admin.headers, json={**body, "campaign_id": our_campaign["id"]})
    assert foreign_server.status_code == 404
    ours_filter = await add_filter(client, ours, our_server, our_campaign, field="subject", match="contains",
                                   value="x")
    peek = await client.get(f"/api/email-servers/{their_server['id']}/filters/{ours_filter['id']}",
                            headers=theirs.admin.headers)
    assert peek.status_code == 404
    assert (await client.get(f"/api/email-servers/{our_server['id']}/filters",
                             headers=theirs.admin.headers)).status_code == 404


async def test_a_campaign_that_filters_route_to_cannot_be_deleted(client, company):
    server = await make_server(client, company)
    campaign, other = await make_campaign(client, company), await make_campaign(client, company)
    rule = await add_filter(client, company, server, campaign, field="subject", match="contains", value="x")
    await client.put(f"/api/email-servers/{server['id']}/default-campaign", headers=company.admin.headers,
                     json={"campaign_id": campaign["id"]})
    refused = await client.delete(f"/api/campaigns/{campaign['id']}", headers=company.admin.headers)
    assert refused.status_code == 409
    dependents = {(d["kind"], d["name"]) for d in refused.json()["error"]["dependents"]}
    assert dependents == {("channel_filter", rule["name"]), ("email_server_default", server["name"])}
    await client.patch(f"/api/email-servers/{server['id']}/filters/{rule['id']}", headers=company.admin.headers,
                       json={"campaign_id": other["id"]})
    await client.put(f"/api/email-servers/{server['id']}/default-campaign", headers=company.admin.headers,
                     json={"campaign_id": None})
    assert (await client.delete(f"/api/campaigns/{campaign['id']}", headers=company.admin.headers)).status_code == 204
