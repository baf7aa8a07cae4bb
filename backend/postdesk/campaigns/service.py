"""Rules for campaigns: unique quote-free titles, a server that can receive when receiving is on,
templates of the right kind, thresholds in order, members across campaigns, and opening hours."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.accounts import service as accounts_service
from postdesk.accounts.caller import Caller
from postdesk.campaigns import schedule as schedules
from postdesk.campaigns.models import (
    Campaign,
    CampaignGroup,
    CampaignMember,
    ScheduleException,
    ScheduleWindow,
    Weekday,
)
from postdesk.campaigns.repository import CampaignRepository
from postdesk.campaigns.schemas import (
    CampaignCreate,
    CampaignDetails,
    CampaignGroupCreate,
    CampaignGroupUpdate,
    CampaignMembers,
    CampaignPublic,
    CampaignTemplateRow,
    CampaignUpdate,
    MemberIn,
    MemberPublic,
    MembershipChange,
    OpenNow,
    Qualification,
    ScheduleIn,
    SchedulePublic,
    SpecialDayIn,
    SpecialDayPublic,
    WindowIn,
    WindowPublic,
)
from postdesk.db import utcnow
from postdesk.errors import Conflict, InvalidFields, NotFound, UnknownReference
from postdesk.servers import service as server_service
from postdesk.servers.models import IncomingProtocol
from postdesk.servers.schemas import Dependent
from postdesk.templates import service as template_service
from postdesk.templates.models import TemplateKind
from postdesk.uow import publish

# Other domains (channel filters…) report what still points at a campaign, so deleting it can answer 409.
CampaignDependentsFinder = Callable[[AsyncSession, uuid.UUID, uuid.UUID], Awaitable[list[Dependent]]]
CAMPAIGN_DEPENDENTS_FINDERS: list[CampaignDependentsFinder] = []


def campaign_dependents_finder(finder: CampaignDependentsFinder) -> CampaignDependentsFinder:
    CAMPAIGN_DEPENDENTS_FINDERS.append(finder)
    return finder


def _changed(caller: Caller, campaign_id: uuid.UUID, **data: object) -> None:
    publish("campaign.changed", caller.company_id, {"id": str(campaign_id), **data}, min_role="supervisor")


# Campaign groups


async def _group(repo: CampaignRepository, caller: Caller, group_id: uuid.UUID) -> CampaignGroup:
    group = await repo.group(caller.company_id, group_id)
    if group is None:
        raise NotFound("Campaign group")
    return group


async def list_groups(session: AsyncSession, caller: Caller) -> list[CampaignGroup]:
    return list(await CampaignRepository(session).groups(caller.company_id))


async def get_group(session: AsyncSession, caller: Caller, group_id: uuid.UUID) -> CampaignGroup:
    return await _group(CampaignRepository(session), caller, group_id)


async def create_group(session: AsyncSession, caller: Caller, data: CampaignGroupCreate) -> CampaignGroup:
    repo = CampaignRepository(session)
    if await repo.group_name_taken(caller.company_id, data.name):
        raise Conflict("name", "A campaign group with this name already exists.")
    return await repo.add(CampaignGroup(company_id=caller.company_id, name=data.name, description=data.description))


async def update_group(session: AsyncSession, caller: Caller, group_id: uuid.UUID,
                       data: CampaignGroupUpdate) -> CampaignGroup:
    repo = CampaignRepository(session)
    group = await _group(repo, caller, group_id)
    if data.name is not None and data.name != group.name:
        if await repo.group_name_taken(caller.company_id, data.name, except_id=group.id):
            raise Conflict("name", "A campaign group with this name already exists.")
        group.name = data.name
    if data.description is not None:
        group.description = data.description
    await session.flush()
    return group


async def delete_group(session: AsyncSession, caller: Caller, group_id: uuid.UUID) -> None:
    repo = CampaignRepository(session)
    group = await _group(repo, caller, group_id)
    campaigns = await repo.in_group(caller.company_id, group.id)
    if campaigns:
        raise still_used("This campaign group still holds", campaigns)
    await repo.delete(group)


def still_used(prefix: str, campaigns: Sequence[Campaign]) -> Conflict:
    """409 naming the campaigns that still reference something (they are listed in `dependents`)."""
    rows = list(campaigns)
    names = ", ".join(f"“{c.title}”" for c in rows)
    dependents = [Dependent(kind="campaign", id=c.id, name=c.title).model_dump(mode="json") for c in rows]
    return Conflict(None, f"{prefix} campaigns {names}.", dependents=dependents)


# Campaigns


async def _campaign(repo: CampaignRepository, caller: Caller, campaign_id: uuid.UUID) -> Campaign:
    campaign = await repo.get(caller.company_id, campaign_id)
    if campaign is None:
        raise NotFound("Campaign")
    return campaign


async def get_campaign(session: AsyncSession, caller: Caller, campaign_id: uuid.UUID) -> Campaign:
    return await _campaign(CampaignRepository(session), caller, campaign_id)


def _public(campaign: Campaign, team_ids: list[uuid.UUID]) -> CampaignPublic:
    values = {c.key: getattr(campaign, c.key) for c in Campaign.__table__.columns}
    values["qualification"] = Qualification(enabled=campaign.qualification_enabled,
                                            motivation_text=campaign.qualification_motivation_text,
                                            thank_you_message=campaign.qualification_thank_you_message)
    return CampaignPublic.model_validate({**values, "team_ids": team_ids})


async def public(session: AsyncSession, campaign: Campaign) -> CampaignPublic:
    teams = await CampaignRepository(session).team_ids([campaign.id])
    return _public(campaign, teams[campaign.id])


async def list_campaigns(
    session: AsyncSession, caller: Caller, *, group_id: uuid.UUID | None, enabled: bool | None, search: str | None,
    offset: int, limit: int,
) -> tuple[list[CampaignPublic], int]:
    repo = CampaignRepository(session)
    rows, total = await repo.list(caller.company_id, group_id=group_id, enabled=enabled, search=search, offset=offset,
                                  limit=limit)
    teams = await repo.team_ids([c.id for c in rows])
    return [_public(c, teams[c.id]) for c in rows], total


_TEMPLATE_FIELDS = {"auto_reply_template_id": TemplateKind.auto_reply, "signature_template_id": TemplateKind.signature}


async def _check_references(session: AsyncSession, repo: CampaignRepository, caller: Caller, campaign: Campaign,
                            changed: set[str]) -> None:
    """Cross-company ids are 404 on their field; the other rules are 422 on theirs."""
    if ("group_id" in changed and campaign.group_id is not None
            and await repo.group(caller.company_id, campaign.group_id) is None):
        raise UnknownReference("group_id", "Campaign group")
    problems: list[tuple[str, str]] = []
    if {"email_server_id", "receive_emails"} & changed:
        if campaign.email_server_id is None:
            default = await server_service.default_server(session, caller.company_id)
            if default is None:
                raise InvalidFields([("email_server_id", "The company has no email server yet: add one first.")])
            campaign.email_server_id = default.id
            server = default
        else:
            try:
                server = await server_service.get_server(session, caller, campaign.email_server_id)
            except NotFound:
                raise UnknownReference("email_server_id", "Email server") from None
        if campaign.receive_emails and server.incoming_protocol == IncomingProtocol.none:
            problems.append(("email_server_id", (f"The email server “{server.name}” has no incoming protocol "
                                                 "(IMAP or POP3); choose one that receives mail, or turn "
                                                 "receive_emails off.")))
    for field, kind in _TEMPLATE_FIELDS.items():
        template_id = getattr(campaign, field)
        if field not in changed or template_id is None:
            continue
        try:
            template = await template_service.get_template(session, caller, template_id)
        except NotFound:
            raise UnknownReference(field, "Template") from None
        if template.kind != kind:
            problems.append((field, f"The template “{template.name}” is a {template.kind} template, not {kind}."))
        elif template.campaign_id not in (None, campaign.id):
            problems.append((field, f"The template “{template.name}” belongs to another campaign."))
    if campaign.warning_threshold_seconds > campaign.critical_threshold_seconds:
        problems.append(("warning_threshold_seconds", "The warning threshold cannot be above the critical one."))
    if campaign.qualification_enabled and not campaign.qualification_motivation_text:
        problems.append(("qualification.motivation_text", "A motivation text is required when qualification is on."))
    if problems:
        raise InvalidFields(problems)


async def _checked_team_ids(session: AsyncSession, caller: Caller, team_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    for team_id in dict.fromkeys(team_ids):
        try:
            await accounts_service.get_team(session, caller, team_id)
        except NotFound:
            raise UnknownReference("team_ids", f"Team {team_id}") from None
    return list(dict.fromkeys(team_ids))


def _apply(campaign: Campaign, values: dict[str, object]) -> None:
    qualification = values.pop("qualification", None)
    if isinstance(qualification, dict):
        for key, value in qualification.items():
            setattr(campaign, f"qualification_{key}", value)
    for key, value in values.items():
        setattr(campaign, key, value)


async def create_campaign(session: AsyncSession, caller: Caller, data: CampaignCreate) -> CampaignPublic:
    repo = CampaignRepository(session)
    if await repo.title_taken(caller.company_id, data.title):
        raise Conflict("title", "A campaign with this title already exists.")
    values = data.model_dump(exclude={"team_ids"})
    campaign = Campaign(id=uuid.uuid4(), company_id=caller.company_id)
    _apply(campaign, values)
    await _check_references(session, repo, caller, campaign, set(values))
    team_ids = await _checked_team_ids(session, caller, data.team_ids)
    await repo.add(campaign)
    await repo.replace_teams(campaign.id, team_ids)
    _changed(caller, campaign.id)
    return _public(campaign, team_ids)


async def update_campaign(session: AsyncSession, caller: Caller, campaign_id: uuid.UUID,
                          data: CampaignUpdate) -> CampaignPublic:
    repo = CampaignRepository(session)
    campaign = await _campaign(repo, caller, campaign_id)
    changes = data.model_dump(exclude_unset=True)
    for required in ("title", "description", "enabled", "receive_emails", "from_name", "service_level_seconds",
                     "warning_threshold_seconds", "critical_threshold_seconds", "strategy",
                     "max_interactions_per_agent", "allow_free_format", "require_address_confirmation",
                     "allow_put_back", "allow_move", "allow_drafts", "qualification", "schedule_timezone"):
        if required in changes and changes[required] is None:
            raise InvalidFields([(required, "This field cannot be null.")])
    renamed = "title" in changes and changes["title"].lower() != campaign.title.lower()
    if renamed and await repo.title_taken(caller.company_id, changes["title"], except_id=campaign.id):
        raise Conflict("title", "A campaign with this title already exists.")
    team_ids = changes.pop("team_ids", None)
    _apply(campaign, changes)
    await _check_references(session, repo, caller, campaign, set(changes))
    if team_ids is not None:
        await repo.replace_teams(campaign.id, await _checked_team_ids(session, caller, team_ids))
    await session.flush()
    _changed(caller, campaign.id)
    return await public(session, campaign)


async def delete_campaign(session: AsyncSession, caller: Caller, campaign_id: uuid.UUID) -> None:
    repo = CampaignRepository(session)
    campaign = await _campaign(repo, caller, campaign_id)
    dependents = [d for finder in CAMPAIGN_DEPENDENTS_FINDERS
                  for d in await finder(session, caller.company_id, campaign.id)]
    if dependents:
        names = ", ".join(f"{d.kind.replace('_', ' ')} “{d.name}”" for d in dependents)
        raise Conflict(None, f"Still used by {names}.",
                       dependents=[d.model_dump(mode="json") for d in dependents])
    # Teams, members, schedule, group attachments and the campaign's own templates go with it.
    await repo.delete(campaign)
    _changed(caller, campaign_id, deleted=True)


async def campaigns_using_template(session: AsyncSession, company_id: uuid.UUID,
                                   template_id: uuid.UUID) -> list[Campaign]:
    return list(await CampaignRepository(session).using_template(company_id, template_id))


async def find_campaign(session: AsyncSession, company_id: uuid.UUID, campaign_id: uuid.UUID) -> Campaign | None:
    """The campaign if it is in this company (for jobs and pipelines that have no caller)."""
    return await CampaignRepository(session).get(company_id, campaign_id)


async def loaded_campaign(session: AsyncSession, company_id: uuid.UUID, campaign_id: uuid.UUID) -> Campaign | None:
    """Like `find_campaign`, but answered from the session without a query when already loaded (pipelines
    that look the same campaign up for every message of a batch)."""
    campaign = await session.get(Campaign, campaign_id)
    return campaign if campaign is not None and campaign.company_id == company_id else None


async def receiving_campaigns(session: AsyncSession, company_id: uuid.UUID, server_id: uuid.UUID) -> list[Campaign]:
    """Enabled campaigns that receive mail through this server."""
    campaigns = await CampaignRepository(session).using_server(company_id, server_id)
    return [c for c in campaigns if c.enabled and c.receive_emails]


async def campaigns_by_id(session: AsyncSession, company_id: uuid.UUID,
                          campaign_ids: list[uuid.UUID]) -> list[Campaign]:
    return list(await CampaignRepository(session).many(company_id, campaign_ids))


async def campaigns_worked_by(session: AsyncSession, company_id: uuid.UUID,
                              member_id: uuid.UUID | None) -> list[Campaign]:
    """The campaigns `member_id` belongs to in this company, by title; every campaign when `member_id` is None."""
    return list(await CampaignRepository(session).worked_by(company_id, member_id))


@server_service.dependents_finder
async def campaigns_using_server(session: AsyncSession, company_id: uuid.UUID, server_id: uuid.UUID) -> list[Dependent]:
    campaigns = await CampaignRepository(session).using_server(company_id, server_id)
    return [Dependent(kind="campaign", id=c.id, name=c.title) for c in campaigns]


# Members


async def _checked_user_ids(session: AsyncSession, caller: Caller, field: str,
                            user_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    for user_id in dict.fromkeys(user_ids):
        try:
            await accounts_service.get_user(session, caller, user_id)
        except NotFound:
            raise UnknownReference(field, f"User {user_id}") from None
    return list(dict.fromkeys(user_ids))


async def list_members(session: AsyncSession, caller: Caller, campaign_id: uuid.UUID) -> list[MemberPublic]:
    repo = CampaignRepository(session)
    campaign = await _campaign(repo, caller, campaign_id)
    return [MemberPublic.model_validate(m) for m in (await repo.members([campaign.id]))[campaign.id]]


async def replace_members(session: AsyncSession, caller: Caller, campaign_id: uuid.UUID,
                          members: list[MemberIn]) -> list[MemberPublic]:
    repo = CampaignRepository(session)
    campaign = await _campaign(repo, caller, campaign_id)
    user_ids = [m.user_id for m in members]
    if len(set(user_ids)) != len(user_ids):
        raise InvalidFields([("members", "An agent appears more than once.")])
    await _checked_user_ids(session, caller, "members", user_ids)
    existing = {m.user_id: m.added_at for m in (await repo.members([campaign.id]))[campaign.id]}
    await repo.remove_members([campaign.id])
    now = utcnow()
    await repo.add_all(CampaignMember(campaign_id=campaign.id, user_id=m.user_id, weight=m.weight, position=m.position,
                                      added_at=existing.get(m.user_id, now)) for m in members)
    _changed(caller, campaign.id, members=True)
    return await list_members(session, caller, campaign.id)


async def change_memberships(session: AsyncSession, caller: Caller, change: MembershipChange) -> list[CampaignMembers]:
    repo = CampaignRepository(session)
    campaign_ids = list(dict.fromkeys(change.campaign_ids))
    campaigns = await repo.many(caller.company_id, campaign_ids)
    if len(campaigns) != len(campaign_ids):
        missing = sorted(str(i) for i in set(campaign_ids) - {c.id for c in campaigns})
        raise UnknownReference("campaign_ids", f"Campaign {', '.join(missing)}")
    add = await _checked_user_ids(session, caller, "add_user_ids", change.add_user_ids)
    await _checked_user_ids(session, caller, "remove_user_ids", change.remove_user_ids)
    if change.remove_user_ids:
        await repo.remove_members(campaign_ids, list(change.remove_user_ids))
    current = await repo.members(campaign_ids)
    now = utcnow()
    # Adding an agent who is already a member keeps their weight, order and date.
    await repo.add_all(CampaignMember(campaign_id=campaign_id, user_id=user_id, added_at=now)
                       for campaign_id in campaign_ids for user_id in add
                       if user_id not in {m.user_id for m in current[campaign_id]})
    for campaign_id in campaign_ids:
        _changed(caller, campaign_id, members=True)
    after = await repo.members(campaign_ids)
    return [CampaignMembers(campaign_id=c.id, members=[MemberPublic.model_validate(m) for m in after[c.id]])
            for c in campaigns]


# Schedules


def _window_public(window: ScheduleWindow) -> WindowPublic:
    return WindowPublic.model_validate(window)


def _special_public(day: ScheduleException) -> SpecialDayPublic:
    return SpecialDayPublic(id=day.id, day=day.day, opens=day.opens, closes=day.closes, description=day.description,
                            closed_all_day=day.opens is None)


async def _schedule_public(repo: CampaignRepository, campaign: Campaign) -> SchedulePublic:
    windows = sorted(await repo.windows(campaign.id), key=lambda w: (w.weekday.number, w.opens))
    return SchedulePublic(timezone=campaign.schedule_timezone, windows=[_window_public(w) for w in windows],
                          exceptions=[_special_public(d) for d in await repo.special_days(campaign.id)])


def _special_day_conflict(existing: list[ScheduleException] | list[SpecialDayIn], new: SpecialDayIn) -> str | None:
    same_day = [d for d in existing if d.day == new.day]
    if same_day and (new.opens is None or any(d.opens is None for d in same_day)):
        return f"{new.day.isoformat()} already has an exception; a day is either closed or has special hours."
    return None


async def get_schedule(session: AsyncSession, caller: Caller, campaign_id: uuid.UUID) -> SchedulePublic:
    repo = CampaignRepository(session)
    return await _schedule_public(repo, await _campaign(repo, caller, campaign_id))


async def replace_schedule(session: AsyncSession, caller: Caller, campaign_id: uuid.UUID,
                           data: ScheduleIn) -> SchedulePublic:
    repo = CampaignRepository(session)
    campaign = await _campaign(repo, caller, campaign_id)
    seen: list[SpecialDayIn] = []
    for index, day in enumerate(data.exceptions):
        problem = _special_day_conflict(seen, day)
        if problem:
            raise InvalidFields([(f"exceptions.{index}.day", problem)])
        seen.append(day)
    await repo.clear_schedule(campaign.id)
    campaign.schedule_timezone = data.timezone
    await repo.add_all([
        *(ScheduleWindow(campaign_id=campaign.id, **w.model_dump()) for w in data.windows),
        *(ScheduleException(campaign_id=campaign.id, **d.model_dump()) for d in data.exceptions),
    ])
    _changed(caller, campaign.id, schedule=True)
    return await _schedule_public(repo, campaign)


async def add_window(session: AsyncSession, caller: Caller, campaign_id: uuid.UUID, data: WindowIn) -> WindowPublic:
    repo = CampaignRepository(session)
    campaign = await _campaign(repo, caller, campaign_id)
    window = await repo.add(ScheduleWindow(campaign_id=campaign.id, **data.model_dump()))
    _changed(caller, campaign.id, schedule=True)
    return _window_public(window)


async def remove_window(session: AsyncSession, caller: Caller, campaign_id: uuid.UUID, window_id: uuid.UUID) -> None:
    repo = CampaignRepository(session)
    campaign = await _campaign(repo, caller, campaign_id)
    window = await repo.window(campaign.id, window_id)
    if window is None:
        raise NotFound("Schedule window")
    await repo.delete(window)
    _changed(caller, campaign.id, schedule=True)


async def add_special_day(session: AsyncSession, caller: Caller, campaign_id: uuid.UUID,
                          data: SpecialDayIn) -> SpecialDayPublic:
    repo = CampaignRepository(session)
    campaign = await _campaign(repo, caller, campaign_id)
    problem = _special_day_conflict(list(await repo.special_days(campaign.id)), data)
    if problem:
        raise Conflict("day", problem)
    day = await repo.add(ScheduleException(campaign_id=campaign.id, **data.model_dump()))
    _changed(caller, campaign.id, schedule=True)
    return _special_public(day)


async def remove_special_day(session: AsyncSession, caller: Caller, campaign_id: uuid.UUID,
                             exception_id: uuid.UUID) -> None:
    repo = CampaignRepository(session)
    campaign = await _campaign(repo, caller, campaign_id)
    day = await repo.special_day(campaign.id, exception_id)
    if day is None:
        raise NotFound("Schedule exception")
    await repo.delete(day)
    _changed(caller, campaign.id, schedule=True)


async def schedule_of(session: AsyncSession, campaign: Campaign) -> schedules.Schedule:
    repo = CampaignRepository(session)
    return schedules.Schedule(
        timezone=campaign.schedule_timezone,
        windows=tuple(schedules.Window(Weekday(w.weekday).number, w.opens, w.closes)
                      for w in await repo.windows(campaign.id)),
        exceptions=tuple(schedules.SpecialDay(d.day, d.opens, d.closes) for d in await repo.special_days(campaign.id)),
    )


async def open_now(session: AsyncSession, caller: Caller, campaign_id: uuid.UUID,
                   at: datetime | None = None) -> OpenNow:
    campaign = await _campaign(CampaignRepository(session), caller, campaign_id)
    at = at or utcnow()
    schedule = await schedule_of(session, campaign)
    return OpenNow(open=schedules.is_open(schedule, at), at=at, timezone=campaign.schedule_timezone,
                   local_time=at.astimezone(ZoneInfo(campaign.schedule_timezone)))


# Details


async def details(session: AsyncSession, caller: Caller, campaign_id: uuid.UUID) -> CampaignDetails:
    repo = CampaignRepository(session)
    campaign = await _campaign(repo, caller, campaign_id)
    group = await repo.group(caller.company_id, campaign.group_id) if campaign.group_id else None
    server = None
    if campaign.email_server_id:
        server = await server_service.get_server(session, caller, campaign.email_server_id)
    templates = await template_service.available_to_campaign(session, caller.company_id, campaign.id)
    names = {t.id: t.name for t in templates}
    rows = [CampaignTemplateRow(id=t.id, name=t.name, kind=t.kind, subject=t.subject,
                                added_on=t.assigned_at if t.campaign_id else t.created_at,
                                all_campaigns=t.campaign_id is None) for t in templates]
    status = await open_now(session, caller, campaign.id)
    return CampaignDetails(
        campaign=await public(session, campaign),
        group_name=group.name if group else None,
        email_server_name=server.name if server else None,
        auto_reply_template_name=names.get(campaign.auto_reply_template_id),  # type: ignore[arg-type]
        signature_template_name=names.get(campaign.signature_template_id),  # type: ignore[arg-type]
        member_count=await repo.count_members(campaign.id),
        open_now=status.open,
        templates=rows,
    )
