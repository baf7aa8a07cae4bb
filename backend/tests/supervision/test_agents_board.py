"""The agents board (the seed's five states from presence and workload, break reason, since when, held /
capacity, campaigns) and the waiting customers list; routing runs for real in the background."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from postdesk.agents.models import PresenceState
from postdesk.db import utcnow
from postdesk.interactions.models import Interaction, InteractionState
from postdesk.supervision.schemas import SupervisionStatus
from postdesk.supervision.service import supervision_status
from postdesk.uow import unit_of_work
from tests.campaigns.helpers import make_campaign
from tests.conftest import eventually
from tests.interactions.factories import campaign_with_members, set_members, set_presence
from tests.supervision.test_campaigns_board import arrive


@pytest.mark.parametrize(("presence", "held", "capacity", "status"), [
    (PresenceState.offline, 0, 1, SupervisionStatus.disconnected),
    (PresenceState.offline, 2, 1, SupervisionStatus.disconnected),
    (PresenceState.available, 0, 1, SupervisionStatus.free),
    (PresenceState.available, 1, 3, SupervisionStatus.free),  # the router may still give more
    (PresenceState.available, 3, 3, SupervisionStatus.busy),
    (PresenceState.available, 0, 0, SupervisionStatus.free),
    (PresenceState.available, 1, 0, SupervisionStatus.busy),
    (PresenceState.busy, 0, 1, SupervisionStatus.busy),
    (PresenceState.on_break, 0, 1, SupervisionStatus.free_on_break),
    (PresenceState.on_break, 1, 3, SupervisionStatus.busy_on_break),
])
def test_status_follows_presence_and_workload(presence, held, capacity, status):
    assert supervision_status(presence, held, capacity) is status


async def held_by(runtime, user_id: str) -> int:
    async with unit_of_work(runtime) as session:
        return await session.scalar(select(func.count()).where(Interaction.agent_id == uuid.UUID(user_id),
                                                               Interaction.state == InteractionState.assigned))


async def test_each_agent_shows_status_break_reason_workload_capacity_and_campaigns(client, runtime, make_company,
                                                                                    make_user):
    company, other = await make_company(), await make_company()
    free, full, break_free, break_busy, busy, never, inactive = [await make_user(company, name=f"{n} Agent")
                                                                 for n in "ABCDEFG"]
    member_supervisor = await make_user(company, role="supervisor", name="H Supervisor")
    watching_supervisor = await make_user(company, role="supervisor", name="I Supervisor")
    outsider = await make_user(other, name="Their Agent")
    main = await campaign_with_members(client, company, [free, full, break_free, break_busy, busy, never, inactive,
                                                         member_supervisor],
                                       title="Main", strategy="linear", max_interactions_per_agent=1)
    await make_campaign(client, company, title="Wide", strategy="linear", max_interactions_per_agent=3,
                        receive_emails=False)
    wide = (await client.get("/api/campaigns", headers=company.admin.headers, params={"q": "Wide"})).json()["items"][0]
    await set_members(client, company, wide["id"], [free])
    closed = await make_campaign(client, company, title="Closed", enabled=False, max_interactions_per_agent=5,
                                 receive_emails=False)
    await set_members(client, company, closed["id"], [full])
    deactivated = await client.patch(f"/api/users/{inactive.id}", headers=company.admin.headers,
                                     json={"is_active": False})
    assert deactivated.status_code == 200, deactivated.text

    # The router fills `full` (alone available), then `break_busy`; both then hold one interaction.
    await set_presence(client, full, "available")
    await arrive(runtime, main["id"], utcnow() - timedelta(seconds=20))
    await eventually(lambda: held_by(runtime, full.id))
    await set_presence(client, break_busy, "available")
    await arrive(runtime, main["id"], utcnow() - timedelta(seconds=10))
    await eventually(lambda: held_by(runtime, break_busy.id))
    lunch = (await client.post("/api/agents/break-reasons", headers=company.admin.headers,
                               json={"name": "Lunch"})).json()
    await set_presence(client, break_busy, "break", break_reason_id=lunch["id"])
    await set_presence(client, break_free, "break", break_reason_id=lunch["id"])
    await set_presence(client, busy, "busy")
    await set_presence(client, free, "available")
    await set_presence(client, outsider, "available")

    response = await client.get("/api/supervision/agents", headers=watching_supervisor.headers)
    assert response.status_code == 200, response.text
    agents = {a["user_id"]: a for a in response.json()["agents"]}
    # Every active agent and the supervisor who takes interactions; not the deactivated agent, the supervisor who
    # only watches, or another company's agent. Sorted by name.
    assert [a["name"] for a in response.json()["agents"]] == [
        "A Agent", "B Agent", "C Agent", "D Agent", "E Agent", "F Agent", "H Supervisor"]
    summary = {user.id: (agents[user.id]["status"], agents[user.id]["break_reason"],
                         agents[user.id]["interactions_held"], agents[user.id]["capacity"])
               for user in (free, full, break_free, break_busy, busy, never, member_supervisor)}
    assert summary == {
        free.id: ("free", "", 0, 3),  # the widest enabled campaign
        full.id: ("busy", "", 1, 1),  # its disabled campaign's larger maximum does not count
        break_free.id: ("free_on_break", "Lunch", 0, 1),
        break_busy.id: ("busy_on_break", "Lunch", 1, 1),
        busy.id: ("busy", "", 0, 1),
        never.id: ("disconnected", "", 0, 1),
        member_supervisor.id: ("disconnected", "", 0, 1),
    }
    assert [c["title"] for c in agents[free.id]["campaigns"]] == ["Main", "Wide"]
    assert [c["title"] for c in agents[full.id]["campaigns"]] == ["Closed", "Main"]
    assert agents[never.id]["since"] is None and agents[never.id]["seconds_in_status"] is None
    assert agents[break_busy.id]["presence"] == "break" and agents[break_busy.id]["since"] is not None
    assert 0 <= agents[break_busy.id]["seconds_in_status"] < 60
    assert agents[member_supervisor.id]["role"] == "supervisor"

    theirs = (await client.get("/api/supervision/agents", headers=other.admin.headers)).json()["agents"]
    assert [(a["name"], a["status"]) for a in theirs] == [("Their Agent", "free")]


async def test_waiting_customers_longest_wait_first_filtered_and_paged(client, runtime, make_company):
    company, other = await make_company(), await make_company()
    first = await campaign_with_members(client, company, [], title="First", strategy="linear")
    second = await campaign_with_members(client, company, [], title="Second", strategy="linear")
    theirs = await campaign_with_members(client, other, [], strategy="linear")
    now = utcnow()
    middle = await arrive(runtime, first["id"], now - timedelta(seconds=200))
    newest = await arrive(runtime, first["id"], now - timedelta(seconds=100))
    oldest = await arrive(runtime, first["id"], now - timedelta(seconds=300))
    elsewhere = await arrive(runtime, second["id"], now - timedelta(seconds=250))
    await arrive(runtime, theirs["id"], now - timedelta(seconds=400))
    await arrive(runtime, first["id"], now - timedelta(seconds=500), state=InteractionState.stored)

    page = (await client.get("/api/supervision/waiting", headers=company.admin.headers)).json()
    assert [i["interaction_id"] for i in page["items"]] == [str(oldest), str(elsewhere), str(middle), str(newest)]
    assert page["total"] == 4
    assert page["items"][1]["campaign_title"] == "Second" and page["items"][0]["state"] == "queued"
    assert 300 <= page["items"][0]["waiting_seconds"] < 360

    filtered = (await client.get("/api/supervision/waiting", headers=company.admin.headers,
                                 params={"campaign_id": first["id"], "limit": 2})).json()
    assert [i["interaction_id"] for i in filtered["items"]] == [str(oldest), str(middle)]
    assert filtered["total"] == 3 and filtered["limit"] == 2

    foreign = await client.get("/api/supervision/waiting", headers=company.admin.headers,
                               params={"campaign_id": theirs["id"]})
    assert foreign.status_code == 404 and foreign.json()["error"]["fields"][0]["field"] == "campaign_id"
    malformed = await client.get("/api/supervision/waiting", headers=company.admin.headers,
                                 params={"campaign_id": "not-a-uuid"})
    assert malformed.status_code == 422 and "campaign_id" in malformed.text
    too_many = await client.get("/api/supervision/waiting", headers=company.admin.headers, params={"limit": 1000})
    assert too_many.status_code == 422 and "limit" in too_many.text
