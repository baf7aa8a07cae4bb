"""Intake: how interactions come into being and enter a campaign's queue.

Shared by the inbound pipeline (customer mail opens or joins an interaction) and routing (room
freed in a queue lets backlog in). The queue rules live here, in one place:

- A waiting interaction is `queued` (offered to agents) or `backlog` (the campaign's
  `max_interactions_in_queue` is reached). Nothing is ever dropped.
- `queued_at` is when the interaction started waiting (its arrival), set for both states and kept
  when it moves from backlog into the queue, so the queue and the backlog are both "oldest first"
  on `(priority desc, queued_at asc)` — the order of `ix_interactions_campaign_state_queue`.
- While a campaign has backlog, new arrivals join the backlog behind it (no overtaking), then
  `admit_backlog` moves the oldest in as far as room allows.
- `priority` is 0 for new mail; a customer's follow-up that reopens a closed interaction enters
  with REOPENED_PRIORITY, ahead of new conversations (the customer has already waited once).
- Admission runs under a lock on the campaign row (`SELECT ... FOR UPDATE` on PostgreSQL; SQLite
  serialises writers anyway), so concurrent fetchers and routers never overfill a queue. Callers
  that also lock interactions should call `admit_backlog` first to keep one lock order.
- A caller that opens many interactions in one transaction (the inbound pipeline records a fetched
  batch at once) calls `count_queues_in_memory` first: each campaign's queued/backlog counts are then
  read once, under the campaign lock, and kept up to date by this module instead of counted again
  for every message. Only code that changes interaction states solely through this module may use it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import event, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from postdesk.accounts.caller import Caller
from postdesk.accounts.models import Role
from postdesk.campaigns.models import Campaign
from postdesk.db import utcnow
from postdesk.interactions.models import Direction, Interaction, InteractionState, new_reference
from postdesk.uow import enqueue, publish

REOPENED_PRIORITY = 10
# session.info: interactions opened in this transaction and not yet written; all of them by id
_OPENED, _OPENED_BY_ID = "postdesk.intake.opened", "postdesk.intake.opened_by_id"
WAITING = (InteractionState.queued, InteractionState.backlog)


class StoredReason:
    """Why an interaction is kept in state `stored` instead of queued (`Interaction.state_reason`)."""

    blacklisted = "blacklisted"
    campaign_disabled = "campaign disabled"
    no_campaign = "no campaign"
    not_receiving = "campaign not receiving"


@dataclass(eq=False)
class NewInteraction:
    """An interaction opened in this transaction: a row, not an ORM object (a first sync opens thousands,
    and ORM objects were most of their cost). `write_opened` inserts the transaction's new rows at once;
    the fields are the table's columns."""

    id: uuid.UUID
    reference: str
    company_id: uuid.UUID
    campaign_id: uuid.UUID | None
    state: InteractionState
    state_reason: str
    customer_email: str
    customer_name: str
    subject: str
    last_message_at: datetime
    created_at: datetime
    updated_at: datetime
    direction: Direction = Direction.inbound
    priority: int = 0
    unread: bool = True
    queued_at: datetime | None = None
    agent_id: uuid.UUID | None = None
    assigned_at: datetime | None = None
    closed_at: datetime | None = None


async def open_interaction(
    session: AsyncSession,
    *,
    company_id: uuid.UUID,
    campaign: Campaign | None,
    customer_email: str,
    customer_name: str = "",
    subject: str = "",
    stored_reason: str | None = None,
    arrived_at: datetime | None = None,
    reference: str | None = None,
) -> NewInteraction:
    """Open an inbound interaction: `stored` with a reason, or waiting in the campaign's queue/backlog.

    Its row is inserted by `write_opened` (before this transaction's next query that must see it, and
    before the commit). Publishes `interaction.created` and, when it waits, enqueues routing (both after
    commit).
    """
    if stored_reason is None:
        stored_reason = _refusal(campaign)
    now = utcnow()
    interaction = NewInteraction(
        id=uuid.uuid4(),
        reference=reference or new_reference(),
        company_id=company_id,
        campaign_id=campaign.id if campaign is not None else None,
        state=InteractionState.stored,
        state_reason=stored_reason or "",
        customer_email=customer_email[:320],
        customer_name=customer_name[:200],
        subject=subject[:998],
        last_message_at=arrived_at or now,
        created_at=now,
        updated_at=now,
    )
    if stored_reason:
        _opened(session, interaction)
    else:
        assert campaign is not None
        await enter_queue(session, interaction=interaction, campaign=campaign, arrived_at=arrived_at)
    await _announce_created(session, interaction)
    return interaction


def _opened(session: AsyncSession, interaction: NewInteraction) -> None:
    """Queue the new row for `write_opened`; its state is final (later changes go through the database)."""
    session.info.setdefault(_OPENED, []).append(interaction)
    session.info.setdefault(_OPENED_BY_ID, {})[interaction.id] = interaction


async def write_opened(session: AsyncSession) -> None:
    """Insert the interactions `open_interaction` opened in this transaction and not yet written."""
    opened = session.info.get(_OPENED)
    if opened:
        session.info[_OPENED] = []
        await session.execute(insert(Interaction.__table__), [vars(interaction) for interaction in opened])


def _nothing_left_unwritten(session: Session) -> None:
    # A commit that would silently drop opened interactions is a bug: fail it loudly instead.
    if session.info.get(_OPENED):
        raise RuntimeError("interactions opened in this transaction were not written (intake.write_opened)")


event.listen(Session, "before_commit", _nothing_left_unwritten)


def _refusal(campaign: Campaign | None) -> str | None:
    if campaign is None:
        return StoredReason.no_campaign
    if not campaign.enabled:
        return StoredReason.campaign_disabled
    if not campaign.receive_emails:
        return StoredReason.not_receiving
    return None


async def enter_queue(
    session: AsyncSession, *, interaction: Interaction | NewInteraction, campaign: Campaign,
    arrived_at: datetime | None = None,
    priority: int | None = None,
) -> InteractionState:
    """Put a (new or reopened) interaction in the campaign's queue, or its backlog when the queue is full."""
    await _lock_campaign(session, campaign.id)
    interaction.campaign_id = campaign.id
    interaction.agent_id = None
    interaction.assigned_at = None
    interaction.closed_at = None
    interaction.state_reason = ""
    interaction.queued_at = arrived_at or utcnow()
    if priority is not None:
        interaction.priority = priority
    counts = _in_memory_counts(session, campaign.id)
    if counts is not None:
        if counts.get("loaded") is None:
            counts.update(loaded=True, queued=await _count(session, campaign.id, InteractionState.queued),
                          backlog=await _count(session, campaign.id, InteractionState.backlog))
        room = _room_of(campaign, counts["queued"])
        has_backlog = counts["backlog"] > 0
    else:
        await write_opened(session)  # counted below
        room = await _room(session, campaign)
        has_backlog = await _count(session, campaign.id, InteractionState.backlog, exclude=interaction.id) > 0
    previous = interaction.state  # a new interaction is `stored`: counted nowhere yet
    interaction.state = InteractionState.queued if room > 0 and not has_backlog else InteractionState.backlog
    if isinstance(interaction, NewInteraction):
        _opened(session, interaction)
    if counts is not None:
        if previous in WAITING:
            counts[previous.value] -= 1
        counts[interaction.state.value] += 1
    else:
        await session.flush()
        await write_opened(session)
    if interaction.state is InteractionState.backlog:
        await admit_backlog(session, campaign_id=campaign.id)  # routes what it admits
    else:
        _route_after_commit(session, campaign.id)
    return interaction.state


async def admit_backlog(session: AsyncSession, *, campaign_id: uuid.UUID) -> int:
    """Move backlog interactions into the queue, oldest first, while the campaign's queue has room.

    Returns how many entered. Call it whenever room may have freed (an interaction assigned,
    closed or moved away, or the campaign's maximum raised). Safe to call concurrently.
    """
    await write_opened(session)  # the backlog read below includes them
    campaign = await _lock_campaign(session, campaign_id)
    if campaign is None:
        return 0
    counts = _in_memory_counts(session, campaign_id)
    if counts is not None and counts.get("loaded"):
        room = _room_of(campaign, counts["queued"])
        if room <= 0 or counts["backlog"] <= 0:
            return 0
    else:
        counts = None
        room = await _room(session, campaign)
    if room <= 0:
        return 0
    ids = list(
        await session.scalars(
            select(Interaction.id)
            .where(Interaction.campaign_id == campaign_id, Interaction.state == InteractionState.backlog)
            .order_by(Interaction.priority.desc(), Interaction.queued_at, Interaction.created_at)
            .limit(room)
        )
    )
    if not ids:
        return 0
    await session.execute(
        update(Interaction)
        .where(Interaction.id.in_(ids), Interaction.state == InteractionState.backlog)
        .values(state=InteractionState.queued, updated_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    if counts is not None:
        counts["queued"] += len(ids)
        counts["backlog"] -= len(ids)
    opened = session.info.get(_OPENED_BY_ID, {})
    for interaction_id in ids:  # ORM objects were synchronised by the UPDATE; rows opened here are not
        if interaction_id in opened:
            opened[interaction_id].state = InteractionState.queued
    for interaction_id in ids:
        publish("interaction.queued", campaign.company_id, {"id": str(interaction_id), "campaign_id": str(campaign_id)},
                min_role="supervisor")
    _route_after_commit(session, campaign_id)
    return len(ids)


async def append_message(session: AsyncSession, *, interaction: Interaction | NewInteraction, message_id: uuid.UUID,
                         reopen: bool = True) -> None:
    """A customer's message joined `interaction` (the caller writes its row): mark it unread, maybe reopen it.

    A customer's follow-up to a closed interaction reopens it into its campaign's queue (ahead of
    new mail) unless `reopen` is false (a blacklisted sender); stored interactions stay stored (their
    mail is still kept and visible).
    """
    if isinstance(interaction, Interaction):  # a new one was opened with this message, unread
        interaction.last_message_at = utcnow()
        interaction.unread = True
    reopened = False
    if reopen and interaction.state is InteractionState.closed and interaction.campaign_id is not None:
        campaign = await session.get(Campaign, interaction.campaign_id)
        if campaign is not None and _refusal(campaign) is None:
            await enter_queue(session, interaction=interaction, campaign=campaign, priority=REOPENED_PRIORITY)
            reopened = True
    data = {"id": str(interaction.id), "message_id": str(message_id), "campaign_id": _str(interaction.campaign_id),
            "state": interaction.state.value, "reopened": reopened}
    if interaction.agent_id is not None:
        publish("interaction.message_received", interaction.company_id, data, user_ids=[interaction.agent_id])
    publish("interaction.message_received", interaction.company_id, data, min_role="supervisor")


async def queue_counts(session: AsyncSession, *, campaign_id: uuid.UUID) -> dict[str, int]:
    """{"queued": n, "backlog": m} for a campaign (supervision, tests)."""
    rows = await session.execute(
        select(Interaction.state, func.count())
        .where(Interaction.campaign_id == campaign_id, Interaction.state.in_(WAITING))
        .group_by(Interaction.state)
    )
    counts = {state.value: 0 for state in WAITING}
    counts.update({state.value: n for state, n in rows.all()})
    return counts


# --- internals ---------------------------------------------------------------------------------


async def _lock_campaign(session: AsyncSession, campaign_id: uuid.UUID) -> Campaign | None:
    locked = session.info.setdefault("postdesk.intake.locked", {})
    if campaign_id in locked:  # already locked (and so current) in this transaction
        return locked[campaign_id]
    # populate_existing: a campaign loaded earlier in this session must show the committed limit.
    campaign = await session.scalar(
        select(Campaign).where(Campaign.id == campaign_id).with_for_update().execution_options(populate_existing=True)
    )
    if campaign is not None:
        locked[campaign_id] = campaign
    return campaign


def count_queues_in_memory(session: AsyncSession) -> None:
    """From now on in this transaction, count each campaign's queue once and then keep the count here."""
    session.info.setdefault("postdesk.intake.counts", {})


def _in_memory_counts(session: AsyncSession, campaign_id: uuid.UUID) -> dict | None:
    all_counts = session.info.get("postdesk.intake.counts")
    if all_counts is None:
        return None
    return all_counts.setdefault(campaign_id, {"queued": 0, "backlog": 0})


def _room_of(campaign: Campaign, queued: int) -> int:
    if campaign.max_interactions_in_queue is None:
        return 1_000_000_000
    return campaign.max_interactions_in_queue - queued


async def _room(session: AsyncSession, campaign: Campaign) -> int:
    if campaign.max_interactions_in_queue is None:
        return 1_000_000_000
    return _room_of(campaign, await _count(session, campaign.id, InteractionState.queued))


async def _count(session: AsyncSession, campaign_id: uuid.UUID, state: InteractionState,
                 exclude: uuid.UUID | None = None) -> int:
    query = select(func.count()).where(Interaction.campaign_id == campaign_id, Interaction.state == state)
    if exclude is not None:
        query = query.where(Interaction.id != exclude)
    return int(await session.scalar(query) or 0)


async def _announce_created(session: AsyncSession, interaction: NewInteraction) -> None:
    data = {
        "id": str(interaction.id),
        "campaign_id": _str(interaction.campaign_id),
        "state": interaction.state.value,
        "reference": interaction.reference,
        "subject": interaction.subject,
        "customer_email": interaction.customer_email,
    }
    # Supervisors see every interaction; agents only those of campaigns they take.
    publish("interaction.created", interaction.company_id, data, min_role="supervisor")
    if interaction.campaign_id is not None and interaction.state in WAITING:
        from postdesk.campaigns import service as campaign_service

        # Members once per transaction: a fetched batch opens many interactions in one campaign.
        cache = session.info.setdefault("postdesk.intake.members", {})
        if interaction.campaign_id not in cache:
            system = Caller(company_id=interaction.company_id, role=Role.admin)
            members = await campaign_service.list_members(session, system, interaction.campaign_id)
            cache[interaction.campaign_id] = [m.user_id for m in members]
        agent_ids = cache[interaction.campaign_id]
        if agent_ids:
            # A supervisor who is also a member gets both events; clients dedupe on "id".
            publish("interaction.created", interaction.company_id, data, user_ids=agent_ids)


def _route_after_commit(session: AsyncSession, campaign_id: uuid.UUID) -> None:
    """One routing run per campaign per transaction (a fetched batch may queue dozens at once).

    No job id: a router already running may have read the queue before this commit.
    """
    routed = session.info.setdefault("postdesk.intake.routed", set())
    if campaign_id not in routed:
        routed.add(campaign_id)
        enqueue("routing.route_campaign", campaign_id)


def _str(value: object | None) -> str | None:
    return None if value is None else str(value)
