"""Test factories for the workspace and routing: campaigns with members through the API, and
interactions written directly as rows (what the inbound pipeline would have stored)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx

from postdesk.db import utcnow
from postdesk.interactions.models import (
    Attachment,
    Direction,
    Interaction,
    InteractionState,
    Message,
    MessageKind,
    MessageStatus,
)
from postdesk.runtime import Runtime
from postdesk.storage import content_key
from postdesk.uow import unit_of_work
from tests.campaigns.helpers import make_campaign, make_server


@dataclass
class Sample:
    interaction_id: uuid.UUID
    message_id: uuid.UUID
    message_id_header: str
    attachment_ids: list[uuid.UUID] = field(default_factory=list)


async def campaign_with_members(client: httpx.AsyncClient, company, members: list, *, server: dict | None = None,
                                **fields) -> dict:
    """A campaign whose members are `members` (accounts, or (account, weight, position) tuples)."""
    if server is None:
        await make_server(client, company, receiving=False)
    # Not receiving: these tests write interactions themselves, no fetcher polls a mailbox.
    campaign = await make_campaign(client, company, **{"receive_emails": False, **fields})
    await set_members(client, company, campaign["id"], members)
    return campaign


async def set_members(client: httpx.AsyncClient, company, campaign_id: str, members: list) -> None:
    body = []
    for index, member in enumerate(members):
        account, weight, position = member if isinstance(member, tuple) else (member, 1, index)
        body.append({"user_id": account.id, "weight": weight, "position": position})
    response = await client.put(f"/api/campaigns/{campaign_id}/members", headers=company.admin.headers,
                                json={"members": body})
    assert response.status_code == 200, response.text


async def set_presence(client: httpx.AsyncClient, account, state: str, **extra) -> httpx.Response:
    response = await client.put("/api/agents/me/presence", headers=account.headers, json={"state": state, **extra})
    assert response.status_code == 200, response.text
    return response


async def make_interaction(
    runtime: Runtime, *, company_id: str, campaign_id: str | None, customer_email: str = "carla@customer.test",
    customer_name: str = "Carla Customer", subject: str = "Where is my order?", body: str = "Hello, any news?",
    state: InteractionState = InteractionState.queued, priority: int = 0, queued_at: datetime | None = None,
    agent_id: str | None = None, attachments: list[tuple[str, str, bytes]] = (),
) -> Sample:
    """An inbound interaction with the customer's first message (and its attachments, stored as blobs)."""
    now = utcnow()
    header = f"<{uuid.uuid4().hex}@customer.test>"
    async with unit_of_work(runtime) as session:
        interaction = Interaction(
            company_id=uuid.UUID(company_id), campaign_id=uuid.UUID(campaign_id) if campaign_id else None,
            direction=Direction.inbound, state=state, customer_email=customer_email, customer_name=customer_name,
            subject=subject, priority=priority, queued_at=queued_at or now,
            agent_id=uuid.UUID(agent_id) if agent_id else None,
            assigned_at=now if agent_id else None, last_message_at=now,
        )
        session.add(interaction)
        await session.flush()
        message = Message(
            company_id=interaction.company_id, interaction_id=interaction.id, direction=Direction.inbound,
            kind=MessageKind.customer, status=MessageStatus.received, message_id_header=header,
            references=[], subject=subject, from_address=customer_email, from_name=customer_name,
            to=[{"address": "support@example.test", "name": ""}], text_body=body,
            html_body=f"<p>{body}</p>", sent_at=now - timedelta(minutes=1),
        )
        session.add(message)
        await session.flush()
        sample = Sample(interaction.id, message.id, header)
        for filename, content_type, data in attachments:
            key = await runtime.blobs.put(data)
            assert key == content_key(data)
            attachment = Attachment(company_id=interaction.company_id, message_id=message.id, filename=filename,
                                    content_type=content_type, size_bytes=len(data), storage_key=key)
            session.add(attachment)
            await session.flush()
            sample.attachment_ids.append(attachment.id)
    return sample


async def interaction_row(runtime: Runtime, interaction_id: uuid.UUID) -> Interaction:
    async with unit_of_work(runtime) as session:
        row = await session.get(Interaction, interaction_id)
        assert row is not None
        return row
