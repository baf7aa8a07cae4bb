"""Auto-replies: when a customer's mail opens a conversation in a campaign with an auto-reply template,
the customer gets that template back, threaded under their mail and marked `Auto-Submitted:
auto-replied` (RFC 3834).

Mail loops and noise are the danger, so nothing automatic is ever answered: mail that says it is
automatic (Auto-Submitted, Precedence, X-Auto-Response-Suppress, X-Loop), mailing-list mail, bounces
and delivery reports (empty Return-Path, multipart/report, mailer-daemon/postmaster), no-reply
senders, our own addresses and blacklisted senders. On top, one address gets at most a few
auto-replies per hour, counted in the database so the limit holds across workers.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.autoreplies.models import AutoReplyLog
from postdesk.autoreplies.repository import AutoReplyRepository
from postdesk.blacklist import service as blacklist_service
from postdesk.campaigns import service as campaign_service
from postdesk.db import utcnow
from postdesk.delivery import service as delivery_service
from postdesk.errors import DomainError
from postdesk.interactions.intake import NewInteraction
from postdesk.interactions.models import (
    Attachment,
    Direction,
    Interaction,
    Message,
    MessageKind,
    MessageStatus,
)
from postdesk.mail.compose import MAX_REFERENCES
from postdesk.mail.errors import InvalidMessage
from postdesk.mail.parse import AutomationHeaders, ParsedMessage
from postdesk.settings import get_settings
from postdesk.templates import service as template_service

if TYPE_CHECKING:
    from postdesk.settings import Settings

log = structlog.get_logger(__name__)

# Local parts of addresses that never read replies (RFC 3834 section 2 names owner-* and *-request too).
_UNATTENDED_SENDER = re.compile(
    r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?|owner-.*|.*-request)([+._-].*)?$",
    re.IGNORECASE,
)
_NULL_PATH = re.compile(r"^<\s*>$")
_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list"})


def automation_reason(headers: AutomationHeaders) -> str | None:
    """Why a message's headers say it must not be auto-answered, or None."""
    if headers.auto_submitted and headers.auto_submitted.split(";")[0].strip().lower() != "no":
        return f"Auto-Submitted: {headers.auto_submitted}"
    if headers.precedence and headers.precedence.strip().lower() in _BULK_PRECEDENCE:
        return f"Precedence: {headers.precedence}"
    if headers.x_auto_response_suppress:
        return "X-Auto-Response-Suppress"
    if headers.x_loop:
        return "X-Loop"
    if headers.list_id:
        return "List-Id"
    if headers.list_unsubscribe:
        return "List-Unsubscribe"
    if headers.return_path is not None and _NULL_PATH.match(headers.return_path):
        return "empty Return-Path"
    if headers.content_type.lower() == "multipart/report":
        return "delivery or read report"
    return None


def address_reason(address: str, own_addresses: set[str]) -> str | None:
    """Why an address must not get an auto-reply (unattended or our own), or None."""
    if address.lower() in own_addresses:
        return "our own address"
    if _UNATTENDED_SENDER.match(address.rpartition("@")[0]):
        return "unattended sender"
    return None


_NOTHING_TO_SUPPRESS = ("no campaign", "the campaign has no auto-reply")


async def maybe_auto_reply(session: AsyncSession, *, interaction: Interaction | NewInteraction, parsed: ParsedMessage,
                           settings: Settings | None = None) -> Message | None:
    """Queue the campaign's auto-reply to the customer mail `parsed` that opened `interaction`, unless
    it must be suppressed. Called by the inbound pipeline inside its transaction; never raises for a
    reply that cannot be made (it is logged and skipped, the mail is still ingested).

    Returns the queued reply (or None). Pass `settings=runtime.settings` when at hand; the process's
    settings are read otherwise (only the hourly limit is used).
    """
    settings = settings or get_settings()
    reason = await _refusal(session, interaction=interaction, parsed=parsed, settings=settings)
    if isinstance(reason, str):
        if reason not in _NOTHING_TO_SUPPRESS:  # most campaigns have no auto-reply: not worth a line per mail
            log.info("auto_reply_suppressed", interaction_id=str(interaction.id), reason=reason)
        return None
    campaign, template, target = reason
    reply = await _build_reply(session, interaction=interaction, parsed=parsed, campaign=campaign,
                               template=template, target=target)
    if reply is None:
        return None
    repo = AutoReplyRepository(session)
    session.add(reply)
    await session.flush()
    entry = await repo.add(AutoReplyLog(company_id=interaction.company_id, sender=target[0].lower(),
                                        interaction_id=interaction.id, message_id=reply.id))
    added = await _copy_template_attachments(session, template, reply)
    try:
        await delivery_service.queue_message(session, message=reply)
    except (DomainError, InvalidMessage) as refused:  # e.g. the server's own address is unusable
        log.warning("auto_reply_not_queued", interaction_id=str(interaction.id), error=str(refused))
        await repo.remove([*added, entry, reply])
        return None
    return reply


async def _refusal(session: AsyncSession, *, interaction: Interaction | NewInteraction, parsed: ParsedMessage, settings: Settings):
    if interaction.campaign_id is None:
        return "no campaign"
    campaign = await campaign_service.loaded_campaign(session, interaction.company_id, interaction.campaign_id)
    if campaign is None or campaign.auto_reply_template_id is None:
        return "the campaign has no auto-reply"
    sender = parsed.sender.address if parsed.sender else interaction.customer_email
    if not sender or "@" not in sender:
        return "no sender address"
    reason = automation_reason(parsed.automation)
    if reason:
        return reason
    repo = AutoReplyRepository(session)
    own = await repo.own_addresses(interaction.company_id)
    # Answer where the customer asked replies to go, and check that address as well as the sender.
    target = parsed.reply_to[0] if parsed.reply_to else parsed.sender
    target_address, target_name = (target.address, target.name) if target else (sender, "")
    for address in dict.fromkeys([sender, target_address]):
        reason = address_reason(address, own)
        if reason:
            return reason
        if await blacklist_service.is_blacklisted(session, interaction.company_id, address):
            return "blacklisted"
    template = await repo.template(interaction.company_id, campaign.auto_reply_template_id)
    if template is None:
        return "the auto-reply template is gone"
    key = target_address.lower()
    await repo.lock_sender(interaction.company_id, key)
    recent = await repo.sent_since(interaction.company_id, key, utcnow() - timedelta(hours=1))
    if recent >= settings.auto_reply_max_per_sender_per_hour:
        return f"rate limit: {recent} auto-replies to {key} in the last hour"
    if await delivery_service.sending_server(session, company_id=interaction.company_id, campaign=campaign) is None:
        return "no email server to send from"
    return campaign, template, (target_address, target_name)


async def _build_reply(session: AsyncSession, *, interaction: Interaction | NewInteraction, parsed: ParsedMessage,
                       campaign, template, target: tuple[str, str]) -> Message | None:
    subject = parsed.subject or interaction.subject
    customer_name = interaction.customer_name or (parsed.sender.name if parsed.sender else "") or target[0]
    values = {
        "customer_name": customer_name, "name": customer_name,
        "customer_email": interaction.customer_email or target[0],
        "subject": subject,
        "reference": interaction.reference, "conversation_reference": interaction.reference,
        "campaign": campaign.title, "campaign_name": campaign.title,
    }
    try:
        rendered = template_service.render(template, values)
    except DomainError as refused:  # e.g. a subject value with a line break
        log.warning("auto_reply_not_rendered", interaction_id=str(interaction.id), error=str(refused))
        return None
    in_reply_to = parsed.message_id
    references = [*parsed.references]
    if in_reply_to and in_reply_to not in references:
        references.append(in_reply_to)
    reply_subject = " ".join(rendered.subject.split()) or _re(subject)
    return Message(
        company_id=interaction.company_id,
        interaction_id=interaction.id,
        direction=Direction.outbound,
        kind=MessageKind.auto_reply,
        status=MessageStatus.queued,
        subject=reply_subject,
        to=[{"address": target[0], "name": target[1]}],
        cc=[], bcc=[],
        in_reply_to=in_reply_to,
        references=references[-MAX_REFERENCES:],
        text_body=rendered.text_body,
        html_body=rendered.html_body,
        # Asks Exchange/Outlook not to answer our auto-reply with theirs (loop protection on their side).
        extra={"headers": {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}},
    )


def _re(subject: str) -> str:
    subject = " ".join(subject.split())
    return subject if subject.lower().startswith("re:") else f"Re: {subject}".strip()


async def _copy_template_attachments(session: AsyncSession, template, reply: Message) -> list[Attachment]:
    attachments_of = getattr(template_service, "attachments_of", None)
    if attachments_of is None:
        return []
    rows = [Attachment(company_id=reply.company_id, message_id=reply.id, filename=item.filename,
                       content_type=item.content_type, size_bytes=item.size, storage_key=item.storage_key)
            for item in await attachments_of(session, template)]
    session.add_all(rows)
    await session.flush()
    return rows
