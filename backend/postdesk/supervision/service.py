"""Supervision rules: what the numbers on the supervision screen mean.

Supervisors and admins see their own company only. Every board is built from a fixed number of
grouped queries (supervision.repository), however many campaigns and agents the company has.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.accounts.caller import Caller
from postdesk.agents.models import PresenceState
from postdesk.campaigns import service as campaign_service
from postdesk.campaigns.models import Campaign
from postdesk.db import utcnow
from postdesk.errors import UnknownReference
from postdesk.supervision.repository import LiveCounts, SupervisionRepository, TodayCounts
from postdesk.supervision.schemas import (
    AgentCampaign,
    AgentsBoard,
    AgentSupervision,
    CampaignsBoard,
    CampaignSupervision,
    SupervisionStatus,
    WaitingCustomer,
)

# The classic contact-centre objective (80 % answered within the period); campaigns have no target of their own.
SERVICE_LEVEL_TARGET_PERCENT = 80


def _seconds_since(moment: datetime | None, now: datetime) -> int | None:
    return None if moment is None else max(0, int((now - moment).total_seconds()))


def campaign_day_start(campaign: Campaign, now: datetime) -> datetime:
    """Midnight of `now`'s day in the campaign's time zone (as routing's fewestcalls counts "today")."""
    try:
        zone = ZoneInfo(campaign.schedule_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)


def service_level_percent(answered_in_time: int, counted: int) -> float | None:
    if counted == 0:
        return None
    return round(100 * answered_in_time / counted, 1)


async def campaigns_board(session: AsyncSession, caller: Caller, *, now: datetime | None = None) -> CampaignsBoard:
    """Per campaign: queue, backlog, longest current wait, in progress, closed today, service level today,
    members logged in.

    Service level today (SL) is the share of today's interactions that an agent took within the
    campaign's service-level period (`service_level_seconds`):

    - Today: since midnight in the campaign's time zone. An interaction belongs to today when its
      wait began today (`queued_at`: its arrival, or its reopening by a customer's follow-up; a put
      back keeps the original time). Interactions that never waited (an agent's new email, stored
      mail) are not part of it.
    - Answered: the interaction's first assignment to an agent (the routing log, any strategy or a
      ringall accept, in whichever campaign) at or after its wait began. Later assignments (after a
      put back) do not change it: the customer was already attended.
    - Met: answered at most `service_level_seconds` after the wait began (to the millisecond,
      boundary included).
    - Counted (the denominator): every answered interaction, met or late; plus every unanswered
      one whose period is over (still waiting, or closed after the period without an agent). Not
      counted: unanswered interactions still inside their period (they may yet be met), and those
      closed unanswered within the period (dismissed, e.g. spam closed by a supervisor).
    - SL % = met / counted × 100, rounded to 0.1; null when nothing is counted yet.

    An interaction counts in the campaign it belongs to now (a move takes it along).
    """
    now = now or utcnow()
    repo = SupervisionRepository(session)
    campaigns = await campaign_service.campaigns_worked_by(session, caller.company_id, None)
    day_starts = {c.id: campaign_day_start(c, now) for c in campaigns}
    live = await repo.live_counts(caller.company_id)
    today = await repo.today_counts(caller.company_id, day_starts, now)
    members = await repo.members_logged_in(caller.company_id)
    rows = []
    for campaign in campaigns:
        counts = live.get(campaign.id, LiveCounts())
        day = today.get(campaign.id, TodayCounts())
        member_count, logged_in = members.get(campaign.id, (0, 0))
        rows.append(CampaignSupervision(
            campaign_id=campaign.id, title=campaign.title, enabled=campaign.enabled,
            queued=counts.queued, backlog=counts.backlog, oldest_waiting_since=counts.oldest_waiting_since,
            longest_wait_seconds=_seconds_since(counts.oldest_waiting_since, now), in_progress=counts.in_progress,
            closed_today=day.closed, service_level_seconds=campaign.service_level_seconds,
            warning_threshold_seconds=campaign.warning_threshold_seconds,
            critical_threshold_seconds=campaign.critical_threshold_seconds,
            answered_in_time_today=day.answered_in_time, service_level_counted_today=day.counted,
            service_level_percent=service_level_percent(day.answered_in_time, day.counted),
            agents_logged_in=logged_in, members=member_count,
        ))
    return CampaignsBoard(as_of=now, service_level_target_percent=SERVICE_LEVEL_TARGET_PERCENT, campaigns=rows)


def supervision_status(presence: PresenceState, held: int, capacity: int) -> SupervisionStatus:
    """The seed's five states from presence and workload.

    offline → disconnected; break → busy on break while the tray still holds interactions, else free
    on break; busy (not taking work) → busy; available → busy once the tray is full (held ≥ capacity,
    and at least one held), else free (the router may give it more).
    """
    match presence:
        case PresenceState.offline:
            return SupervisionStatus.disconnected
        case PresenceState.on_break:
            return SupervisionStatus.busy_on_break if held > 0 else SupervisionStatus.free_on_break
        case PresenceState.busy:
            return SupervisionStatus.busy
        case _:
            return SupervisionStatus.busy if held > 0 and held >= capacity else SupervisionStatus.free


async def agents_board(session: AsyncSession, caller: Caller, *, now: datetime | None = None) -> AgentsBoard:
    """Every agent (and every supervisor or admin who is a campaign member) with status, workload and campaigns.

    Capacity is what routing would fill the tray to: the highest `max_interactions_per_agent` among the
    enabled campaigns the agent belongs to (routing counts all assigned interactions against each).
    """
    now = now or utcnow()
    repo = SupervisionRepository(session)
    users = await repo.agents(caller.company_id)
    presences = await repo.presences(caller.company_id)
    held = await repo.held_counts(caller.company_id)
    campaigns_of: dict[uuid.UUID, list[AgentCampaign]] = {}
    capacity_of: dict[uuid.UUID, int] = {}
    for membership in await repo.memberships(caller.company_id):
        campaigns_of.setdefault(membership.user_id, []).append(
            AgentCampaign(id=membership.campaign_id, title=membership.title))
        if membership.enabled:
            capacity_of[membership.user_id] = max(capacity_of.get(membership.user_id, 0),
                                                  membership.max_interactions_per_agent)
    agents = []
    for user in users:
        presence = presences.get(user.id)
        state = presence.state if presence else PresenceState.offline
        since = presence.changed_at if presence else None
        load = held.get(user.id, 0)
        capacity = capacity_of.get(user.id, 0)
        agents.append(AgentSupervision(
            user_id=user.id, name=user.name, email=user.email, role=user.role.value, presence=state,
            status=supervision_status(state, load, capacity),
            break_reason=presence.break_reason if presence and state is PresenceState.on_break else "",
            since=since, seconds_in_status=_seconds_since(since, now), interactions_held=load, capacity=capacity,
            campaigns=campaigns_of.get(user.id, []),
        ))
    return AgentsBoard(as_of=now, agents=agents)


async def waiting_customers(session: AsyncSession, caller: Caller, *, campaign_id: uuid.UUID | None, offset: int,
                            limit: int, now: datetime | None = None) -> tuple[list[WaitingCustomer], int]:
    """Customers waiting for an agent (queue and backlog), longest wait first."""
    now = now or utcnow()
    if campaign_id is not None and await campaign_service.find_campaign(session, caller.company_id,
                                                                        campaign_id) is None:
        raise UnknownReference("campaign_id", "Campaign")
    rows, total = await SupervisionRepository(session).waiting(caller.company_id, campaign_id=campaign_id,
                                                               offset=offset, limit=limit)
    return [WaitingCustomer(
        interaction_id=interaction.id, reference=interaction.reference, campaign_id=interaction.campaign_id,
        campaign_title=title, customer_email=interaction.customer_email, customer_name=interaction.customer_name,
        subject=interaction.subject, state=interaction.state, priority=interaction.priority,
        waiting_since=interaction.queued_at, waiting_seconds=_seconds_since(interaction.queued_at, now) or 0,
    ) for interaction, title in rows], total
