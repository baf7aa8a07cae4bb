"""The agent workspace: tray, conversation, reply / forward / new email, drafts, put back, move,
close, search, and ringall's accept.

Rules enforced here, not only in the UI: only the assigned agent (or a supervisor) acts on an
interaction; every change carries the version the agent loaded (409 when someone else changed it
meanwhile); the campaign's flags (free format, address confirmation, drafts, put back, move)
answer 403 `campaign_rule` or 422 naming the field. Outbound mail is written as Message rows in
state `queued` and handed to delivery, which sends it after the commit.
"""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.accounts.caller import Caller
from postdesk.accounts.models import Role
from postdesk.agents import service as agent_service
from postdesk.campaigns import service as campaign_service
from postdesk.campaigns.models import Campaign
from postdesk.db import utcnow
from postdesk.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, UnknownReference
from postdesk.interactions import intake
from postdesk.interactions.composing import (
    agent_name,
    append_signature,
    checked_recipients,
    compose_body,
    deliver,
    outbound_message,
    prefixed_subject,
    quoted_history,
    reply_templates,
    template_values,
    text_to_html,
)
from postdesk.interactions.models import (
    Attachment,
    Direction,
    Interaction,
    InteractionState,
    Message,
    MessageKind,
    MessageStatus,
)
from postdesk.interactions.repository import InteractionRepository
from postdesk.interactions.schemas import (
    AddressPublic,
    AttachmentPublic,
    CampaignRules,
    ClientInfo,
    CloseIn,
    Conversation,
    DraftIn,
    DraftPublic,
    ForwardIn,
    InteractionSummary,
    MessagePublic,
    MoveIn,
    NewInteractionIn,
    ReplyIn,
    SentPublic,
    TemplateChoice,
    Tray,
    VersionIn,
)
from postdesk.routing import service as routing_service
from postdesk.settings import Settings
from postdesk.storage import BlobNotFound, BlobStore
from postdesk.templates.models import Template
from postdesk.uow import enqueue, publish


class CampaignRule(DomainError):
    """The campaign does not allow this (drafts, put back, move...)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message=message, field=field, status_code=403, code="campaign_rule")


# Reading


def _summary(interaction: Interaction, titles: dict[uuid.UUID, str], now: datetime) -> InteractionSummary:
    started = interaction.queued_at or interaction.created_at
    return InteractionSummary(
        id=interaction.id, reference=interaction.reference, campaign_id=interaction.campaign_id,
        campaign_name=titles.get(interaction.campaign_id) if interaction.campaign_id else None,
        direction=interaction.direction, state=interaction.state, customer_email=interaction.customer_email,
        customer_name=interaction.customer_name, subject=interaction.subject, priority=interaction.priority,
        agent_id=interaction.agent_id, unread=interaction.unread, queued_at=interaction.queued_at,
        assigned_at=interaction.assigned_at, last_message_at=interaction.last_message_at,
        closed_at=interaction.closed_at, disposition=interaction.disposition, version=interaction.version,
        waiting_seconds=max(0, int((now - started).total_seconds())) if started else 0,
    )


async def _summaries(repo: InteractionRepository, interactions: list[Interaction]) -> list[InteractionSummary]:
    titles = await repo.campaign_titles([i.campaign_id for i in interactions])
    now = utcnow()
    return [_summary(i, titles, now) for i in interactions]


async def summary(session: AsyncSession, interaction: Interaction) -> InteractionSummary:
    return (await _summaries(InteractionRepository(session), [interaction]))[0]


def _addresses(values: list[dict[str, str]]) -> list[AddressPublic]:
    return [AddressPublic(address=v.get("address", ""), name=v.get("name", "")) for v in values or []]


def _message_public(message: Message, attachments: list[Attachment]) -> MessagePublic:
    return MessagePublic(
        id=message.id, direction=message.direction, kind=message.kind, status=message.status,
        subject=message.subject, from_address=message.from_address, from_name=message.from_name,
        to=_addresses(message.to), cc=_addresses(message.cc), bcc=_addresses(message.bcc),
        text_body=message.text_body, html_body=message.html_body, message_id_header=message.message_id_header,
        in_reply_to=message.in_reply_to, author_id=message.author_id, sent_at=message.sent_at,
        created_at=message.created_at, last_error=message.last_error,
        attachments=[AttachmentPublic.model_validate(a) for a in attachments],
    )


def _draft_public(draft: Message) -> DraftPublic:
    extra = draft.extra or {}
    template_id = extra.get("template_id")
    forward_id = extra.get("forward_message_id")
    return DraftPublic(
        id=draft.id, kind=draft.kind, to=extra.get("to", ""), cc=extra.get("cc", ""), bcc=extra.get("bcc", ""),
        subject=draft.subject, html_body=draft.html_body, text_body=draft.text_body,
        template_id=uuid.UUID(template_id) if template_id else None, quote_history=bool(extra.get("quote_history")),
        forward_message_id=uuid.UUID(forward_id) if forward_id else None, updated_at=draft.updated_at,
    )


def _is_supervisor(caller: Caller) -> bool:
    return caller.role.at_least(Role.supervisor)


async def _load(repo: InteractionRepository, caller: Caller, interaction_id: uuid.UUID) -> Interaction:
    interaction = await repo.get(caller.company_id, interaction_id)
    if interaction is None:
        raise NotFound("Interaction")
    return interaction


async def _visible(repo: InteractionRepository, caller: Caller, interaction_id: uuid.UUID) -> Interaction:
    """Supervisors see the company's interactions; agents those of their campaigns, their own and offers."""
    interaction = await _load(repo, caller, interaction_id)
    if _is_supervisor(caller):
        return interaction
    user_id = agent_service.user_of(caller)
    if interaction.agent_id == user_id or await repo.is_offered(interaction.id, user_id):
        return interaction
    if interaction.campaign_id is not None and await repo.is_member(interaction.campaign_id, user_id):
        return interaction
    raise NotFound("Interaction")  # not 403: agents don't learn what exists outside their campaigns


async def _actionable(repo: InteractionRepository, caller: Caller, interaction_id: uuid.UUID) -> Interaction:
    """Only the agent holding the interaction, or a supervisor, may act on it."""
    interaction = await _visible(repo, caller, interaction_id)
    if _is_supervisor(caller):
        return interaction
    if interaction.agent_id != caller.user_id or interaction.state is not InteractionState.assigned:
        raise Forbidden("Only the agent this interaction is assigned to, or a supervisor, can do this.")
    return interaction


async def _check_version(repo: InteractionRepository, caller: Caller, interaction: Interaction,
                         expected: int) -> None:
    if not await repo.bump_version(caller.company_id, interaction.id, expected):
        current = await repo.get(caller.company_id, interaction.id)
        raise Conflict("expected_version",
                       "This interaction changed since you loaded it (a new message or another agent's action); "
                       "reload it before going on.", current_version=current.version if current else None)
    interaction.version = expected + 1


async def _campaign_of(session: AsyncSession, caller: Caller, interaction: Interaction) -> Campaign:
    if interaction.campaign_id is None:
        raise Conflict(None, "This interaction has no campaign; move it to one first.")
    return await campaign_service.get_campaign(session, caller, interaction.campaign_id)


def _rules(campaign: Campaign | None) -> CampaignRules | None:
    if campaign is None:
        return None
    return CampaignRules(allow_free_format=campaign.allow_free_format,
                         require_address_confirmation=campaign.require_address_confirmation,
                         allow_put_back=campaign.allow_put_back, allow_move=campaign.allow_move,
                         allow_drafts=campaign.allow_drafts, qualification_enabled=campaign.qualification_enabled)


async def conversation(session: AsyncSession, caller: Caller, interaction_id: uuid.UUID) -> Conversation:
    """The whole conversation; opening it marks it read for the agent holding it."""
    repo = InteractionRepository(session)
    interaction = await _visible(repo, caller, interaction_id)
    if caller.user_id is not None and interaction.agent_id == caller.user_id and interaction.unread:
        await repo.mark_read(interaction.id)
        interaction.unread = False
        publish("interaction.read", caller.company_id, {"id": str(interaction.id)}, user_ids=[caller.user_id])
    messages = list(await repo.messages(caller.company_id, interaction.id))
    attachments = await repo.attachments(caller.company_id, [m.id for m in messages])
    by_message: dict[uuid.UUID, list[Attachment]] = {}
    for attachment in attachments:
        by_message.setdefault(attachment.message_id, []).append(attachment)
    campaign = None
    templates: list[Template] = []
    if interaction.campaign_id is not None:
        campaign = await campaign_service.get_campaign(session, caller, interaction.campaign_id)
        templates = await reply_templates(session, caller.company_id, campaign.id)
    drafts = await repo.drafts(caller.company_id, interaction.id, caller.user_id) if caller.user_id else []
    info = await summary(session, interaction)
    return Conversation(
        interaction=info,
        client=ClientInfo(campaign_name=info.campaign_name, client_email=interaction.customer_email,
                          client_name=interaction.customer_name),
        messages=[_message_public(m, by_message.get(m.id, [])) for m in messages],
        drafts=[_draft_public(d) for d in drafts],
        rules=_rules(campaign),
        templates=[TemplateChoice(id=t.id, name=t.name, subject=t.subject) for t in templates],
    )


async def tray(session: AsyncSession, caller: Caller) -> Tray:
    user_id = agent_service.user_of(caller)
    repo = InteractionRepository(session)
    mine = list(await repo.tray(caller.company_id, user_id))
    offered = list(await repo.offered_to(caller.company_id, user_id))
    return Tray(items=await _summaries(repo, mine), offers=await _summaries(repo, offered))


async def search(
    session: AsyncSession, caller: Caller, *, q: str | None, campaign_id: uuid.UUID | None,
    state: InteractionState | None, agent_id: uuid.UUID | None, customer_email: str | None, offset: int, limit: int,
) -> tuple[list[InteractionSummary], int]:
    repo = InteractionRepository(session)
    visible_to = None if _is_supervisor(caller) else agent_service.user_of(caller)
    rows, total = await repo.search(caller.company_id, visible_to_agent=visible_to, q=q, campaign_id=campaign_id,
                                    state=state, agent_id=agent_id, customer_email=customer_email, offset=offset,
                                    limit=limit)
    return await _summaries(repo, list(rows)), total


SAFE_CONTENT_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf",
                                "text/plain", "text/csv"})


@dataclass(frozen=True)
class Download:
    filename: str
    content_type: str
    data: bytes


async def download(session: AsyncSession, caller: Caller, interaction_id: uuid.UUID, attachment_id: uuid.UUID,
                   *, blobs: BlobStore) -> Download:
    repo = InteractionRepository(session)
    interaction = await _visible(repo, caller, interaction_id)
    attachment = await repo.attachment(caller.company_id, interaction.id, attachment_id)
    if attachment is None:
        raise NotFound("Attachment")
    try:
        data = await blobs.get(attachment.storage_key)
    except BlobNotFound:
        raise NotFound("Attachment content") from None
    # Anything a browser could run (HTML, SVG, scripts) is served as opaque bytes.
    content_type = attachment.content_type.lower() if attachment.content_type.lower() in SAFE_CONTENT_TYPES \
        else "application/octet-stream"
    return Download(filename=attachment.filename or "attachment", content_type=content_type, data=data)


# Composing outbound mail (the pieces live in composing.py)


async def _sent(session: AsyncSession, caller: Caller, interaction: Interaction, message: Message,
                attachments: list[Attachment]) -> SentPublic:
    interaction.last_message_at = utcnow()
    await session.flush()
    data = {"id": str(interaction.id), "message_id": str(message.id), "kind": message.kind.value,
            "version": interaction.version}
    _changed(interaction, "interaction.message_sent", data)
    return SentPublic(interaction=await summary(session, interaction), message=_message_public(message, attachments))


def _changed(interaction: Interaction, event: str, data: dict[str, object]) -> None:
    """Every agent action is published: to the agent's tabs and to supervisors."""
    if interaction.agent_id is not None:
        publish(event, interaction.company_id, data, user_ids=[interaction.agent_id])
    publish(event, interaction.company_id, data, min_role="supervisor")


async def _use_draft(repo: InteractionRepository, caller: Caller, interaction: Interaction,
                     draft_id: uuid.UUID | None) -> None:
    if draft_id is None:
        return
    draft = await repo.message(caller.company_id, interaction.id, draft_id)
    if draft is None or draft.status is not MessageStatus.draft or draft.author_id != caller.user_id:
        raise UnknownReference("draft_id", "Draft")
    await repo.remove_draft(draft.id)


def _customer_messages(messages: list[Message]) -> list[Message]:
    return [m for m in messages if m.direction is Direction.inbound]


async def reply(session: AsyncSession, caller: Caller, interaction_id: uuid.UUID, data: ReplyIn, *,
                settings: Settings) -> SentPublic:
    repo = InteractionRepository(session)
    interaction = await _actionable(repo, caller, interaction_id)
    campaign = await _campaign_of(session, caller, interaction)
    history = list(await repo.messages(caller.company_id, interaction.id))
    last_customer = next(iter(reversed(_customer_messages(history))), None)
    default_to = (last_customer.reply_to or last_customer.from_address) if last_customer else interaction.customer_email
    to, cc, bcc = await checked_recipients(session, caller, campaign, data, data.to if data.to else default_to)
    values = template_values(interaction, campaign, await agent_name(session, caller), data.variables,
                     interaction.customer_email, interaction.customer_name)
    body = await compose_body(session, caller, campaign, data, values, template_required=True)
    await append_signature(session, caller, campaign, body, values)
    if data.quote_history and history:
        quoted_text, quoted_html = quoted_history(history)
        body.text = f"{body.text.rstrip()}\n\n{quoted_text}"
        body.html = f"{body.html}\n{quoted_html}"
    await _check_version(repo, caller, interaction, data.expected_version)
    await _use_draft(repo, caller, interaction, data.draft_id)
    in_reply_to = last_customer.message_id_header if last_customer else None
    references = [*(last_customer.references or []), in_reply_to] if last_customer and in_reply_to else []
    subject = data.subject or prefixed_subject("Re:", (last_customer.subject if last_customer else "") or interaction.subject)
    message = await outbound_message(session, caller, interaction=interaction, campaign=campaign, kind=MessageKind.reply,
                              subject=subject, body=body, to=to, cc=cc, bcc=bcc, in_reply_to=in_reply_to,
                              references=references, settings=settings)
    await deliver(session, message)
    return await _sent(session, caller, interaction, message, [])


async def forward(session: AsyncSession, caller: Caller, interaction_id: uuid.UUID, data: ForwardIn, *,
                  settings: Settings) -> SentPublic:
    """Forward a message to any number of addresses; its attachments go along (same stored bytes)."""
    repo = InteractionRepository(session)
    interaction = await _actionable(repo, caller, interaction_id)
    campaign = await _campaign_of(session, caller, interaction)
    history = list(await repo.messages(caller.company_id, interaction.id))
    if data.message_id is not None:
        original = next((m for m in history if m.id == data.message_id), None)
        if original is None:
            raise UnknownReference("message_id", "Message")
    else:
        original = next(iter(reversed(_customer_messages(history))), None) or (history[-1] if history else None)
    if original is None:
        raise Invalid("message_id", "This interaction has no message to forward.")
    to, cc, bcc = await checked_recipients(session, caller, campaign, data, data.to)
    values = template_values(interaction, campaign, await agent_name(session, caller), data.variables,
                     interaction.customer_email, interaction.customer_name)
    body = await compose_body(session, caller, campaign, data, values, template_required=False)
    await append_signature(session, caller, campaign, body, values)
    when = (original.sent_at or original.created_at).strftime("%Y-%m-%d %H:%M UTC")
    sender = f"{original.from_name} <{original.from_address}>" if original.from_name else original.from_address
    recipients = ", ".join(a.get("address", "") for a in original.to or [])
    header = (f"---------- Forwarded message ----------\nFrom: {sender}\nDate: {when}\n"
              f"Subject: {original.subject}\nTo: {recipients}")
    body.text = f"{body.text.rstrip()}\n\n{header}\n\n{original.text_body}".lstrip()
    body.html = (f"{body.html}\n<p>{html.escape(header).replace(chr(10), '<br>')}</p>\n"
                 f"<div>{original.html_body or text_to_html(original.text_body)}</div>")
    await _check_version(repo, caller, interaction, data.expected_version)
    await _use_draft(repo, caller, interaction, data.draft_id)
    message = await outbound_message(session, caller, interaction=interaction, campaign=campaign, kind=MessageKind.forward,
                              subject=data.subject or prefixed_subject("Fwd:", original.subject or interaction.subject),
                              body=body, to=to, cc=cc, bcc=bcc, in_reply_to=None, references=[], settings=settings)
    copies = [Attachment(company_id=a.company_id, message_id=message.id, filename=a.filename,
                         content_type=a.content_type, size_bytes=a.size_bytes, storage_key=a.storage_key,
                         content_id=a.content_id, inline=a.inline, sha256=a.sha256)
              for a in await repo.attachments(caller.company_id, [original.id])]
    for copy in copies:
        await repo.add(copy)
    await deliver(session, message)
    return await _sent(session, caller, interaction, message, copies)


async def start_interaction(session: AsyncSession, caller: Caller, data: NewInteractionIn, *,
                            settings: Settings) -> SentPublic:
    """A new outbound email from a campaign the agent belongs to; it lands in the agent's tray."""
    user_id = agent_service.user_of(caller)
    repo = InteractionRepository(session)
    try:
        campaign = await campaign_service.get_campaign(session, caller, data.campaign_id)
    except NotFound:
        raise UnknownReference("campaign_id", "Campaign") from None
    if not _is_supervisor(caller) and not await repo.is_member(campaign.id, user_id):
        raise Invalid("campaign_id", f"You are not a member of the campaign “{campaign.title}”.")
    if not campaign.enabled:
        raise Invalid("campaign_id", f"The campaign “{campaign.title}” is disabled.")
    to, cc, bcc = await checked_recipients(session, caller, campaign, data, data.to)
    customer = to[0]
    customer_name = data.customer_name or customer.name
    values = template_values(None, campaign, await agent_name(session, caller), data.variables, customer.address,
                     customer_name)
    body = await compose_body(session, caller, campaign, data, values, template_required=True)
    subject = data.subject or body.subject
    if not subject:
        raise Invalid("subject", "A subject is needed.")
    await append_signature(session, caller, campaign, body, values)
    now = utcnow()
    interaction = await repo.add(Interaction(
        company_id=caller.company_id, campaign_id=campaign.id, direction=Direction.outbound,
        state=InteractionState.assigned, customer_email=customer.address, customer_name=customer_name[:200],
        subject=subject, agent_id=user_id, assigned_at=now, unread=False, last_message_at=now, version=1,
    ))
    message = await outbound_message(session, caller, interaction=interaction, campaign=campaign, kind=MessageKind.new,
                              subject=subject, body=body, to=to, cc=cc, bcc=bcc, in_reply_to=None, references=[],
                              settings=settings)
    await deliver(session, message)
    _changed(interaction, "interaction.created", {"id": str(interaction.id), "campaign_id": str(campaign.id),
                                                  "state": interaction.state.value})
    return await _sent(session, caller, interaction, message, [])


# Drafts


async def _draft_campaign(session: AsyncSession, repo: InteractionRepository, caller: Caller,
                          interaction_id: uuid.UUID) -> tuple[Interaction, Campaign]:
    interaction = await _actionable(repo, caller, interaction_id)
    agent_service.user_of(caller)
    campaign = await _campaign_of(session, caller, interaction)
    if not campaign.allow_drafts:
        raise CampaignRule(f"The campaign “{campaign.title}” does not allow saving drafts.")
    return interaction, campaign


def _fill_draft(draft: Message, data: DraftIn) -> None:
    draft.kind = MessageKind(data.kind)
    draft.subject = data.subject
    draft.html_body = data.html_body
    draft.text_body = data.text_body
    draft.extra = {"to": data.to, "cc": data.cc, "bcc": data.bcc, "quote_history": data.quote_history,
                   "template_id": str(data.template_id) if data.template_id else None,
                   "forward_message_id": str(data.forward_message_id) if data.forward_message_id else None}
    draft.updated_at = utcnow()


async def list_drafts(session: AsyncSession, caller: Caller, interaction_id: uuid.UUID) -> list[DraftPublic]:
    repo = InteractionRepository(session)
    interaction = await _visible(repo, caller, interaction_id)
    user_id = agent_service.user_of(caller)
    return [_draft_public(d) for d in await repo.drafts(caller.company_id, interaction.id, user_id)]


async def save_draft(session: AsyncSession, caller: Caller, interaction_id: uuid.UUID, data: DraftIn) -> DraftPublic:
    repo = InteractionRepository(session)
    interaction, _ = await _draft_campaign(session, repo, caller, interaction_id)
    draft = Message(company_id=caller.company_id, interaction_id=interaction.id, direction=Direction.outbound,
                    kind=MessageKind.reply, status=MessageStatus.draft, author_id=caller.user_id)
    _fill_draft(draft, data)
    await repo.add(draft)
    return _draft_public(draft)


async def _my_draft(repo: InteractionRepository, caller: Caller, interaction: Interaction,
                    draft_id: uuid.UUID) -> Message:
    draft = await repo.message(caller.company_id, interaction.id, draft_id)
    if draft is None or draft.status is not MessageStatus.draft or draft.author_id != caller.user_id:
        raise NotFound("Draft")
    return draft


async def update_draft(session: AsyncSession, caller: Caller, interaction_id: uuid.UUID, draft_id: uuid.UUID,
                       data: DraftIn) -> DraftPublic:
    repo = InteractionRepository(session)
    interaction, _ = await _draft_campaign(session, repo, caller, interaction_id)
    draft = await _my_draft(repo, caller, interaction, draft_id)
    _fill_draft(draft, data)
    await session.flush()
    return _draft_public(draft)


async def delete_draft(session: AsyncSession, caller: Caller, interaction_id: uuid.UUID, draft_id: uuid.UUID) -> None:
    repo = InteractionRepository(session)
    interaction = await _visible(repo, caller, interaction_id)
    draft = await _my_draft(repo, caller, interaction, draft_id)
    await repo.delete(draft)


# Queue moves and closing


async def put_back(session: AsyncSession, caller: Caller, interaction_id: uuid.UUID, data: VersionIn) -> InteractionSummary:
    """Back to its campaign's queue, keeping its place by age (it waited already)."""
    repo = InteractionRepository(session)
    interaction = await _actionable(repo, caller, interaction_id)
    if interaction.state is not InteractionState.assigned:
        raise Conflict(None, "Only an interaction in an agent's tray can be put back.")
    campaign = await _campaign_of(session, caller, interaction)
    if not campaign.allow_put_back:
        raise CampaignRule(f"The campaign “{campaign.title}” does not allow putting interactions back in the queue.")
    await _check_version(repo, caller, interaction, data.expected_version)
    previous_agent = interaction.agent_id
    await intake.enter_queue(session, interaction=interaction, campaign=campaign,
                             arrived_at=interaction.queued_at or interaction.created_at)
    _changed(interaction, "interaction.put_back", {"id": str(interaction.id), "campaign_id": str(campaign.id)})
    if previous_agent is not None:
        publish("interaction.removed", caller.company_id, {"id": str(interaction.id)}, user_ids=[previous_agent])
    return await summary(session, interaction)


async def move(session: AsyncSession, caller: Caller, interaction_id: uuid.UUID, data: MoveIn) -> InteractionSummary:
    repo = InteractionRepository(session)
    interaction = await _actionable(repo, caller, interaction_id)
    if interaction.state is InteractionState.closed:
        raise Conflict(None, "A closed interaction cannot be moved.")
    campaign = await _campaign_of(session, caller, interaction)
    if not campaign.allow_move:
        raise CampaignRule(f"The campaign “{campaign.title}” does not allow moving interactions to another campaign.")
    try:
        target = await campaign_service.get_campaign(session, caller, data.campaign_id)
    except NotFound:
        raise UnknownReference("campaign_id", "Campaign") from None
    if target.id == campaign.id:
        raise Invalid("campaign_id", "The interaction is already in this campaign.")
    if not target.enabled:
        raise Invalid("campaign_id", f"The campaign “{target.title}” is disabled.")
    await _check_version(repo, caller, interaction, data.expected_version)
    previous_agent = interaction.agent_id
    await routing_service.withdraw(session, interaction_id=interaction.id)
    await intake.enter_queue(session, interaction=interaction, campaign=target,
                             arrived_at=interaction.queued_at or interaction.created_at)
    enqueue("routing.route_campaign", campaign.id)  # the agent who held it has room again
    data_out = {"id": str(interaction.id), "from_campaign_id": str(campaign.id), "campaign_id": str(target.id)}
    _changed(interaction, "interaction.moved", data_out)
    if previous_agent is not None:
        publish("interaction.removed", caller.company_id, {"id": str(interaction.id)}, user_ids=[previous_agent])
    return await summary(session, interaction)


async def close(session: AsyncSession, caller: Caller, interaction_id: uuid.UUID, data: CloseIn) -> InteractionSummary:
    repo = InteractionRepository(session)
    interaction = await _actionable(repo, caller, interaction_id)
    if interaction.state is InteractionState.closed:
        raise Conflict(None, "This interaction is already closed.")
    await _check_version(repo, caller, interaction, data.expected_version)
    was_waiting = interaction.state in (InteractionState.queued, InteractionState.backlog)
    interaction.state = InteractionState.closed
    interaction.closed_at = utcnow()
    interaction.disposition = data.disposition
    await session.flush()
    await routing_service.withdraw(session, interaction_id=interaction.id)
    if interaction.campaign_id is not None:
        if was_waiting:
            await intake.admit_backlog(session, campaign_id=interaction.campaign_id)
        enqueue("routing.route_campaign", interaction.campaign_id)  # the agent has room again
    _changed(interaction, "interaction.closed", {"id": str(interaction.id), "disposition": data.disposition})
    return await summary(session, interaction)


async def accept(session: AsyncSession, caller: Caller, interaction_id: uuid.UUID) -> InteractionSummary:
    """Ringall: take an interaction offered to me; 409 when another agent was quicker."""
    user_id = agent_service.user_of(caller)
    repo = InteractionRepository(session)
    interaction = await _load(repo, caller, interaction_id)
    await routing_service.accept_offer(session, company_id=caller.company_id, interaction_id=interaction.id,
                                       campaign_id=interaction.campaign_id, user_id=user_id)
    return await summary(session, await _load(repo, caller, interaction_id))
