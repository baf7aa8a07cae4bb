from __future__ import annotations

import uuid

from fastapi import APIRouter

from postdesk.accounts.schemas import Page
from postdesk.deps import SessionDep, SupervisorCaller
from postdesk.errors import ERROR_RESPONSES
from postdesk.notifications import service
from postdesk.notifications.models import NotificationState
from postdesk.notifications.schemas import FailedCallIn, FailedCallPublic, NotificationPublic
from postdesk.pagination import PageDep

events_router = APIRouter(prefix="/api/events", tags=["events"], responses=ERROR_RESPONSES)
router = APIRouter(prefix="/api/notifications", tags=["notifications"], responses=ERROR_RESPONSES)


@events_router.post("/failed-call", status_code=202)
async def report_failed_call(body: FailedCallIn, session: SessionDep, caller: SupervisorCaller) -> FailedCallPublic:
    """The telephony side reports a failed or lost call; every contact of the email groups attached to the
    campaign for `failed_call` is emailed (in the background) so someone calls the customer back.
    Reporting the same `external_id` again changes nothing and answers the first report."""
    return await service.report_failed_call(session, caller, body)


@router.get("")
async def list_notifications(
    session: SessionDep, caller: SupervisorCaller, page: PageDep, campaign_id: uuid.UUID | None = None,
    state: NotificationState | None = None, failed_call_id: uuid.UUID | None = None,
) -> Page[NotificationPublic]:
    rows, total = await service.list_notifications(session, caller, campaign_id=campaign_id, state=state,
                                                   failed_call_id=failed_call_id, offset=page.offset,
                                                   limit=page.limit)
    return Page(items=[NotificationPublic.model_validate(n) for n in rows], total=total, offset=page.offset,
                limit=page.limit)


@router.get("/{notification_id}")
async def get_notification(notification_id: uuid.UUID, session: SessionDep,
                           caller: SupervisorCaller) -> NotificationPublic:
    return NotificationPublic.model_validate(await service.get_notification(session, caller, notification_id))


routers = [events_router, router]
