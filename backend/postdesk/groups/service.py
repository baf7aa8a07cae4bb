"""Rules for email groups: unique names, one entry per address, and attachment to campaigns for notifications."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.accounts.caller import Caller
from postdesk.campaigns import service as campaign_service
from postdesk.errors import Conflict, NotFound
from postdesk.groups.models import CampaignEmailGroup, EmailGroup, EmailGroupContact, NotificationEvent
from postdesk.groups.repository import GroupRepository
from postdesk.groups.schemas import (
    AttachedCampaign,
    ContactIn,
    ContactPublic,
    EmailGroupCreate,
    EmailGroupPublic,
    EmailGroupUpdate,
)


async def _group(repo: GroupRepository, caller: Caller, group_id: uuid.UUID) -> EmailGroup:
    group = await repo.get(caller.company_id, group_id)
    if group is None:
        raise NotFound("Email group")
    return group


async def _public(session: AsyncSession, repo: GroupRepository, caller: Caller, group: EmailGroup) -> EmailGroupPublic:
    attachments = {a.campaign_id: a for a in await repo.attachments(group.id)}
    campaigns = await campaign_service.campaigns_by_id(session, caller.company_id, list(attachments))
    return EmailGroupPublic(
        id=group.id, name=group.name, description=group.description, created_at=group.created_at,
        contacts=[ContactPublic.model_validate(c) for c in await repo.contacts(group.id)],
        campaigns=[AttachedCampaign(campaign_id=c.id, title=c.title, events=attachments[c.id].events)
                   for c in campaigns],
    )


async def list_groups(session: AsyncSession, caller: Caller, *, search: str | None, offset: int,
                      limit: int) -> tuple[list[EmailGroup], int]:
    rows, total = await GroupRepository(session).list(caller.company_id, search=search, offset=offset, limit=limit)
    return list(rows), total


async def get_group(session: AsyncSession, caller: Caller, group_id: uuid.UUID) -> EmailGroupPublic:
    repo = GroupRepository(session)
    return await _public(session, repo, caller, await _group(repo, caller, group_id))


async def create_group(session: AsyncSession, caller: Caller, data: EmailGroupCreate) -> EmailGroupPublic:
    repo = GroupRepository(session)
    if await repo.name_taken(caller.company_id, data.name):
        raise Conflict("name", "An email group with this name already exists.")
    seen: set[str] = set()
    for index, contact in enumerate(data.contacts):
        if contact.email.lower() in seen:
            raise Conflict(f"contacts.{index}.email", f"{contact.email} is listed twice.")
        seen.add(contact.email.lower())
    group = await repo.add(EmailGroup(company_id=caller.company_id, name=data.name, description=data.description))
    for contact in data.contacts:
        await repo.add(EmailGroupContact(group_id=group.id, **contact.model_dump()))
    return await _public(session, repo, caller, group)


async def update_group(session: AsyncSession, caller: Caller, group_id: uuid.UUID,
                       data: EmailGroupUpdate) -> EmailGroupPublic:
    repo = GroupRepository(session)
    group = await _group(repo, caller, group_id)
    if (data.name is not None and data.name.lower() != group.name.lower()
            and await repo.name_taken(caller.company_id, data.name, except_id=group.id)):
        raise Conflict("name", "An email group with this name already exists.")
    if data.name is not None:
        group.name = data.name
    if data.description is not None:
        group.description = data.description
    await session.flush()
    return await _public(session, repo, caller, group)


async def delete_group(session: AsyncSession, caller: Caller, group_id: uuid.UUID) -> None:
    repo = GroupRepository(session)
    group = await _group(repo, caller, group_id)
    attached = [a.campaign_id for a in await repo.attachments(group.id)]
    if attached:
        campaigns = await campaign_service.campaigns_by_id(session, caller.company_id, attached)
        raise campaign_service.still_used("This email group is still attached to", campaigns)
    await repo.delete(group)


async def add_contact(session: AsyncSession, caller: Caller, group_id: uuid.UUID, data: ContactIn) -> ContactPublic:
    repo = GroupRepository(session)
    group = await _group(repo, caller, group_id)
    if await repo.contact_email_taken(group.id, data.email):
        raise Conflict("email", "This address is already in the group.")
    return ContactPublic.model_validate(await repo.add(EmailGroupContact(group_id=group.id, **data.model_dump())))


async def remove_contact(session: AsyncSession, caller: Caller, group_id: uuid.UUID, contact_id: uuid.UUID) -> None:
    repo = GroupRepository(session)
    group = await _group(repo, caller, group_id)
    contact = await repo.contact(group.id, contact_id)
    if contact is None:
        raise NotFound("Contact")
    await repo.delete(contact)


async def attach(session: AsyncSession, caller: Caller, group_id: uuid.UUID, campaign_id: uuid.UUID,
                 events: list[NotificationEvent]) -> EmailGroupPublic:
    repo = GroupRepository(session)
    group = await _group(repo, caller, group_id)
    campaign = await campaign_service.get_campaign(session, caller, campaign_id)
    attachment = await repo.attachment(group.id, campaign.id)
    values = [e.value for e in dict.fromkeys(events)]
    if attachment is None:
        await repo.add(CampaignEmailGroup(campaign_id=campaign.id, group_id=group.id, events=values))
    else:
        attachment.events = values
        await session.flush()
    return await _public(session, repo, caller, group)


async def detach(session: AsyncSession, caller: Caller, group_id: uuid.UUID, campaign_id: uuid.UUID) -> None:
    repo = GroupRepository(session)
    group = await _group(repo, caller, group_id)
    attachment = await repo.attachment(group.id, campaign_id)
    if attachment is None:
        raise NotFound("Attachment")
    await repo.delete(attachment)


async def recipients(session: AsyncSession, company_id: uuid.UUID, campaign_id: uuid.UUID,
                     event: NotificationEvent) -> list[EmailGroupContact]:
    """Every contact of the groups attached to the campaign for this event (for notifications)."""
    repo = GroupRepository(session)
    contacts: dict[str, EmailGroupContact] = {}
    for attachment in await repo.attachments_of_campaign(campaign_id):
        group = await repo.get(company_id, attachment.group_id)
        if group is None or event.value not in attachment.events:
            continue
        for contact in await repo.contacts(group.id):
            contacts.setdefault(contact.email.lower(), contact)
    return list(contacts.values())
