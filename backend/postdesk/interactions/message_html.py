"""A customer's HTML message as the agent's browser shows it, remote images included when the agent asks.

Inbound HTML is sanitised once, when it is stored, with remote images (tracking pixels) dropped. Showing
them on request re-sanitises the stored original (the raw message kept in the blob store) instead of
keeping a second sanitised copy of every message: only the few messages an agent opens this way pay the
parse, nothing is stored twice, and the HTML comes out of the sanitiser as it is today.
"""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.accounts.caller import Caller
from postdesk.errors import NotFound
from postdesk.inbound.prepare import ATTACHMENT_URL
from postdesk.interactions import service as interaction_service
from postdesk.interactions.models import Direction, MessageStatus
from postdesk.interactions.repository import InteractionRepository
from postdesk.interactions.schemas import MessageHtml
from postdesk.mail.errors import MessageLimitExceeded
from postdesk.mail.html import has_blocked_remote_images, sanitize_html
from postdesk.mail.parse import parse_message
from postdesk.storage import BlobNotFound, BlobStore


async def message_html(session: AsyncSession, caller: Caller, interaction_id: uuid.UUID, message_id: uuid.UUID,
                       *, remote_images: bool, blobs: BlobStore) -> MessageHtml:
    """The message's sanitised HTML; with `remote_images`, its remote images kept (https only).

    Scoped like the conversation: 404 for an interaction the caller may not see or a message not in it.
    """
    repo = InteractionRepository(session)
    # The conversation's own visibility rule (company, then an agent's campaigns, tray and offers), reused as is.
    interaction = await interaction_service._visible(repo, caller, interaction_id)
    message = await repo.message(caller.company_id, interaction.id, message_id)
    if message is None or message.status is MessageStatus.draft:
        raise NotFound("Message")
    blocked = has_blocked_remote_images(message.html_body)
    html = message.html_body
    if remote_images and blocked and message.direction is Direction.inbound and message.raw_key:
        attachments = await repo.attachments(caller.company_id, [message.id])
        inline_ids = {a.content_id: a.id for a in attachments if a.content_id}
        try:
            raw = await blobs.get(message.raw_key)
        except BlobNotFound:
            raw = None
        again = await asyncio.to_thread(_with_remote_images, raw, inline_ids) if raw is not None else None
        if again is not None:
            return MessageHtml(message_id=message.id, html=again, has_remote_images=True, remote_images=True)
    return MessageHtml(message_id=message.id, html=html, has_remote_images=blocked, remote_images=False)


def _with_remote_images(raw: bytes, inline_ids: dict[str, uuid.UUID]) -> str | None:
    """Parse and sanitise the original again (CPU work: runs in a thread); None when it has no HTML now."""
    try:
        parsed = parse_message(raw)
    except MessageLimitExceeded:
        return None  # stored with headers only; what was stored is all there is
    if not parsed.html:
        return None

    def resolve(content_id: str) -> str | None:
        found = inline_ids.get(content_id[:998])  # stored Content-IDs are cut at 998 characters
        return ATTACHMENT_URL.format(id=found) if found else None

    return sanitize_html(parsed.html, resolve_cid=resolve, allow_remote_images=True)
