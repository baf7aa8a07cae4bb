"""Blacklist: addresses and whole domains, bulk import with per-row errors, and the is_blacklisted and
refuse_blacklisted checks."""

from __future__ import annotations

import uuid

import pytest

from postdesk.blacklist import service as blacklist_service
from postdesk.errors import Invalid
from postdesk.mail.addresses import EmailAddress
from postdesk.uow import unit_of_work
from tests.campaigns.helpers import error_fields


async def test_addresses_and_domains_decide_is_blacklisted(client, company, runtime):
    for value, reason in (("Spammer@Example.test", "spam_report"), ("@junk.test", "manual")):
        response = await client.post("/api/blacklist", headers=company.admin.headers,
                                     json={"value": value, "reason": reason, "source": "support desk"})
        assert response.status_code == 201, response.text
    listed = (await client.get("/api/blacklist", headers=company.admin.headers)).json()
    assert [(e["kind"], e["value"]) for e in listed["items"]] == [("domain", "junk.test"),
                                                                 ("address", "spammer@example.test")]
    async with unit_of_work(runtime) as session:
        company_id = uuid.UUID(company.id)
        assert await blacklist_service.is_blacklisted(session, company_id, "SPAMMER@example.test")
        assert await blacklist_service.is_blacklisted(session, company_id, "anyone@mail.junk.test")
        assert not await blacklist_service.is_blacklisted(session, company_id, "friend@example.test")
        assert not await blacklist_service.is_blacklisted(session, uuid.uuid4(), "spammer@example.test")
    check = await client.get("/api/blacklist/check", headers=company.admin.headers,
                             params={"address": "x@junk.test"})
    assert check.json()["blacklisted"] is True


async def test_bad_and_duplicate_entries_name_the_field(client, company):
    for body, status, field in (({"value": "not a domain!"}, 422, "value"), ({"value": "a@b.test", "reason": "x"},
                                                                              422, "reason")):
        response = await client.post("/api/blacklist", headers=company.admin.headers, json=body)
        assert response.status_code == status and error_fields(response) == {field}
    await client.post("/api/blacklist", headers=company.admin.headers, json={"value": "dup@example.test"})
    again = await client.post("/api/blacklist", headers=company.admin.headers, json={"value": "DUP@example.test"})
    assert again.status_code == 409 and error_fields(again) == {"value"}


async def test_csv_import_adds_valid_rows_and_reports_bad_ones(client, company):
    await client.post("/api/blacklist", headers=company.admin.headers, json={"value": "old@example.test"})
    text = ("value,reason,source\n"
            "bounce@example.test,hard_bounce,mta\n"
            "old@example.test,,\n"
            "not valid,,\n"
            "optout@example.test,unsubscribe\n"
            "x@example.test,angry,\n"
            "bulk.test\n")
    result = await client.post("/api/blacklist/import", headers=company.admin.headers, json={"csv": text})
    assert result.status_code == 200, result.text
    body = result.json()
    assert (body["added"], body["already_listed"]) == (3, 1)
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(4, "value"), (6, "reason")]
    entries = (await client.get("/api/blacklist", headers=company.admin.headers, params={"reason": "hard_bounce"}))
    assert [(e["value"], e["source"]) for e in entries.json()["items"]] == [("bounce@example.test", "mta")]


async def test_json_import_and_its_limits(client, company):
    result = await client.post("/api/blacklist/import", headers=company.admin.headers,
                               json={"entries": [{"value": "a@example.test"}, {"value": "a@example.test"}],
                                     "reason": "spam_report"})
    assert result.json() == {"added": 1, "already_listed": 1, "errors": []}
    both = await client.post("/api/blacklist/import", headers=company.admin.headers, json={"entries": [], "csv": ""})
    assert both.status_code == 422
    too_many = await client.post("/api/blacklist/import", headers=company.admin.headers,
                                 json={"csv": "\n".join(f"u{i}@example.test" for i in range(5001))})
    assert too_many.status_code == 422 and error_fields(too_many) == {"csv"}


async def test_entries_of_another_company_are_invisible_and_supervisors_only_read(client, make_company, make_user):
    ours, theirs = await make_company(), await make_company()
    theirs_entry = (await client.post("/api/blacklist", headers=theirs.admin.headers,
                                      json={"value": "t@example.test"})).json()
    assert (await client.delete(f"/api/blacklist/{theirs_entry['id']}",
                                headers=ours.admin.headers)).status_code == 404
    assert (await client.get("/api/blacklist", headers=ours.admin.headers)).json()["total"] == 0
    supervisor = await make_user(ours, "supervisor")
    assert (await client.get("/api/blacklist", headers=supervisor.headers)).status_code == 200
    assert (await client.post("/api/blacklist", headers=supervisor.headers,
                              json={"value": "s@example.test"})).status_code == 403


async def test_refuse_blacklisted_names_every_blacklisted_address(client, company, runtime):
    for value in ("bounced@example.test", "@junk.test"):
        await client.post("/api/blacklist", headers=company.admin.headers, json={"value": value})
    company_id = uuid.UUID(company.id)
    async with unit_of_work(runtime) as session:
        await blacklist_service.refuse_blacklisted(session, company_id, ["friend@example.test"])
        await blacklist_service.refuse_blacklisted(session, uuid.uuid4(), ["bounced@example.test"])
        with pytest.raises(Invalid) as refused:
            await blacklist_service.refuse_blacklisted(
                session, company_id,
                ["friend@example.test", EmailAddress("Bounced@Example.test", "B"), "x@a.junk.test"], field="to")
    assert refused.value.status_code == 422 and refused.value.field == "to"
    assert "Bounced@Example.test" in refused.value.message and "x@a.junk.test" in refused.value.message
    assert "friend@" not in refused.value.message
    assert refused.value.extra["addresses"] == ["Bounced@Example.test", "x@a.junk.test"]
