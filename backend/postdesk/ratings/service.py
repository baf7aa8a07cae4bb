"""Ratings of our replies: the block of 1-5 links put in replies of campaigns with qualification on,
the public page that records one rating per message, and the aggregates supervisors read.

Mail scanners and link previewers open every link in a mail, so opening a link never records
anything: the page shows the choice with a button, and only that POST records.
"""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.accounts.caller import Caller
from postdesk.campaigns import service as campaign_service
from postdesk.campaigns.models import Campaign
from postdesk.errors import UnknownReference
from postdesk.interactions.models import Direction
from postdesk.ratings import tokens
from postdesk.ratings.repository import RatingRepository
from postdesk.ratings.schemas import AgentRating, CampaignRating, RatingSummary
from postdesk.settings import Settings
from postdesk.uow import publish

SCORES = (1, 2, 3, 4, 5)
DEFAULT_MOTIVATION = "How would you rate our reply?"
DEFAULT_THANK_YOU = "Thank you for your rating."


def _secret(settings: Settings) -> str:
    if settings.secret_key is None:
        raise RuntimeError("settings.secret_key is required to sign rating links")
    return settings.secret_key.get_secret_value()


def rating_url(settings: Settings, message_id: uuid.UUID, score: int | None = None) -> str:
    url = f"{settings.public_url.rstrip('/')}/rate/{tokens.make_token(_secret(settings), message_id)}"
    return f"{url}?score={score}" if score is not None else url


def rating_block(*, settings: Settings, message_id: uuid.UUID, campaign: Campaign) -> tuple[str, str]:
    """(html, text) to append to an outgoing message of `campaign`: the motivation text and five links,
    signed for `message_id` (the Message row's id, so give the row its id first)."""
    motivation = campaign.qualification_motivation_text.strip() or DEFAULT_MOTIVATION
    links = [(score, rating_url(settings, message_id, score)) for score in SCORES]
    cells = "".join(
        f'<td style="padding:0 4px"><a href="{html.escape(url, quote=True)}" '
        f'style="display:inline-block;min-width:28px;padding:6px 8px;border:1px solid #c9ced6;border-radius:4px;'
        f'text-align:center;text-decoration:none;color:#1f2937;font-weight:bold" '
        f'title="{score} of 5">{score}</a></td>'
        for score, url in links
    )
    block_html = (
        '<div class="postdesk-rating" style="margin-top:24px;padding-top:12px;border-top:1px solid #e5e7eb">'
        f'<p style="margin:0 0 8px 0">{html.escape(motivation)}</p>'
        f'<table role="presentation" cellspacing="0" cellpadding="0"><tr>{cells}</tr></table>'
        '<p style="margin:6px 0 0 0;font-size:12px;color:#6b7280">1 = poor, 5 = excellent</p>'
        "</div>"
    )
    block_text = "\n\n-- \n" + motivation + " (1 = poor, 5 = excellent)\n" + "\n".join(
        f"{score}: {url}" for score, url in links) + "\n"
    return block_html, block_text


class PageState(StrEnum):
    choose = "choose"  # GET: show the choice and the confirm button
    thanks = "thanks"  # just recorded
    already_rated = "already_rated"
    invalid = "invalid"  # tampered, malformed, or not one of our outbound messages


@dataclass(frozen=True)
class RatingPage:
    state: PageState
    token: str = ""
    motivation: str = DEFAULT_MOTIVATION
    thank_you: str = DEFAULT_THANK_YOU
    campaign_title: str = ""
    score: int | None = None  # the chosen (or recorded) score


async def _target(session: AsyncSession, settings: Settings, token: str):
    message_id = tokens.read_token(_secret(settings), token)
    if message_id is None:
        return None
    found = await RatingRepository(session).rated_message(message_id)
    if found is None or found[0].direction != Direction.outbound:
        return None
    return found


def _texts(campaign: Campaign | None) -> dict[str, str]:
    if campaign is None:
        return {}
    return {
        "motivation": campaign.qualification_motivation_text.strip() or DEFAULT_MOTIVATION,
        "thank_you": campaign.qualification_thank_you_message.strip() or DEFAULT_THANK_YOU,
        "campaign_title": campaign.title,
    }


async def rating_page(session: AsyncSession, *, settings: Settings, token: str, score: int | None) -> RatingPage:
    """What GET /rate/{token} shows; records nothing."""
    found = await _target(session, settings, token)
    if found is None:
        return RatingPage(PageState.invalid)
    message, _, campaign = found
    existing = await RatingRepository(session).rating_of(message.id)
    if existing is not None:
        return RatingPage(PageState.already_rated, token, score=existing.score, **_texts(campaign))
    return RatingPage(PageState.choose, token, score=score if score in SCORES else None, **_texts(campaign))


async def rate(session: AsyncSession, *, settings: Settings, token: str, score: int) -> RatingPage:
    """Record `score` for the message the token names, once."""
    found = await _target(session, settings, token)
    if found is None:
        return RatingPage(PageState.invalid)
    message, interaction, campaign = found
    repo = RatingRepository(session)
    recorded = await repo.add_once({
        "company_id": message.company_id, "message_id": message.id, "interaction_id": interaction.id,
        "campaign_id": interaction.campaign_id, "agent_id": message.author_id, "score": score,
    })
    if not recorded:
        existing = await repo.rating_of(message.id)
        return RatingPage(PageState.already_rated, token, score=existing.score if existing else None,
                          **_texts(campaign))
    publish("rating.recorded", message.company_id,
            {"message_id": str(message.id), "interaction_id": str(interaction.id),
             "campaign_id": str(interaction.campaign_id) if interaction.campaign_id else None,
             "agent_id": str(message.author_id) if message.author_id else None, "score": score},
            min_role="supervisor")
    return RatingPage(PageState.thanks, token, score=score, **_texts(campaign))


async def summary(session: AsyncSession, caller: Caller, *, campaign_id: uuid.UUID | None,
                  agent_id: uuid.UUID | None, since: datetime | None, until: datetime | None) -> RatingSummary:
    if campaign_id is not None and not await campaign_service.campaigns_by_id(session, caller.company_id,
                                                                              [campaign_id]):
        raise UnknownReference("campaign", "Campaign")
    repo = RatingRepository(session)
    filters = {"campaign_id": campaign_id, "agent_id": agent_id, "since": since, "until": until}
    count, average, distribution = await repo.totals(caller.company_id, **filters)
    return RatingSummary(
        count=count,
        average=round(average, 2) if average is not None else None,
        distribution={str(score): distribution.get(score, 0) for score in SCORES},
        campaigns=[CampaignRating(campaign_id=cid, campaign_title=title, count=n, average=round(avg, 2))
                   for cid, title, n, avg in await repo.by_campaign(caller.company_id, **filters)],
        agents=[AgentRating(agent_id=aid, agent_name=name, count=n, average=round(avg, 2))
                for aid, name, n, avg in await repo.by_agent(caller.company_id, **filters)],
    )
