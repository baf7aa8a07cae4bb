"""Rules for channel filters: which campaign a server's incoming mail goes to.

Each email server has an ordered list of filters; the first enabled one that matches wins, and a
default campaign takes the rest. Without a configured default, the only enabled receiving campaign
using that server takes it; with several and no default, the message has "no campaign".
"""

from __future__ import annotations

import asyncio
import email.utils
import re
import uuid
from dataclasses import dataclass
from email import policy
from email.parser import BytesHeaderParser
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.accounts.caller import Caller
from postdesk.accounts.models import Role
from postdesk.campaigns import service as campaign_service
from postdesk.errors import Conflict, Invalid, InvalidFields, NotFound, UnknownReference
from postdesk.filters import matching
from postdesk.filters.models import ChannelDefault, ChannelFilter, FilterField, FilterMatch
from postdesk.filters.repository import FilterRepository
from postdesk.filters.schemas import (
    ChannelFilterCreate,
    ChannelFilterUpdate,
    DefaultCampaignPublic,
    FilterTestRequest,
    FilterTestResult,
)
from postdesk.mail.errors import MessageLimitExceeded
from postdesk.mail.parse import ParsedMessage, parse_message_async
from postdesk.servers import service as server_service
from postdesk.servers.schemas import Dependent
from postdesk.uow import publish
from postdesk.validation import normalize_email

Reason = Literal["filter", "default", "no campaign"]


@dataclass(frozen=True)
class ChannelDecision:
    """Where a message goes: the campaign (None: nowhere), the filter that chose it, and why."""

    campaign_id: uuid.UUID | None
    filter_id: uuid.UUID | None
    reason: Reason


@dataclass(frozen=True)
class _Rule:
    """A filter detached from the session, safe to evaluate in a worker thread."""

    id: uuid.UUID
    field: FilterField
    match: FilterMatch
    value: str
    enabled: bool
    campaign_id: uuid.UUID


def _evaluate(rules: list[_Rule], message: ParsedMessage, delivered_to: list[str] | None) -> _Rule | None:
    return matching.first_match(rules, matching.MessageView.of(message, delivered_to))


async def choose_campaign(
    session: AsyncSession, *, company_id: uuid.UUID, server_id: uuid.UUID, message: ParsedMessage,
    delivered_to: list[str] | None = None, cache: dict | None = None,
) -> ChannelDecision:
    """Pick the campaign for a message received on `server_id`. Disabled campaigns are not skipped:
    the caller decides what to do with mail for them.

    `cache`: a dict the caller keeps for one transaction (a fetched batch): the server's filters and
    default campaign are then read once, not for every message.
    """
    repo = FilterRepository(session)
    cache = {} if cache is None else cache
    key = (company_id, server_id)
    if ("rules", key) not in cache:
        cache[("rules", key)] = [_Rule(f.id, f.field, f.match, f.value, f.enabled, f.campaign_id)
                                 for f in await repo.filters(company_id, server_id)]
    rules = cache[("rules", key)]
    if any(rule.enabled for rule in rules):
        # Regexes and HTML-to-text are CPU work: keep them off the event loop.
        rule = await asyncio.to_thread(_evaluate, rules, message, delivered_to)
        if rule is not None:
            return ChannelDecision(rule.campaign_id, rule.id, "filter")
    if ("default", key) not in cache:
        cache[("default", key)] = await _effective_default(session, repo, company_id, server_id)
    default_id = cache[("default", key)]
    if default_id is not None:
        return ChannelDecision(default_id, None, "default")
    return ChannelDecision(None, None, "no campaign")


async def _effective_default(session: AsyncSession, repo: FilterRepository, company_id: uuid.UUID,
                             server_id: uuid.UUID) -> uuid.UUID | None:
    default = await repo.default(company_id, server_id)
    if default is not None:
        return default.campaign_id
    receiving = await campaign_service.receiving_campaigns(session, company_id, server_id)
    return receiving[0].id if len(receiving) == 1 else None


# Administration


def _changed(caller: Caller, server_id: uuid.UUID) -> None:
    publish("channel_filters.changed", caller.company_id, {"email_server_id": str(server_id)}, min_role="supervisor")


async def _server_id(session: AsyncSession, caller: Caller, server_id: uuid.UUID) -> uuid.UUID:
    return (await server_service.get_server(session, caller, server_id)).id


async def _filter(repo: FilterRepository, caller: Caller, server_id: uuid.UUID, filter_id: uuid.UUID) -> ChannelFilter:
    channel_filter = await repo.get(caller.company_id, server_id, filter_id)
    if channel_filter is None:
        raise NotFound("Channel filter")
    return channel_filter


async def _check_campaign(session: AsyncSession, caller: Caller, field: str, campaign_id: uuid.UUID) -> None:
    if await campaign_service.find_campaign(session, caller.company_id, campaign_id) is None:
        raise UnknownReference(field, "Campaign")


_DOMAIN = re.compile(r"^(?=.{1,253}$)([^\W_]([\w-]{0,61}[^\W_])?\.)*[^\W_]([\w-]{0,61}[^\W_])?$")


def checked_value(field: FilterField, match: FilterMatch, value: str) -> str:
    """The value as stored, or 422 naming `match` or `value`."""
    if match not in matching.ALLOWED_MATCHES[field]:
        allowed = ", ".join(m.value for m in matching.ALLOWED_MATCHES[field])
        raise Invalid("match", f"A {field.value} filter matches by {allowed}, not {match.value}.")
    if match == FilterMatch.regex:
        try:
            matching.compile_pattern(value)
        except matching.PatternError as exc:
            raise Invalid("value", str(exc)) from None
        return value
    if match == FilterMatch.address:
        try:
            return normalize_email(value.strip()).lower()
        except ValueError as exc:
            raise Invalid("value", str(exc)) from None
    if match == FilterMatch.domain:
        domain = value.strip().removeprefix("@").lower()
        if not _DOMAIN.match(domain):
            raise Invalid("value", f"Not a domain name: {value!r}.")
        return domain
    if not value.strip():
        raise Invalid("value", "The text to look for cannot be blank.")
    return value


async def list_filters(session: AsyncSession, caller: Caller, server_id: uuid.UUID) -> list[ChannelFilter]:
    server_id = await _server_id(session, caller, server_id)
    return list(await FilterRepository(session).filters(caller.company_id, server_id))


async def get_filter(session: AsyncSession, caller: Caller, server_id: uuid.UUID,
                     filter_id: uuid.UUID) -> ChannelFilter:
    server_id = await _server_id(session, caller, server_id)
    return await _filter(FilterRepository(session), caller, server_id, filter_id)


async def create_filter(session: AsyncSession, caller: Caller, server_id: uuid.UUID,
                        data: ChannelFilterCreate) -> ChannelFilter:
    server_id = await _server_id(session, caller, server_id)
    repo = FilterRepository(session)
    value = checked_value(data.field, data.match, data.value)
    await _check_campaign(session, caller, "campaign_id", data.campaign_id)
    if await repo.name_taken(caller.company_id, server_id, data.name):
        raise Conflict("name", "This server already has a filter with this name.")
    existing = list(await repo.filters(caller.company_id, server_id))
    channel_filter = ChannelFilter(id=uuid.uuid4(), company_id=caller.company_id, email_server_id=server_id,
                                   position=len(existing), name=data.name, field=data.field, match=data.match,
                                   value=value, campaign_id=data.campaign_id, enabled=data.enabled)
    index = len(existing) if data.position is None else min(data.position, len(existing))
    existing.insert(index, channel_filter)
    for position, row in enumerate(existing):
        row.position = position
    await repo.add(channel_filter)
    _changed(caller, server_id)
    return channel_filter


async def update_filter(session: AsyncSession, caller: Caller, server_id: uuid.UUID, filter_id: uuid.UUID,
                        data: ChannelFilterUpdate) -> ChannelFilter:
    server_id = await _server_id(session, caller, server_id)
    repo = FilterRepository(session)
    channel_filter = await _filter(repo, caller, server_id, filter_id)
    changes = data.model_dump(exclude_unset=True)
    for field, value in changes.items():
        if value is None:
            raise InvalidFields([(field, "This field cannot be null.")])
    field = changes.get("field", channel_filter.field)
    match = changes.get("match", channel_filter.match)
    value = checked_value(field, match, changes.get("value", channel_filter.value))
    if "campaign_id" in changes:
        await _check_campaign(session, caller, "campaign_id", changes["campaign_id"])
    if ("name" in changes and changes["name"].lower() != channel_filter.name.lower()
            and await repo.name_taken(caller.company_id, server_id, changes["name"], except_id=channel_filter.id)):
        raise Conflict("name", "This server already has a filter with this name.")
    for key in ("name", "campaign_id", "enabled"):
        if key in changes:
            setattr(channel_filter, key, changes[key])
    channel_filter.field, channel_filter.match, channel_filter.value = field, match, value
    await session.flush()
    _changed(caller, server_id)
    return channel_filter


async def delete_filter(session: AsyncSession, caller: Caller, server_id: uuid.UUID, filter_id: uuid.UUID) -> None:
    server_id = await _server_id(session, caller, server_id)
    repo = FilterRepository(session)
    await repo.delete(await _filter(repo, caller, server_id, filter_id))
    _changed(caller, server_id)


async def reorder(session: AsyncSession, caller: Caller, server_id: uuid.UUID,
                  filter_ids: list[uuid.UUID]) -> list[ChannelFilter]:
    server_id = await _server_id(session, caller, server_id)
    repo = FilterRepository(session)
    filters = {f.id: f for f in await repo.filters(caller.company_id, server_id)}
    if len(set(filter_ids)) != len(filter_ids):
        raise Invalid("filter_ids", "A filter appears more than once.")
    if set(filter_ids) != set(filters):
        unknown = [str(i) for i in filter_ids if i not in filters]
        missing = [str(i) for i in filters if i not in set(filter_ids)]
        detail = "; ".join(filter(None, [unknown and f"not this server's: {', '.join(unknown)}",
                                         missing and f"missing: {', '.join(missing)}"]))
        raise Invalid("filter_ids", f"List every filter of this server exactly once ({detail}).")
    for position, filter_id in enumerate(filter_ids):
        filters[filter_id].position = position
    await session.flush()
    _changed(caller, server_id)
    return [filters[i] for i in filter_ids]


async def get_default(session: AsyncSession, caller: Caller, server_id: uuid.UUID) -> DefaultCampaignPublic:
    server_id = await _server_id(session, caller, server_id)
    repo = FilterRepository(session)
    default = await repo.default(caller.company_id, server_id)
    return DefaultCampaignPublic(campaign_id=default.campaign_id if default else None,
                                 effective_campaign_id=await _effective_default(session, repo, caller.company_id,
                                                                                server_id))


async def set_default(session: AsyncSession, caller: Caller, server_id: uuid.UUID,
                      campaign_id: uuid.UUID | None) -> DefaultCampaignPublic:
    server_id = await _server_id(session, caller, server_id)
    repo = FilterRepository(session)
    default = await repo.default(caller.company_id, server_id)
    if campaign_id is None:
        if default is not None:
            await repo.delete(default)
    else:
        await _check_campaign(session, caller, "campaign_id", campaign_id)
        if default is None:
            await repo.add(ChannelDefault(email_server_id=server_id, company_id=caller.company_id,
                                          campaign_id=campaign_id))
        else:
            default.campaign_id = campaign_id
            await session.flush()
    _changed(caller, server_id)
    return await get_default(session, caller, server_id)


def _header_recipients(raw: bytes) -> list[str]:
    headers = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
    values = [str(v) for name in ("Delivered-To", "X-Original-To") for v in headers.get_all(name, [])]
    return [address for _, address in email.utils.getaddresses(values) if "@" in address]


async def test_message(session: AsyncSession, caller: Caller, server_id: uuid.UUID,
                       data: FilterTestRequest) -> FilterTestResult:
    """Which campaign a pasted raw message would go to, and which filter decided."""
    server_id = await _server_id(session, caller, server_id)
    # Pasted text: let bare LF lines be (the parser accepts them) and keep non-ASCII as UTF-8.
    raw = data.raw_message.encode("utf-8", errors="surrogateescape")
    try:
        message = await parse_message_async(raw)
    except MessageLimitExceeded as exc:
        raise Invalid("raw_message", f"The message is too large or too complex to test: {exc}.") from None
    delivered_to = data.delivered_to if data.delivered_to is not None else _header_recipients(raw)
    decision = await choose_campaign(session, company_id=caller.company_id, server_id=server_id, message=message,
                                     delivered_to=delivered_to)
    campaign = (await campaign_service.find_campaign(session, caller.company_id, decision.campaign_id)
                if decision.campaign_id else None)
    chosen = (await FilterRepository(session).get(caller.company_id, server_id, decision.filter_id)
              if decision.filter_id else None)
    view = matching.MessageView.of(message, delivered_to)
    return FilterTestResult(
        reason=decision.reason, campaign_id=decision.campaign_id,
        campaign_title=campaign.title if campaign else None, campaign_enabled=campaign.enabled if campaign else None,
        filter_id=decision.filter_id, filter_name=chosen.name if chosen else None,
        subject=message.subject, sender=view.sender, recipients=list(view.recipients),
    )


@campaign_service.campaign_dependents_finder
async def filters_routing_to(session: AsyncSession, company_id: uuid.UUID, campaign_id: uuid.UUID) -> list[Dependent]:
    filters, defaults = await FilterRepository(session).routing_to_campaign(company_id, campaign_id)
    found = [Dependent(kind="channel_filter", id=f.id, name=f.name) for f in filters]
    # The servers service answers callers only; a read-only company-scoped one is enough to name the server.
    reader = Caller(company_id=company_id, role=Role.supervisor)
    for default in defaults:
        server = await server_service.get_server(session, reader, default.email_server_id)
        found.append(Dependent(kind="email_server_default", id=server.id, name=server.name))
    return found
