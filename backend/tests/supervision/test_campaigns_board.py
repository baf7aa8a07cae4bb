"""The campaigns board: queue, backlog, longest wait, in progress, closed today, agents logged in, and the
service level today with its edge cases (boundary, late, put back, still waiting, dismissed, yesterday),
built from real rows written by intake, routing and the workspace services."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import event, select

from postdesk.accounts.caller import Caller
from postdesk.accounts.models import Role
from postdesk.agents import service as agent_service
from postdesk.agents.models import PresenceState
from postdesk.agents.schemas import PresenceUpdate
from postdesk.campaigns.models import Campaign
from postdesk.db import utcnow
from postdesk.interactions import intake
from postdesk.interactions import service as interaction_service
from postdesk.interactions.models import Direction, Interaction, InteractionState
from postdesk.interactions.schemas import CloseIn, VersionIn
from postdesk.routing import service as routing_service
from postdesk.supervision import service as supervision_service
from postdesk.uow import unit_of_work
from tests.interactions.factories import campaign_with_members, set_presence

SL = 180


def zone_near_noon(now: datetime) -> str:
    """A fixed-offset zone where `now` is around noon, so "today" never straddles midnight during the test."""
    offset = 12 - now.hour
    return "UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def caller(account, role: Role | None = None) -> Caller:
    return Caller(company_id=uuid.UUID(account.company_id), role=role or Role(account.role),
                  user_id=uuid.UUID(account.id))


async def arrive(runtime, campaign_id: str, at: datetime, *, state: InteractionState | None = None) -> uuid.UUID:
    """A customer's interaction entering the campaign's queue at `at`, as the inbound pipeline does."""
    async with unit_of_work(runtime) as session:
        campaign = await session.get(Campaign, uuid.UUID(campaign_id))
        interaction = Interaction(company_id=campaign.company_id, campaign_id=campaign.id, direction=Direction.inbound,
                                  state=InteractionState.stored, customer_email=f"c-{uuid.uuid4().hex[:6]}@customer.test",
                                  subject="Order", last_message_at=at)
        session.add(interaction)
        await session.flush()
        if state is None:
            await intake.enter_queue(session, interaction=interaction, campaign=campaign, arrived_at=at)
        else:
            interaction.state_reason = "blacklisted"
        return interaction.id


async def answer_at(runtime, agent, campaign_id: str, when: datetime) -> list[uuid.UUID]:
    """The router hands the queue to `agent` at `when`; the agent is available only inside that transaction,
    so routing jobs run after the commit leave everything else waiting."""
    as_agent = caller(agent)
    async with unit_of_work(runtime) as session:
        await agent_service.set_presence(session, as_agent, PresenceUpdate(state=PresenceState.available))
        assigned = await routing_service.route_campaign(session, campaign_id=uuid.UUID(campaign_id), now=when)
        await agent_service.set_presence(session, as_agent, PresenceUpdate(state=PresenceState.offline))
    return [interaction_id for interaction_id, _ in assigned]


async def version_of(runtime, interaction_id: uuid.UUID) -> int:
    async with unit_of_work(runtime) as session:
        return await session.scalar(select(Interaction.version).where(Interaction.id == interaction_id))


async def close(runtime, admin, interaction_id: uuid.UUID) -> None:
    version = await version_of(runtime, interaction_id)
    async with unit_of_work(runtime) as session:
        await interaction_service.close(session, caller(admin), interaction_id,
                                        CloseIn(expected_version=version, disposition="handled"))


async def put_back(runtime, admin, interaction_id: uuid.UUID) -> None:
    version = await version_of(runtime, interaction_id)
    async with unit_of_work(runtime) as session:
        await interaction_service.put_back(session, caller(admin), interaction_id, VersionIn(expected_version=version))


async def board(runtime, account, now: datetime | None = None):
    async with unit_of_work(runtime) as session:
        return await supervision_service.campaigns_board(session, caller(account), now=now)


async def test_service_level_counts_answered_in_time_over_answered_and_overdue(client, runtime, make_company,
                                                                              make_user):
    company, other = await make_company(), await make_company()
    agent, on_break = await make_user(company), await make_user(company)
    supervisor = await make_user(company, role="supervisor")
    await set_presence(client, on_break, "break")  # logged in, never routed to
    now = utcnow()
    zone = zone_near_noon(now)
    campaign = await campaign_with_members(client, company, [agent, on_break], strategy="linear", service_level_seconds=SL,
                                           max_interactions_per_agent=10, schedule_timezone=zone)
    second = await campaign_with_members(client, company, [agent], strategy="linear", max_interactions_per_agent=10,
                                         schedule_timezone=zone)
    theirs = await campaign_with_members(client, other, [], strategy="linear")
    at = lambda seconds: now - timedelta(seconds=seconds)

    # Each routing pass finds exactly one interaction waiting, so the answer times are the ones written here.
    # Yesterday in the campaign's zone: answered in 10 s, closed today. Closed today, not in today's SL.
    yesterday = await arrive(runtime, campaign["id"], at(13 * 3600))
    assert await answer_at(runtime, agent, campaign["id"], at(13 * 3600 - 10)) == [yesterday]
    # Answered after 60 s, later put back and answered again: the first answer counts (met).
    put_back_one = await arrive(runtime, campaign["id"], at(900))
    assert await answer_at(runtime, agent, campaign["id"], at(840)) == [put_back_one]
    # Answered 181 s after arriving: late (counted, not met).
    late = await arrive(runtime, campaign["id"], at(600))
    assert await answer_at(runtime, agent, campaign["id"], at(600 - SL - 1)) == [late]
    # Answered exactly at the end of the period: met (boundary included).
    exactly = await arrive(runtime, campaign["id"], at(300))
    assert await answer_at(runtime, agent, campaign["id"], at(300 - SL)) == [exactly]
    await put_back(runtime, company.admin, put_back_one)
    assert await answer_at(runtime, agent, campaign["id"], at(100)) == [put_back_one]
    await close(runtime, company.admin, yesterday)
    # The other campaign: one answered in time.
    elsewhere = await arrive(runtime, second["id"], at(60))
    assert await answer_at(runtime, agent, second["id"], at(50)) == [elsewhere]

    # From here on nobody is available: these stay unanswered.
    await arrive(runtime, campaign["id"], at(400))  # still waiting past the period: counted, not met
    await arrive(runtime, campaign["id"], at(30))  # still inside its period: not counted yet
    dismissed = await arrive(runtime, campaign["id"], at(120))
    await close(runtime, company.admin, dismissed)  # closed unanswered within the period: not counted
    overdue_closed = await arrive(runtime, campaign["id"], at(500))
    await close(runtime, company.admin, overdue_closed)  # closed unanswered after the period: counted, not met
    await arrive(runtime, campaign["id"], at(200), state=InteractionState.stored)  # never waited: not part of it
    await arrive(runtime, theirs["id"], at(500))  # another company's

    result = await board(runtime, supervisor, now)
    rows = {str(row.campaign_id): row for row in result.campaigns}
    assert set(rows) == {campaign["id"], second["id"]}  # the other company's campaign is absent
    assert result.service_level_target_percent == 80 and result.as_of == now
    row = rows[campaign["id"]]
    assert (row.queued, row.backlog, row.in_progress, row.closed_today) == (2, 0, 3, 3)
    assert row.longest_wait_seconds == 400 and row.oldest_waiting_since == at(400)
    assert (row.answered_in_time_today, row.service_level_counted_today) == (2, 5)
    assert row.service_level_percent == 40.0
    assert (row.members, row.agents_logged_in) == (2, 1)
    assert (row.service_level_seconds, row.warning_threshold_seconds, row.critical_threshold_seconds) == (SL, 120, 300)
    other_row = rows[second["id"]]
    assert (other_row.queued, other_row.in_progress, other_row.closed_today) == (0, 1, 0)
    assert other_row.longest_wait_seconds is None and other_row.oldest_waiting_since is None
    assert (other_row.answered_in_time_today, other_row.service_level_counted_today) == (1, 1)
    assert other_row.service_level_percent == 100.0

    # Two minutes later the one waiting for 30 s is overdue too; the dismissed one still does not count.
    later = await board(runtime, supervisor, now + timedelta(seconds=SL))
    later_row = next(r for r in later.campaigns if str(r.campaign_id) == campaign["id"])
    assert (later_row.answered_in_time_today, later_row.service_level_counted_today) == (2, 6)
    assert later_row.longest_wait_seconds == 400 + SL

    # The API gives the same numbers at the real clock (the pending one has 150 s of its period left).
    response = await client.get("/api/supervision/campaigns", headers=supervisor.headers)
    assert response.status_code == 200, response.text
    api_row = next(r for r in response.json()["campaigns"] if r["campaign_id"] == campaign["id"])
    assert {k: api_row[k] for k in ("queued", "in_progress", "closed_today", "answered_in_time_today",
                                    "service_level_counted_today", "service_level_percent", "agents_logged_in")} == {
        "queued": 2, "in_progress": 3, "closed_today": 3, "answered_in_time_today": 2,
        "service_level_counted_today": 5, "service_level_percent": 40.0, "agents_logged_in": 1}
    assert api_row["longest_wait_seconds"] >= 400
    theirs_board = (await client.get("/api/supervision/campaigns", headers=other.admin.headers)).json()
    assert [r["campaign_id"] for r in theirs_board["campaigns"]] == [theirs["id"]]
    assert theirs_board["campaigns"][0]["queued"] == 1


async def test_a_campaign_with_nothing_counted_has_no_service_level_yet(client, runtime, company, make_user):
    campaign = await campaign_with_members(client, company, [], strategy="linear")
    await arrive(runtime, campaign["id"], utcnow() - timedelta(seconds=5))  # inside its period
    row = (await board(runtime, company.admin)).campaigns[0]
    assert row.queued == 1 and row.service_level_counted_today == 0 and row.service_level_percent is None
    assert row.members == 0 and row.agents_logged_in == 0


async def test_backlog_is_counted_apart_from_the_queue(client, runtime, company):
    campaign = await campaign_with_members(client, company, [], strategy="linear", max_interactions_in_queue=1)
    for seconds in (50, 40, 30):
        await arrive(runtime, campaign["id"], utcnow() - timedelta(seconds=seconds))
    row = (await board(runtime, company.admin)).campaigns[0]
    assert (row.queued, row.backlog) == (1, 2)
    assert 50 <= row.longest_wait_seconds < 60  # the oldest waits in the queue or the backlog alike


async def test_only_supervisors_and_admins_see_supervision(client, company, make_user):
    agent = await make_user(company)
    supervisor = await make_user(company, role="supervisor")
    for path in ("/api/supervision/campaigns", "/api/supervision/agents", "/api/supervision/waiting"):
        refused = await client.get(path, headers=agent.headers)
        assert refused.status_code == 403, path
        assert (await client.get(path, headers=supervisor.headers)).status_code == 200, path
        assert (await client.get(path, headers=company.admin.headers)).status_code == 200, path
        assert (await client.get(path)).status_code == 401, path


async def test_boards_take_the_same_number_of_queries_for_one_campaign_or_many(client, runtime, company, make_user):
    agent = await make_user(company)
    await campaign_with_members(client, company, [agent], strategy="linear")

    async def statements() -> int:
        executed: list[str] = []
        async with unit_of_work(runtime) as session:
            connection = await session.connection()
            listener = lambda *args: executed.append(args[2])  # (connection, cursor, statement, ...)
            event.listen(connection.sync_connection, "before_cursor_execute", listener)
            try:
                as_admin = caller(company.admin)
                await supervision_service.campaigns_board(session, as_admin)
                await supervision_service.agents_board(session, as_admin)
                await supervision_service.waiting_customers(session, as_admin, campaign_id=None, offset=0, limit=50)
            finally:
                event.remove(connection.sync_connection, "before_cursor_execute", listener)
        return len(executed)

    few = await statements()
    more_agents = [await make_user(company) for _ in range(3)]
    for index in range(4):
        campaign = await campaign_with_members(client, company, [agent, *more_agents[:index]], strategy="linear")
        await arrive(runtime, campaign["id"], utcnow() - timedelta(seconds=index + 1))
    assert await statements() == few
