"""Composing an agent's outbound mail: template-or-free-text bodies under the campaign's rules,
signature, quoted history, checked recipients, and the queued Message row handed to delivery."""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.accounts.caller import Caller
from postdesk.blacklist import service as blacklist_service
from postdesk.campaigns.models import Campaign
from postdesk.errors import Conflict, Invalid, NotFound, UnknownReference
from postdesk.interactions.addressing import resolve_addresses
from postdesk.interactions.models import Direction, Interaction, Message, MessageKind, MessageStatus
from postdesk.interactions.repository import InteractionRepository
from postdesk.interactions.schemas import ComposeFields
from postdesk.mail.addresses import EmailAddress
from postdesk.mail.compose import make_message_id
from postdesk.servers.models import EmailServer
from postdesk.settings import Settings
from postdesk.templates import service as template_service
from postdesk.templates.models import Template, TemplateKind


async def reply_templates(session: AsyncSession, company_id: uuid.UUID, campaign_id: uuid.UUID) -> list[Template]:
    templates = await template_service.available_to_campaign(session, company_id, campaign_id)
    return [t for t in templates if t.kind is TemplateKind.reply]


@dataclass
class Composed:
    subject: str | None
    html: str
    text: str


def template_values(interaction: Interaction | None, campaign: Campaign, agent_name: str, extra: dict[str, str],
            customer_email: str, customer_name: str) -> dict[str, str]:
    values = {
        "name": customer_name, "customer_name": customer_name, "client_name": customer_name,
        "email": customer_email, "customer_email": customer_email, "client_email": customer_email,
        "subject": interaction.subject if interaction else "", "reference": interaction.reference if interaction else "",
        "campaign": campaign.title, "agent_name": agent_name, "agent": agent_name,
    }
    return {**values, **extra}


def text_to_html(text: str) -> str:
    return "<p>" + html.escape(text).replace("\n", "<br>") + "</p>"


async def compose_body(session: AsyncSession, caller: Caller, campaign: Campaign, data: ComposeFields,
                values: dict[str, str], *, template_required: bool) -> Composed:
    """Template-only unless the campaign allows free format; a template must be the campaign's (or all campaigns')."""
    has_free_text = bool((data.html_body or "").strip() or (data.text_body or "").strip())
    if not campaign.allow_free_format and has_free_text:
        raise Invalid("html_body" if (data.html_body or "").strip() else "text_body",
                      f"The campaign “{campaign.title}” allows template-based emails only: choose one of its "
                      "templates (template_id) instead of writing free text.")
    if data.template_id is None:
        if template_required and not campaign.allow_free_format:
            raise Invalid("template_id", f"The campaign “{campaign.title}” allows template-based emails only: "
                                         "choose one of its templates.")
        text = data.text_body if data.text_body is not None else ""
        body_html = data.html_body if data.html_body is not None else (text_to_html(text) if text else "")
        if data.text_body is None and data.html_body:
            from postdesk.mail.html import html_to_text

            text = html_to_text(data.html_body)
        return Composed(subject=None, html=body_html, text=text)
    available = {t.id: t for t in await reply_templates(session, caller.company_id, campaign.id)}
    template = available.get(data.template_id)
    if template is None:
        try:
            other = await template_service.get_template(session, caller, data.template_id)
        except NotFound:
            raise UnknownReference("template_id", "Template") from None
        raise Invalid("template_id", f"The template “{other.name}” is not a reply template of the campaign "
                                     f"“{campaign.title}”.")
    rendered = template_service.render(template, values)
    if has_free_text:  # free format: the agent's edited version of the template wins
        text = data.text_body if data.text_body is not None else ""
        if data.text_body is None and data.html_body:
            from postdesk.mail.html import html_to_text

            text = html_to_text(data.html_body)
        return Composed(subject=rendered.subject or None, html=data.html_body or text_to_html(text), text=text)
    return Composed(subject=rendered.subject or None, html=rendered.html_body, text=rendered.text_body)


async def append_signature(session: AsyncSession, caller: Caller, campaign: Campaign, body: Composed,
                            values: dict[str, str]) -> None:
    if campaign.signature_template_id is None:
        return
    signature = template_service.render(await template_service.get_template(session, caller,
                                                                             campaign.signature_template_id), values)
    body.html = f"{body.html}\n<div class=\"postdesk-signature\">{signature.html_body}</div>"
    body.text = f"{body.text.rstrip()}\n\n-- \n{signature.text_body}"


def quoted_history(history: list[Message]) -> tuple[str, str]:
    """Earlier messages, newest first, quoted as mail clients do."""
    text_parts, html_parts = [], []
    for message in reversed(history):
        when = (message.sent_at or message.created_at).strftime("%Y-%m-%d %H:%M UTC")
        who = f"{message.from_name} <{message.from_address}>" if message.from_name else message.from_address
        lines = "\n".join(f"> {line}" if line else ">" for line in message.text_body.splitlines())
        text_parts.append(f"On {when}, {who} wrote:\n{lines}")
        inner = message.html_body or text_to_html(message.text_body)
        html_parts.append(f"<p>On {html.escape(when)}, {html.escape(who)} wrote:</p>"
                          f"<blockquote style=\"margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex\">"
                          f"{inner}</blockquote>")
    return "\n\n".join(text_parts), "\n".join(html_parts)


def prefixed_subject(prefix: str, subject: str) -> str:
    return subject if subject.lower().startswith(prefix.lower()) else f"{prefix} {subject}".strip()


async def sending_server(session: AsyncSession, caller: Caller, campaign: Campaign) -> EmailServer:
    from postdesk.delivery import service as delivery_service  # the campaign's server, else the default

    server = await delivery_service.sending_server(session, company_id=caller.company_id, campaign=campaign)
    if server is None:
        raise Conflict(None, f"The campaign “{campaign.title}” has no email server to send through.")
    return server


def as_dicts(addresses: list[EmailAddress]) -> list[dict[str, str]]:
    return [{"address": a.address, "name": a.name} for a in addresses]


async def checked_recipients(session: AsyncSession, caller: Caller, campaign: Campaign, data: ComposeFields,
                      to_text: str) -> tuple[list[EmailAddress], list[EmailAddress], list[EmailAddress]]:
    rule = {"require_confirmation": campaign.require_address_confirmation, "confirmed": data.confirm_addresses}
    to = resolve_addresses("to", to_text, **rule)
    cc = resolve_addresses("cc", data.cc, **rule)
    bcc = resolve_addresses("bcc", data.bcc, **rule)
    if not to:
        raise Invalid("to", "At least one recipient is needed.")
    for field, addresses in (("to", to), ("cc", cc), ("bcc", bcc)):
        await blacklist_service.refuse_blacklisted(session, caller.company_id, addresses, field=field)
    return to, cc, bcc


async def agent_name(session: AsyncSession, caller: Caller) -> str:
    if caller.user_id is None:
        return ""
    from postdesk.accounts import service as accounts_service

    return (await accounts_service.get_user(session, caller, caller.user_id)).name


async def outbound_message(
    session: AsyncSession, caller: Caller, *, interaction: Interaction, campaign: Campaign, kind: MessageKind,
    subject: str, body: Composed, to: list[EmailAddress], cc: list[EmailAddress], bcc: list[EmailAddress],
    in_reply_to: str | None, references: list[str], settings: Settings,
) -> Message:
    server = await sending_server(session, caller, campaign)
    domain = server.sender_email.rpartition("@")[2]
    message = Message(
        id=uuid.uuid4(), company_id=interaction.company_id, interaction_id=interaction.id,
        direction=Direction.outbound, kind=kind, status=MessageStatus.queued, email_server_id=server.id,
        author_id=caller.user_id, message_id_header=make_message_id(domain, token=interaction.reference),
        in_reply_to=in_reply_to, references=references, subject=subject, from_address=server.sender_email,
        from_name=campaign.from_name or server.sender_name, to=as_dicts(to), cc=as_dicts(cc), bcc=as_dicts(bcc),
        reply_to=server.reply_to, text_body=body.text, html_body=body.html, extra={},
    )
    if campaign.qualification_enabled:
        from postdesk.ratings import service as rating_service  # delivery's sibling: signed 1-5 links

        block_html, block_text = rating_service.rating_block(settings=settings, message_id=message.id,
                                                             campaign=campaign)
        message.html_body = f"{message.html_body}\n{block_html}"
        message.text_body = f"{message.text_body.rstrip()}{block_text}"  # the block starts its own separator
    await InteractionRepository(session).add(message)
    return message


async def deliver(session: AsyncSession, message: Message) -> None:
    from postdesk.delivery import service as delivery_service

    await delivery_service.queue_message(session, message=message)
