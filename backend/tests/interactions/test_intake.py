"""Intake writes the interactions it opens as rows at once (a fetched batch opens hundreds): none may be
lost because a caller forgot to write them, and the queue rules see them when they must."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from postdesk.campaigns.models import Campaign
from postdesk.interactions import intake
from postdesk.interactions.models import Interaction, InteractionState
from postdesk.uow import unit_of_work
from tests.interactions.factories import campaign_with_members


async def _stored(runtime, company_id: uuid.UUID) -> dict[str, InteractionState]:
    async with runtime.session_maker() as session:
        rows = await session.execute(select(Interaction.customer_email, Interaction.state)
                                     .where(Interaction.company_id == company_id))
        return dict(rows.all())


async def test_opened_interactions_are_written_with_their_queue_state(client, runtime, company, make_user) -> None:
    agent = await make_user(company)
    campaign = await campaign_with_members(client, company, [agent], max_interactions_in_queue=1)
    async with unit_of_work(runtime) as session:
        full = await session.get(Campaign, uuid.UUID(campaign["id"]))
        full.receive_emails = True  # as if its server received mail (no fetcher needed here)
        await session.flush()
        first = await intake.open_interaction(session, company_id=full.company_id, campaign=full,
                                              customer_email="first@customer.test")
        second = await intake.open_interaction(session, company_id=full.company_id, campaign=full,
                                               customer_email="second@customer.test")
        lost = await intake.open_interaction(session, company_id=full.company_id, campaign=None,
                                             customer_email="nowhere@customer.test")
        assert (first.state, second.state, lost.state) == (InteractionState.queued, InteractionState.backlog,
                                                           InteractionState.stored)
        await intake.write_opened(session)

    assert await _stored(runtime, full.company_id) == {
        "first@customer.test": InteractionState.queued, "second@customer.test": InteractionState.backlog,
        "nowhere@customer.test": InteractionState.stored}


async def test_a_commit_that_would_drop_opened_interactions_fails(runtime, company) -> None:
    company_id = uuid.UUID(company.id)
    with pytest.raises(RuntimeError, match="not written"):
        async with unit_of_work(runtime) as session:
            await intake.open_interaction(session, company_id=company_id, campaign=None,
                                          customer_email="forgotten@customer.test")
    async with runtime.session_maker() as session:
        assert await session.scalar(select(func.count()).select_from(Interaction)
                                    .where(Interaction.company_id == company_id)) == 0
