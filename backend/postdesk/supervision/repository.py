"""Supervision's read-only queries: grouped counts over interactions, presence and memberships.

Each method is one statement whatever the number of campaigns or agents, so the dashboard costs the
same for a company of three agents as for one of three hundred. Every query is scoped to a company.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Float, and_, case, exists, func, literal, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from postdesk.accounts.models import Role, User
from postdesk.agents.models import AgentPresence, PresenceState
from postdesk.campaigns.models import Campaign, CampaignMember
from postdesk.db import UTCDateTime
from postdesk.interactions.models import Interaction, InteractionState
from postdesk.routing.models import Assignment

WAITING = (InteractionState.queued, InteractionState.backlog)


class epoch_seconds(FunctionElement[float]):  # lower case: it reads as the SQL function it stands for
    """Seconds since 1970 of a UTC timestamp column, on PostgreSQL and SQLite alike."""

    type = Float()
    inherit_cache = True


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element: epoch_seconds, compiler, **kw) -> str:
    return f"EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})"


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler, **kw) -> str:
    # Timestamps are stored as UTC text; julianday() reads them to the millisecond.
    return f"((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0)"


def _milliseconds(later: ColumnElement[float], earlier: ColumnElement[float]) -> ColumnElement[float]:
    """later - earlier in whole milliseconds: exact comparisons at the boundary despite float arithmetic."""
    return func.round((later - earlier) * 1000)


@dataclass(frozen=True)
class LiveCounts:
    queued: int = 0
    backlog: int = 0
    in_progress: int = 0
    oldest_waiting_since: datetime | None = None


@dataclass(frozen=True)
class TodayCounts:
    closed: int = 0
    answered_in_time: int = 0
    counted: int = 0


@dataclass(frozen=True)
class Membership:
    user_id: uuid.UUID
    campaign_id: uuid.UUID
    title: str
    enabled: bool
    max_interactions_per_agent: int


class SupervisionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # Campaigns

    async def live_counts(self, company_id: uuid.UUID) -> dict[uuid.UUID, LiveCounts]:
        """Per campaign: what waits and what agents hold now."""
        waiting = Interaction.state.in_(WAITING)
        rows = await self.session.execute(
            select(Interaction.campaign_id,
                   func.count().filter(Interaction.state == InteractionState.queued),
                   func.count().filter(Interaction.state == InteractionState.backlog),
                   func.count().filter(Interaction.state == InteractionState.assigned),
                   func.min(Interaction.queued_at).filter(waiting))
            .where(Interaction.company_id == company_id, Interaction.campaign_id.is_not(None),
                   Interaction.state.in_([*WAITING, InteractionState.assigned]))
            .group_by(Interaction.campaign_id))
        return {campaign_id: LiveCounts(int(queued), int(backlog), int(assigned), oldest)
                for campaign_id, queued, backlog, assigned, oldest in rows.all()}

    async def today_counts(self, company_id: uuid.UUID, day_starts: dict[uuid.UUID, datetime],
                           now: datetime) -> dict[uuid.UUID, TodayCounts]:
        """Per campaign, since its own midnight (`day_starts`): closed interactions and the service level.

        The service level rule is documented on `supervision.service.campaigns_board`; in SQL terms,
        for each interaction whose wait began today:
          answered  = its first assignment (any campaign) at or after it began waiting
          met       = answered - began <= service level period
          counted   = answered, or (the period is over and it was not closed unanswered within the period)
        Times compare in whole milliseconds.
        """
        if not day_starts:
            return {}
        day_start = case(*[(Interaction.campaign_id == campaign_id, literal(start, UTCDateTime()))
                           for campaign_id, start in day_starts.items()], else_=None)
        earliest = min(day_starts.values())
        first_answer = (select(func.min(Assignment.assigned_at))
                        .where(Assignment.interaction_id == Interaction.id,
                               Assignment.assigned_at >= Interaction.queued_at)
                        .correlate(Interaction).scalar_subquery())
        today = (
            select(Interaction.campaign_id.label("campaign_id"),
                   Interaction.state.label("state"),
                   (Interaction.queued_at >= day_start).label("arrived_today"),
                   and_(Interaction.state == InteractionState.closed,
                        Interaction.closed_at >= day_start).label("closed_today"),
                   epoch_seconds(Interaction.queued_at).label("began"),
                   epoch_seconds(first_answer).label("answered"),
                   epoch_seconds(Interaction.closed_at).label("closed"),
                   (Campaign.service_level_seconds * 1000).label("period_ms"))
            .join(Campaign, Campaign.id == Interaction.campaign_id)
            .where(Interaction.company_id == company_id, Campaign.company_id == company_id,
                   or_(Interaction.queued_at >= earliest, Interaction.closed_at >= earliest))
            .subquery())
        now_seconds = epoch_seconds(literal(now, UTCDateTime()))
        met = _milliseconds(today.c.answered, today.c.began) <= today.c.period_ms
        period_over = _milliseconds(now_seconds, today.c.began) > today.c.period_ms
        dismissed_in_period = and_(today.c.state == InteractionState.closed,
                                   _milliseconds(today.c.closed, today.c.began) <= today.c.period_ms)
        counted = or_(today.c.answered.is_not(None), and_(period_over, not_(dismissed_in_period)))
        rows = await self.session.execute(
            select(today.c.campaign_id,
                   func.count().filter(today.c.closed_today),
                   func.count().filter(and_(today.c.arrived_today, met)),
                   func.count().filter(and_(today.c.arrived_today, counted)))
            .group_by(today.c.campaign_id))
        return {campaign_id: TodayCounts(int(closed), int(answered_in_time), int(counted_))
                for campaign_id, closed, answered_in_time, counted_ in rows.all()}

    async def members_logged_in(self, company_id: uuid.UUID) -> dict[uuid.UUID, tuple[int, int]]:
        """Per campaign: (active members, of whom not offline)."""
        logged_in = and_(AgentPresence.state.is_not(None), AgentPresence.state != PresenceState.offline)
        rows = await self.session.execute(
            select(CampaignMember.campaign_id, func.count(), func.count().filter(logged_in))
            .join(Campaign, Campaign.id == CampaignMember.campaign_id)
            .join(User, User.id == CampaignMember.user_id)
            .outerjoin(AgentPresence, AgentPresence.user_id == CampaignMember.user_id)
            .where(Campaign.company_id == company_id, User.company_id == company_id, User.is_active.is_(True))
            .group_by(CampaignMember.campaign_id))
        return {campaign_id: (int(members), int(online)) for campaign_id, members, online in rows.all()}

    async def waiting(self, company_id: uuid.UUID, *, campaign_id: uuid.UUID | None, offset: int,
                      limit: int) -> tuple[list[tuple[Interaction, str]], int]:
        """Waiting customers, longest wait first, with their campaign's title."""
        conditions = [Interaction.company_id == company_id, Interaction.state.in_(WAITING),
                      Interaction.queued_at.is_not(None)]
        if campaign_id is not None:
            conditions.append(Interaction.campaign_id == campaign_id)
        total = await self.session.scalar(select(func.count()).select_from(Interaction).where(*conditions))
        rows = await self.session.execute(
            select(Interaction, Campaign.title)
            .join(Campaign, Campaign.id == Interaction.campaign_id)
            .where(*conditions)
            .order_by(Interaction.queued_at, Interaction.priority.desc(), Interaction.id)
            .offset(offset).limit(limit))
        return [(interaction, title) for interaction, title in rows.all()], int(total or 0)

    # Agents

    async def agents(self, company_id: uuid.UUID) -> Sequence[User]:
        """Active users who take interactions: every agent, and supervisors or admins who are campaign members."""
        is_member = exists().where(CampaignMember.user_id == User.id)
        query = (select(User)
                 .where(User.company_id == company_id, User.is_active.is_(True),
                        or_(User.role == Role.agent, is_member))
                 .order_by(User.name, User.id))
        return (await self.session.scalars(query)).all()

    async def presences(self, company_id: uuid.UUID) -> dict[uuid.UUID, AgentPresence]:
        rows = await self.session.scalars(select(AgentPresence).where(AgentPresence.company_id == company_id))
        return {row.user_id: row for row in rows}

    async def held_counts(self, company_id: uuid.UUID) -> dict[uuid.UUID, int]:
        """Interactions in each agent's tray (all campaigns: a tray is one workload)."""
        rows = await self.session.execute(
            select(Interaction.agent_id, func.count())
            .where(Interaction.company_id == company_id, Interaction.state == InteractionState.assigned,
                   Interaction.agent_id.is_not(None))
            .group_by(Interaction.agent_id))
        return {user_id: int(count) for user_id, count in rows.all()}

    async def memberships(self, company_id: uuid.UUID) -> list[Membership]:
        rows = await self.session.execute(
            select(CampaignMember.user_id, Campaign.id, Campaign.title, Campaign.enabled,
                   Campaign.max_interactions_per_agent)
            .join(Campaign, Campaign.id == CampaignMember.campaign_id)
            .where(Campaign.company_id == company_id)
            .order_by(Campaign.title, Campaign.id))
        return [Membership(*row) for row in rows.all()]

