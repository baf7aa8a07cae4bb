"""The router: eligibility (membership, presence, capacity, schedule) under every strategy, queue
order, each strategy's choice, ringall offers, routing on events, and no double assignment under
concurrent routers (PostgreSQL with SKIP LOCKED in production mode)."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from postdesk.campaigns.models import RoutingStrategy
from postdesk.db import utcnow
from postdesk.interactions.models import Interaction, InteractionState
from postdesk.routing import service as routing_service
from postdesk.routing.models import Assignment, RoutingOffer
from postdesk.routing.service import Candidate, choose
from postdesk.uow import unit_of_work
from tests.conftest import eventually
from tests.interactions.factories import campaign_with_members, make_interaction, set_presence

STRATEGIES = [s.value for s in RoutingStrategy if s is not RoutingStrategy.ringall]


async def route(runtime, campaign_id: str, **kwargs) -> list[tuple[uuid.UUID, uuid.UUID]]:
    async with unit_of_work(runtime) as session:
        return await routing_service.route_campaign(session, campaign_id=uuid.UUID(campaign_id), **kwargs)


async def holders(runtime, campaign_id: str) -> dict[uuid.UUID, str | None]:
    """interaction id -> agent id (None while waiting)."""
    async with unit_of_work(runtime) as session:
        rows = await session.execute(select(Interaction.id, Interaction.agent_id, Interaction.state)
                                     .where(Interaction.campaign_id == uuid.UUID(campaign_id)))
        return {i: (str(a) if state is InteractionState.assigned else None) for i, a, state in rows.all()}


async def close_today(client, company, campaign_id: str) -> None:
    today = utcnow().date()
    response = await client.put(f"/api/campaigns/{campaign_id}/schedule", headers=company.admin.headers, json={
        "timezone": "UTC", "windows": [],
        "exceptions": [{"day": (today + timedelta(days=d)).isoformat()} for d in (-1, 0, 1)]})
    assert response.status_code == 200, response.text


async def open_always(client, company, campaign_id: str) -> None:
    response = await client.put(f"/api/campaigns/{campaign_id}/schedule", headers=company.admin.headers,
                                json={"timezone": "UTC", "windows": [], "exceptions": []})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_assignment_respects_capacity_membership_status_and_schedule(client, runtime, company, make_user,
                                                                           strategy):
    first, second, busy, outsider = [await make_user(company) for _ in range(4)]
    campaign = await campaign_with_members(client, company, [first, second, busy], strategy=strategy,
                                           max_interactions_per_agent=2)
    for agent in (first, second, outsider):
        await set_presence(client, agent, "available")
    await set_presence(client, busy, "busy")
    await close_today(client, company, campaign["id"])
    for n in range(6):
        await make_interaction(runtime, company_id=company.id, campaign_id=campaign["id"], subject=f"Order {n}")

    assert await route(runtime, campaign["id"]) == []  # closed by its schedule
    assert set((await holders(runtime, campaign["id"])).values()) == {None}

    await open_always(client, company, campaign["id"])
    await route(runtime, campaign["id"])
    load = Counter(agent for agent in (await holders(runtime, campaign["id"])).values())
    assert load == {first.id: 2, second.id: 2, None: 2}  # busy and non-members get nothing; max 2 each


async def test_waiting_interactions_go_by_priority_then_age(client, runtime, company, make_user):
    agent = await make_user(company)
    campaign = await campaign_with_members(client, company, [agent], strategy="linear", max_interactions_per_agent=2)
    await set_presence(client, agent, "available")
    now = utcnow()
    oldest = await make_interaction(runtime, company_id=company.id, campaign_id=campaign["id"],
                                    queued_at=now - timedelta(hours=3))
    urgent = await make_interaction(runtime, company_id=company.id, campaign_id=campaign["id"], priority=10,
                                    queued_at=now)
    await make_interaction(runtime, company_id=company.id, campaign_id=campaign["id"],
                           queued_at=now - timedelta(hours=1))
    await route(runtime, campaign["id"])
    held = await holders(runtime, campaign["id"])
    assert {i for i, a in held.items() if a} == {urgent.interaction_id, oldest.interaction_id}


async def test_linear_fills_agents_in_member_order(client, runtime, company, make_user):
    a, b = await make_user(company), await make_user(company)
    campaign = await campaign_with_members(client, company, [(b, 1, 0), (a, 1, 1)], strategy="linear",
                                           max_interactions_per_agent=2)
    for agent in (a, b):
        await set_presence(client, agent, "available")
    for _ in range(3):
        await make_interaction(runtime, company_id=company.id, campaign_id=campaign["id"])
    await route(runtime, campaign["id"])
    assert Counter((await holders(runtime, campaign["id"])).values()) == {b.id: 2, a.id: 1}


async def test_rrmemory_continues_after_the_last_agent_served(client, runtime, company, make_user):
    agents = [await make_user(company) for _ in range(3)]
    campaign = await campaign_with_members(client, company, agents, strategy="rrmemory",
                                           max_interactions_per_agent=5)
    for agent in agents:
        await set_presence(client, agent, "available")
    order = []
    for _ in range(4):  # one at a time: each pass remembers who was served last
        sample = await make_interaction(runtime, company_id=company.id, campaign_id=campaign["id"])
        await route(runtime, campaign["id"])
        order.append((await holders(runtime, campaign["id"]))[sample.interaction_id])
    assert order == [agents[0].id, agents[1].id, agents[2].id, agents[0].id]


async def test_leastrecent_and_fewestcalls_prefer_the_least_served_agent(client, runtime, company, make_user):
    for strategy in ("leastrecent", "fewestcalls"):
        a, b = await make_user(company), await make_user(company)
        campaign = await campaign_with_members(client, company, [a, b], strategy=strategy,
                                               max_interactions_per_agent=5)
        await set_presence(client, a, "available")
        for _ in range(2):  # only a is there: a gets both
            await make_interaction(runtime, company_id=company.id, campaign_id=campaign["id"])
        await route(runtime, campaign["id"])
        await set_presence(client, b, "available")
        sample = await make_interaction(runtime, company_id=company.id, campaign_id=campaign["id"])
        await route(runtime, campaign["id"])
        assert (await holders(runtime, campaign["id"]))[sample.interaction_id] == b.id, strategy


def test_strategy_choices_follow_their_rules():
    now = utcnow()
    pool = [Candidate(uuid.uuid4(), 0, 1, 1, assigned_today=5, last_assigned_at=now),
            Candidate(uuid.uuid4(), 1, 9, 1, assigned_today=1, last_assigned_at=now - timedelta(hours=1)),
            Candidate(uuid.uuid4(), 2, 1, 0, assigned_today=0, last_assigned_at=None)]  # full: never chosen
    order = [c.user_id for c in pool]
    pick = lambda s, **kw: choose(s, pool, member_order=order, last_user_id=kw.get("last"),
                                  rng=kw.get("rng"))
    assert pick(RoutingStrategy.linear) is pool[0]
    assert pick(RoutingStrategy.fewestcalls) is pool[1]
    assert pick(RoutingStrategy.leastrecent) is pool[1]
    assert pick(RoutingStrategy.rrmemory, last=pool[0].user_id) is pool[1]
    assert pick(RoutingStrategy.rrmemory, last=pool[1].user_id) is pool[0]  # wraps, skipping the full agent
    rng = random.Random(7)
    weighted = Counter(pick(RoutingStrategy.wrandom, rng=rng).position for _ in range(2000))
    assert 0.85 < weighted[1] / 2000 < 0.95 and 2 not in weighted  # weight 9 against 1
    uniform = Counter(pick(RoutingStrategy.random, rng=rng).position for _ in range(2000))
    assert 0.4 < uniform[0] / 2000 < 0.6 and 2 not in uniform


async def test_ringall_offers_every_eligible_agent_and_the_first_to_accept_gets_it(client, runtime, company,
                                                                                   make_user):
    a, b, on_break = [await make_user(company) for _ in range(3)]
    campaign = await campaign_with_members(client, company, [a, b, on_break], strategy="ringall")
    for agent in (a, b):
        await set_presence(client, agent, "available")
    await set_presence(client, on_break, "break")
    first = await make_interaction(runtime, company_id=company.id, campaign_id=campaign["id"],
                                   queued_at=utcnow() - timedelta(minutes=5))
    second = await make_interaction(runtime, company_id=company.id, campaign_id=campaign["id"])
    await route(runtime, campaign["id"])

    for agent in (a, b):
        tray = (await client.get("/api/agents/me/tray", headers=agent.headers)).json()
        assert [o["id"] for o in tray["offers"]] == [str(first.interaction_id)]  # the head of the queue
    assert (await client.get("/api/agents/me/tray", headers=on_break.headers)).json()["offers"] == []

    won = await client.post(f"/api/interactions/{first.interaction_id}/accept", headers=b.headers)
    assert won.status_code == 200, won.text
    assert won.json()["agent_id"] == b.id and won.json()["state"] == "assigned"
    lost = await client.post(f"/api/interactions/{first.interaction_id}/accept", headers=a.headers)
    assert lost.status_code in (404, 409)

    async def a_rings_for_the_second():  # b is full (max 1); a now rings for the next one
        await route(runtime, campaign["id"])
        offers = (await client.get("/api/agents/me/tray", headers=a.headers)).json()["offers"]
        return [o["id"] for o in offers] == [str(second.interaction_id)]

    await eventually(a_rings_for_the_second)
    stranger = await client.post(f"/api/interactions/{second.interaction_id}/accept", headers=b.headers)
    assert stranger.status_code == 404  # never offered to b


async def test_an_agent_becoming_available_gets_waiting_work_through_the_routing_job(client, runtime, company,
                                                                                      make_user):
    agent = await make_user(company)
    campaign = await campaign_with_members(client, company, [agent], strategy="leastrecent")
    sample = await make_interaction(runtime, company_id=company.id, campaign_id=campaign["id"])
    await set_presence(client, agent, "available")  # enqueues routing.route_campaign after commit

    async def in_tray():
        tray = (await client.get("/api/agents/me/tray", headers=agent.headers)).json()
        return [i["id"] for i in tray["items"]] == [str(sample.interaction_id)]

    await eventually(in_tray)


async def test_concurrent_routers_never_assign_an_interaction_twice(client, runtime, company, make_user, test_mode):
    agents = [await make_user(company) for _ in range(5)]
    shared = await campaign_with_members(client, company, agents, strategy="random", max_interactions_per_agent=4)
    other = await campaign_with_members(client, company, agents, server={}, strategy="rrmemory",
                                        max_interactions_per_agent=4)
    for agent in agents:
        await set_presence(client, agent, "available")
    samples = []
    for n in range(30):
        campaign = shared if n % 3 else other
        samples.append(await make_interaction(runtime, company_id=company.id, campaign_id=campaign["id"]))

    # Many routers at once over two campaigns sharing the same agents, plus the worker's own jobs.
    passes = [route(runtime, c["id"]) for _ in range(6) for c in (shared, other)]
    results = await asyncio.gather(*passes)

    handed_out = [pair for result in results for pair in result]
    assert len(handed_out) == len({i for i, _ in handed_out})  # no interaction handed out twice
    async with unit_of_work(runtime) as session:
        ids = [s.interaction_id for s in samples]
        per_interaction = Counter((await session.scalars(
            select(Assignment.interaction_id).where(Assignment.interaction_id.in_(ids)))).all())
        loads = dict((await session.execute(
            select(Interaction.agent_id, func.count()).where(Interaction.id.in_(ids),
                                                             Interaction.state == InteractionState.assigned)
            .group_by(Interaction.agent_id))).all())
    assert set(per_interaction.values()) == {1}
    assert sum(loads.values()) == 20  # 5 agents x 4 places, across both campaigns
    assert all(count <= 4 for count in loads.values())


async def test_going_on_break_withdraws_ringall_offers(client, runtime, company, make_user):
    agent = await make_user(company)
    campaign = await campaign_with_members(client, company, [agent], strategy="ringall")
    await set_presence(client, agent, "available")
    sample = await make_interaction(runtime, company_id=company.id, campaign_id=campaign["id"])
    await route(runtime, campaign["id"])
    await set_presence(client, agent, "busy")
    await route(runtime, campaign["id"])
    async with unit_of_work(runtime) as session:
        offers = (await session.scalars(select(RoutingOffer).where(
            RoutingOffer.interaction_id == sample.interaction_id))).all()
    assert offers == []
    refused = await client.post(f"/api/interactions/{sample.interaction_id}/accept", headers=agent.headers)
    assert refused.status_code == 404
