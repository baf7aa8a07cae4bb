from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse

from postdesk.deps import SessionDep, SettingsDep, SupervisorCaller
from postdesk.errors import ERROR_RESPONSES
from postdesk.ratings import pages, service
from postdesk.ratings.schemas import RatingSummary
from postdesk.ratings.service import SCORES, PageState

router = APIRouter(prefix="/api/ratings", tags=["ratings"], responses=ERROR_RESPONSES)
# The customer-facing pages: HTML, no sign-in (the signed token is the authority), not part of the API.
public_router = APIRouter(prefix="/rate", include_in_schema=False)

_STATUS = {PageState.choose: 200, PageState.thanks: 200, PageState.already_rated: 409, PageState.invalid: 404}


@router.get("/summary")
async def rating_summary(
    session: SessionDep, caller: SupervisorCaller,
    campaign: Annotated[uuid.UUID | None, Query(description="Only this campaign's ratings.")] = None,
    agent: Annotated[uuid.UUID | None, Query(description="Only ratings of this agent's messages.")] = None,
    since: Annotated[datetime | None, Query(description="Ratings given at or after this time.")] = None,
    until: Annotated[datetime | None, Query(description="Ratings given before this time.")] = None,
) -> RatingSummary:
    """Average and count of ratings overall, per campaign and per agent (the author of the rated message)."""
    return await service.summary(session, caller, campaign_id=campaign, agent_id=agent, since=since, until=until)


def _score(value: str | None) -> int | None:
    value = (value or "").strip()
    # ASCII digits only: str.isdigit() would also take "٣" or "³".
    return int(value) if value in {str(score) for score in SCORES} else None


def _page(page: service.RatingPage, *, status: int | None = None, problem: str | None = None) -> HTMLResponse:
    return HTMLResponse(pages.render(page, problem=problem), status_code=status or _STATUS[page.state],
                        headers=pages.HEADERS)


@public_router.get("/{token}", response_class=HTMLResponse)
async def show_rating_page(token: str, session: SessionDep, settings: SettingsDep,
                           score: str | None = None) -> HTMLResponse:
    # Opening the link records nothing: scanners open links too. The customer confirms with POST.
    page = await service.rating_page(session, settings=settings, token=token, score=_score(score))
    return _page(page, status=200 if page.state is PageState.already_rated else None)


@public_router.post("/{token}", response_class=HTMLResponse)
async def record_rating(token: str, session: SessionDep, settings: SettingsDep,
                        score: Annotated[str | None, Form()] = None) -> HTMLResponse:
    value = _score(score)
    if value not in SCORES:
        page = await service.rating_page(session, settings=settings, token=token, score=None)
        if page.state is not PageState.choose:
            return _page(page)
        return _page(page, status=400, problem="score: choose a rating from 1 to 5.")
    return _page(await service.rate(session, settings=settings, token=token, score=value))


routers = [router, public_router]
