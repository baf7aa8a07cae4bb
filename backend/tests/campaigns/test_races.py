"""Two admins saving the same unique name at the same moment: one wins, the other gets 409 naming the
field, never a 500 (the database's unique constraint is the referee when both checks passed)."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy.exc import IntegrityError

from postdesk.campaigns.models import CampaignGroup
from postdesk.errors import conflict_from_integrity_error
from postdesk.uow import unit_of_work
from tests.campaigns.helpers import error_fields, make_campaign, make_server

RACERS = 6


async def race(client, company, url: str, body: dict) -> list:
    return await asyncio.gather(*(client.post(url, headers=company.admin.headers, json=body)
                                  for _ in range(RACERS)))


def assert_one_winner(responses, field: str) -> None:
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (RACERS - 1), [r.text for r in responses]
    for response in responses:
        if response.status_code == 409:
            assert error_fields(response) == {field}, response.text


async def test_simultaneous_creates_with_one_name_answer_409_not_500(client, company):
    server = await make_server(client, company)
    campaign = await make_campaign(client, company)
    cases = [
        ("/api/campaign-groups", {"name": "Retail"}, "name"),
        ("/api/campaigns", {"title": "Same title"}, "title"),
        ("/api/templates", {"name": "Welcome", "html_body": "<p>Hi</p>"}, "name"),
        ("/api/email-groups", {"name": "Night shift"}, "name"),
        (f"/api/email-servers/{server['id']}/filters",
         {"name": "VIP", "field": "subject", "match": "contains", "value": "vip", "campaign_id": campaign["id"]},
         "name"),
    ]
    for url, body, field in cases:
        assert_one_winner(await race(client, company, url, body), field)
    listed = (await client.get("/api/campaigns", headers=company.admin.headers, params={"q": "Same title"})).json()
    assert listed["total"] == 1


async def test_a_unique_violation_the_service_missed_becomes_a_conflict_on_its_field(runtime, company):
    # What the losing request of a race sees: its own check passed, the insert hits the constraint.
    company_id = uuid.UUID(company.id)
    async with unit_of_work(runtime) as session:
        session.add(CampaignGroup(company_id=company_id, name="Wholesale"))
    try:
        async with unit_of_work(runtime) as session:
            session.add(CampaignGroup(company_id=company_id, name="Wholesale"))
    except IntegrityError as exc:
        conflict = conflict_from_integrity_error(exc)
    else:
        raise AssertionError("the duplicate was stored")
    assert conflict is not None and conflict.status_code == 409 and conflict.field == "name"
