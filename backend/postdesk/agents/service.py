"""Presence rules: four states, breaks with a reason from the company's list, the time of the last
change kept for supervisors; every change that may free or take an agent asks the router to run."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.accounts import service as accounts_service
from postdesk.accounts.caller import Caller
from postdesk.accounts.models import Role
from postdesk.agents.models import AgentPresence, BreakReason, PresenceState
from postdesk.agents.repository import AgentRepository
from postdesk.agents.schemas import (
    AgentPresenceRow,
    BreakReasonCreate,
    BreakReasonUpdate,
    PresencePublic,
    PresenceUpdate,
    WorkspaceCampaign,
    WorkspaceSignature,
    WorkspaceTemplate,
)
from postdesk.campaigns import service as campaign_service
from postdesk.campaigns.models import Campaign
from postdesk.db import utcnow
from postdesk.errors import Conflict, Forbidden, InvalidFields, NotFound, UnknownReference
from postdesk.templates import service as template_service
from postdesk.templates.models import TemplateKind
from postdesk.uow import enqueue, publish


def user_of(caller: Caller) -> uuid.UUID:
    """The signed-in user behind the caller; integrations' API keys have no presence or tray."""
    if caller.user_id is None:
        raise Forbidden("Only a signed-in user has a presence and a tray; API keys do not.")
    return caller.user_id


def _public(user_id: uuid.UUID, presence: AgentPresence | None, now: datetime) -> PresencePublic:
    if presence is None:
        return PresencePublic(user_id=user_id, state=PresenceState.offline, break_reason_id=None, break_reason="",
                              changed_at=None, seconds_since_change=None)
    return PresencePublic(user_id=user_id, state=presence.state, break_reason_id=presence.break_reason_id,
                          break_reason=presence.break_reason, changed_at=presence.changed_at,
                          seconds_since_change=max(0, int((now - presence.changed_at).total_seconds())))


async def my_presence(session: AsyncSession, caller: Caller) -> PresencePublic:
    user_id = user_of(caller)
    return _public(user_id, await AgentRepository(session).presence(user_id), utcnow())


async def set_presence(session: AsyncSession, caller: Caller, data: PresenceUpdate) -> PresencePublic:
    user_id = user_of(caller)
    repo = AgentRepository(session)
    reason: BreakReason | None = None
    if data.state is PresenceState.on_break:
        if data.break_reason_id is not None:
            reason = await repo.reason(caller.company_id, data.break_reason_id)
            if reason is None:
                raise UnknownReference("break_reason_id", "Break reason")
            if not reason.active:
                raise InvalidFields([("break_reason_id", f"The break reason “{reason.name}” is no longer offered.")])
        elif await repo.has_active_reasons(caller.company_id):
            raise InvalidFields([("break_reason_id", "Choose a break reason from the company's list.")])
    elif data.break_reason_id is not None:
        raise InvalidFields([("break_reason_id", "A break reason only goes with the state “break”.")])
    presence = await repo.presence(user_id, lock=True)
    if presence is None:
        presence = await repo.add(AgentPresence(user_id=user_id, company_id=caller.company_id,
                                                state=PresenceState.offline, changed_at=utcnow()))
    now = utcnow()
    new_reason_id = reason.id if reason else None
    if presence.state != data.state or presence.break_reason_id != new_reason_id:
        presence.state = data.state
        presence.break_reason_id = new_reason_id
        presence.break_reason = reason.name if reason else ""
        presence.changed_at = now
        await session.flush()
        await _announce(session, caller.company_id, user_id, presence, now)
    return _public(user_id, presence, now)


async def _announce(session: AsyncSession, company_id: uuid.UUID, user_id: uuid.UUID, presence: AgentPresence,
                    now: datetime) -> None:
    data = _public(user_id, presence, now).model_dump(mode="json")
    publish("agent.presence", company_id, data, min_role="supervisor")
    publish("agent.presence", company_id, data, user_ids=[user_id])  # the agent's other tabs
    # Available: the router may give work; any other state: ringall offers to this agent are withdrawn.
    for campaign_id in await AgentRepository(session).campaign_ids_of(user_id):
        enqueue("routing.route_campaign", campaign_id)


async def enter_workspace(session: AsyncSession, caller: Caller) -> PresencePublic:
    return await set_presence(session, caller, PresenceUpdate(state=PresenceState.available))


async def leave_workspace(session: AsyncSession, caller: Caller) -> PresencePublic:
    return await set_presence(session, caller, PresenceUpdate(state=PresenceState.offline))


async def list_presence(session: AsyncSession, caller: Caller) -> list[AgentPresenceRow]:
    repo = AgentRepository(session)
    users = await repo.company_users(caller.company_id)
    presences = await repo.presences(caller.company_id)
    loads = await repo.assigned_counts([u.id for u in users])
    now = utcnow()
    return [AgentPresenceRow(**_public(u.id, presences.get(u.id), now).model_dump(), name=u.name, email=u.email,
                             role=u.role.value, assigned_interactions=loads.get(u.id, 0)) for u in users]


async def available_agents(session: AsyncSession, user_ids: Sequence[uuid.UUID], *, lock: bool) -> list[uuid.UUID]:
    """Routing's question: which of these users are available now (rows locked when `lock`)."""
    return await AgentRepository(session).available(user_ids, lock=lock)


async def assigned_counts(session: AsyncSession, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """How many interactions each agent holds (state assigned), across campaigns."""
    return await AgentRepository(session).assigned_counts(user_ids)


async def lock_presence(session: AsyncSession, user_id: uuid.UUID) -> AgentPresence | None:
    return await AgentRepository(session).presence(user_id, lock=True)


# The campaigns an agent works, with what the composer needs


async def my_campaigns(session: AsyncSession, caller: Caller) -> list[WorkspaceCampaign]:
    """Members see their campaigns; supervisors and admins every campaign of the company."""
    sees_all = caller.role.at_least(Role.supervisor)
    member_id = None if sees_all else user_of(caller)
    campaigns = await campaign_service.campaigns_worked_by(session, caller.company_id, member_id)
    agent = (await accounts_service.get_user(session, caller, caller.user_id)).name if caller.user_id else ""
    return [await _workspace_campaign(session, caller, campaign, agent) for campaign in campaigns]


async def _workspace_campaign(session: AsyncSession, caller: Caller, campaign: Campaign,
                              agent: str) -> WorkspaceCampaign:
    available = await template_service.available_to_campaign(session, caller.company_id, campaign.id)
    # Only reply templates: the composer refuses any other kind.
    templates = [WorkspaceTemplate(id=t.id, name=t.name, kind=t.kind, subject=t.subject)
                 for t in available if t.kind is TemplateKind.reply]
    signature = None
    if campaign.signature_template_id is not None:
        template = await template_service.get_template(session, caller, campaign.signature_template_id)
        # The values a send knows before any customer is chosen; customer fields stay empty in this preview.
        rendered = template_service.render(template, {"campaign": campaign.title, "agent_name": agent, "agent": agent})
        signature = WorkspaceSignature(template_id=template.id, name=template.name, html_body=rendered.html_body,
                                       text_body=rendered.text_body)
    return WorkspaceCampaign(
        id=campaign.id, title=campaign.title, enabled=campaign.enabled, allow_free_format=campaign.allow_free_format,
        require_address_confirmation=campaign.require_address_confirmation, allow_drafts=campaign.allow_drafts,
        allow_put_back=campaign.allow_put_back, allow_move=campaign.allow_move, templates=templates,
        signature=signature,
    )


# Break reasons


async def list_reasons(session: AsyncSession, caller: Caller) -> list[BreakReason]:
    return list(await AgentRepository(session).reasons(caller.company_id))


async def _reason(repo: AgentRepository, caller: Caller, reason_id: uuid.UUID) -> BreakReason:
    reason = await repo.reason(caller.company_id, reason_id)
    if reason is None:
        raise NotFound("Break reason")
    return reason


async def create_reason(session: AsyncSession, caller: Caller, data: BreakReasonCreate) -> BreakReason:
    repo = AgentRepository(session)
    if await repo.reason_name_taken(caller.company_id, data.name):
        raise Conflict("name", "A break reason with this name already exists.")
    reason = await repo.add(BreakReason(company_id=caller.company_id, name=data.name, active=True))
    publish("break_reason.changed", caller.company_id, {"id": str(reason.id)})
    return reason


async def update_reason(session: AsyncSession, caller: Caller, reason_id: uuid.UUID,
                        data: BreakReasonUpdate) -> BreakReason:
    repo = AgentRepository(session)
    reason = await _reason(repo, caller, reason_id)
    renamed = data.name is not None and data.name.lower() != reason.name.lower()
    if renamed and await repo.reason_name_taken(caller.company_id, data.name or "", except_id=reason.id):
        raise Conflict("name", "A break reason with this name already exists.")
    if data.name is not None:
        reason.name = data.name
    if data.active is not None:
        reason.active = data.active
    await session.flush()
    publish("break_reason.changed", caller.company_id, {"id": str(reason.id)})
    return reason


async def delete_reason(session: AsyncSession, caller: Caller, reason_id: uuid.UUID) -> None:
    repo = AgentRepository(session)
    reason = await _reason(repo, caller, reason_id)
    # Agents on this break keep its name (AgentPresence.break_reason); the link is cleared.
    await repo.delete(reason)
    publish("break_reason.changed", caller.company_id, {"id": str(reason_id), "deleted": True})
