"""The router: hands a campaign's waiting interactions to its eligible agents.

Eligible: a member of the campaign, active, `available`, holding fewer interactions than the
campaign's `max_interactions_per_agent` (all assigned interactions count, whatever their
campaign: an agent's tray is one workload), while the campaign is enabled and open by its schedule.
Interactions go priority first, then oldest `queued_at`.

Strategies (the campaign's `strategy`, names as in Asterisk queues):
- ringall: every eligible agent is *offered* the interactions at the head of the queue (as many as
  they have room for); the first to accept (`POST /api/interactions/{id}/accept`) gets it;
- linear: member order (position, then when added), the first with room;
- rrmemory: round robin in member order, starting after the agent who got the last one;
- leastrecent: the agent whose last assignment in this campaign is oldest (never first);
- fewestcalls: the agent with the fewest assignments in this campaign today (campaign time zone);
- random: uniformly among eligible agents; wrandom: weighted by the members' weights.

Never twice: routers of one campaign are serialised by a lock on the campaign row (held until
commit), waiting interactions are read with SKIP LOCKED, and each assignment is a conditional
UPDATE ... WHERE state = 'queued', so a row another router, an accept or an agent's move changed
is never handed out again. Agents' presence rows are locked (in id order) for the pass, so routers
of two campaigns sharing agents cannot both fill the same agent's last free place.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.agents import service as agent_service
from postdesk.campaigns import schedule as schedules
from postdesk.campaigns import service as campaign_service
from postdesk.campaigns.models import Campaign, RoutingStrategy
from postdesk.db import utcnow
from postdesk.errors import Conflict, NotFound
from postdesk.routing.models import Assignment, RoutingOffer
from postdesk.routing.repository import RoutingRepository
from postdesk.uow import enqueue, publish

log = structlog.get_logger(__name__)

_system_random = random.SystemRandom()


@dataclass
class Candidate:
    """An eligible agent during one routing pass."""

    user_id: uuid.UUID
    position: int  # index in member order
    weight: int
    free: int  # places left under the campaign's maximum
    assigned_today: int = 0
    last_assigned_at: datetime | None = None


def choose(strategy: RoutingStrategy, candidates: list[Candidate], *, last_user_id: uuid.UUID | None,
           member_order: list[uuid.UUID], rng: random.Random | None = None) -> Candidate | None:
    """The agent who gets the next interaction under `strategy` (not ringall), or None if nobody has room."""
    pool = [c for c in candidates if c.free > 0]
    if not pool:
        return None
    rng = rng or _system_random
    match strategy:
        case RoutingStrategy.linear:
            return min(pool, key=lambda c: c.position)
        case RoutingStrategy.rrmemory:
            last = member_order.index(last_user_id) if last_user_id in member_order else -1
            after = [c for c in pool if c.position > last]
            return min(after or pool, key=lambda c: c.position)
        case RoutingStrategy.leastrecent:
            never = [c for c in pool if c.last_assigned_at is None]
            if never:
                return min(never, key=lambda c: c.position)
            return min(pool, key=lambda c: (c.last_assigned_at, c.position))
        case RoutingStrategy.fewestcalls:
            return min(pool, key=lambda c: (c.assigned_today, c.position))
        case RoutingStrategy.wrandom:
            weights = [max(c.weight, 0) for c in pool]
            if sum(weights) == 0:
                return rng.choice(pool)
            return rng.choices(pool, weights=weights, k=1)[0]
        case _:  # random (and ringall, which never asks)
            return rng.choice(pool)


async def _eligible(session: AsyncSession, repo: RoutingRepository, campaign: Campaign,
                    now: datetime) -> tuple[list[Candidate], list[uuid.UUID]]:
    members = list(await repo.members(campaign.id))
    order = [m.user_id for m in members]
    available = set(await agent_service.available_agents(session, order, lock=True))
    loads = await agent_service.assigned_counts(session, list(available))
    zone = ZoneInfo(campaign.schedule_timezone)
    midnight = datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)
    stats = await repo.stats(campaign.id, since=midnight)
    candidates = []
    for index, member in enumerate(members):
        if member.user_id not in available:
            continue
        free = campaign.max_interactions_per_agent - loads.get(member.user_id, 0)
        if free <= 0:
            continue
        today, last = stats.get(member.user_id, (0, None))
        candidates.append(Candidate(member.user_id, index, member.weight, free, today, last))
    return candidates, order


async def is_open(session: AsyncSession, campaign: Campaign, now: datetime) -> bool:
    return campaign.enabled and schedules.is_open(await campaign_service.schedule_of(session, campaign), now)


async def route_campaign(session: AsyncSession, *, campaign_id: uuid.UUID, now: datetime | None = None,
                         rng: random.Random | None = None) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """One routing pass; returns the (interaction, agent) pairs assigned (offers under ringall are not)."""
    repo = RoutingRepository(session)
    campaign = await repo.lock_campaign(campaign_id)
    if campaign is None:
        return []
    now = now or utcnow()
    if not await is_open(session, campaign, now):
        await _sync_offers(repo, campaign, set())
        return []
    candidates, order = await _eligible(session, repo, campaign, now)
    room = sum(c.free for c in candidates)
    waiting = list(await repo.queued(campaign.id, limit=room)) if room else []
    if campaign.strategy is RoutingStrategy.ringall:
        await _sync_offers(repo, campaign, _ringall_offers(waiting, candidates))
        return []
    assigned: list[tuple[uuid.UUID, uuid.UUID]] = []
    last_user_id = await repo.last_assigned_user(campaign.id) if campaign.strategy is RoutingStrategy.rrmemory else None
    for interaction_id in waiting:
        candidate = choose(campaign.strategy, candidates, last_user_id=last_user_id, member_order=order, rng=rng)
        if candidate is None:
            break
        if not await _assign(repo, campaign, interaction_id, candidate.user_id, now, via=campaign.strategy.value):
            continue  # taken meanwhile (accepted, moved, closed): never handed out twice
        candidate.free -= 1
        candidate.assigned_today += 1
        candidate.last_assigned_at = now
        last_user_id = candidate.user_id
        assigned.append((interaction_id, candidate.user_id))
    if campaign.strategy is not RoutingStrategy.ringall:
        await _sync_offers(repo, campaign, set())  # offers left from when the campaign used ringall
    if assigned:
        await _after_assignments(session, campaign)
    return assigned


def _ringall_offers(waiting: list[uuid.UUID],
                    candidates: list[Candidate]) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """Every eligible agent rings for the head of the queue, one interaction per free place."""
    room = {c.user_id: c.free for c in candidates}
    wanted: set[tuple[uuid.UUID, uuid.UUID]] = set()
    for interaction_id in waiting:
        ringing = [user_id for user_id, free in room.items() if free > 0]
        if not ringing:
            break
        for user_id in ringing:
            wanted.add((interaction_id, user_id))
            room[user_id] -= 1
    return wanted


async def _sync_offers(repo: RoutingRepository, campaign: Campaign,
                       wanted: set[tuple[uuid.UUID, uuid.UUID]]) -> None:
    current = await repo.offers(campaign.id)
    await repo.remove_offers(campaign.id, current - wanted)
    new = wanted - current
    now = utcnow()
    await repo.add_offers([RoutingOffer(interaction_id=i, user_id=u, company_id=campaign.company_id,
                                        campaign_id=campaign.id, offered_at=now) for i, u in sorted(new)])
    for interaction_id, user_id in sorted(new):
        publish("interaction.offered", campaign.company_id,
                {"id": str(interaction_id), "campaign_id": str(campaign.id)}, user_ids=[user_id])
    for interaction_id, user_id in sorted(current - wanted):
        publish("interaction.offer_withdrawn", campaign.company_id,
                {"id": str(interaction_id), "campaign_id": str(campaign.id)}, user_ids=[user_id])


async def _assign(repo: RoutingRepository, campaign: Campaign, interaction_id: uuid.UUID, user_id: uuid.UUID,
                  now: datetime, *, via: str) -> bool:
    if not await repo.take(interaction_id, campaign.id, user_id, now):
        return False
    await repo.record(Assignment(company_id=campaign.company_id, campaign_id=campaign.id,
                                 interaction_id=interaction_id, user_id=user_id, assigned_at=now, via=via))
    data = {"id": str(interaction_id), "campaign_id": str(campaign.id), "agent_id": str(user_id)}
    publish("interaction.assigned", campaign.company_id, data, user_ids=[user_id])
    publish("interaction.assigned", campaign.company_id, data, min_role="supervisor")
    log.info("interaction_assigned", interaction_id=str(interaction_id), agent_id=str(user_id), via=via)
    return True


async def _after_assignments(session: AsyncSession, campaign: Campaign) -> None:
    from postdesk.interactions import intake  # the inbound pipeline's queue rules

    # Assigned interactions left the queue: let the backlog in (it enqueues routing when it admits).
    await intake.admit_backlog(session, campaign_id=campaign.id)
    counts = await intake.queue_counts(session, campaign_id=campaign.id)
    publish("queue.changed", campaign.company_id, {"campaign_id": str(campaign.id), **counts}, min_role="supervisor")


async def accept_offer(session: AsyncSession, *, company_id: uuid.UUID, interaction_id: uuid.UUID,
                       campaign_id: uuid.UUID | None, user_id: uuid.UUID) -> None:
    """Ringall: the agent takes an interaction offered to them, if nobody was quicker."""
    repo = RoutingRepository(session)
    offer = await repo.offer(interaction_id, user_id)
    if offer is None or offer.company_id != company_id or campaign_id is None:
        raise NotFound("Offer")
    campaign = await repo.lock_campaign(campaign_id)
    if campaign is None or campaign.company_id != company_id:
        raise NotFound("Offer")
    now = utcnow()
    if not await is_open(session, campaign, now):
        raise Conflict(None, "The campaign is closed now.")
    available = await agent_service.available_agents(session, [user_id], lock=True)
    if not available:
        raise Conflict(None, "Only an available agent can accept interactions; change your state first.")
    if not await repo.is_member(campaign.id, user_id):
        raise Conflict(None, "You are no longer a member of this campaign.")
    load = (await agent_service.assigned_counts(session, [user_id])).get(user_id, 0)
    if load >= campaign.max_interactions_per_agent:
        raise Conflict(None, f"You already hold {load} interactions, the campaign's maximum per agent.")
    if not await _assign(repo, campaign, interaction_id, user_id, now, via="ringall"):
        await repo.clear_offers(interaction_id=interaction_id)
        raise Conflict(None, "Another agent accepted this interaction first.")
    await repo.clear_offers(interaction_id=interaction_id)
    await _after_assignments(session, campaign)
    enqueue("routing.route_campaign", campaign.id)  # the others ring for the next one


async def offers_to(session: AsyncSession, user_id: uuid.UUID) -> list[RoutingOffer]:
    return list(await RoutingRepository(session).offers_to(user_id))


async def withdraw(session: AsyncSession, *, interaction_id: uuid.UUID) -> None:
    """An interaction left the queue some other way (moved, closed): nobody can accept it any more."""
    await RoutingRepository(session).clear_offers(interaction_id=interaction_id)


async def sweep(session: AsyncSession) -> int:
    """Ask for a routing pass on every campaign with waiting work (catches schedule openings and lost events)."""
    campaign_ids = list(await RoutingRepository(session).campaigns_waiting())
    for campaign_id in campaign_ids:
        enqueue("routing.route_campaign", campaign_id)
    return len(campaign_ids)
