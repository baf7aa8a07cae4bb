"""Rules for templates: well-formed ${variable} placeholders, a campaign of the same company, kind and
campaign kept compatible with the campaigns using the template, rendering with escaped values, and the
files attached to a template (bounded in size and number, bytes in the blob store)."""

from __future__ import annotations

import re
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.accounts.caller import Caller
from postdesk.campaigns import service as campaign_service
from postdesk.db import utcnow
from postdesk.errors import Conflict, Invalid, InvalidFields, NotFound, PayloadTooLarge, UnknownReference
from postdesk.storage import BlobNotFound, BlobStore
from postdesk.templates import placeholders
from postdesk.templates.models import Template, TemplateAttachment, TemplateKind
from postdesk.templates.repository import TemplateRepository
from postdesk.templates.schemas import TemplateCreate, TemplatePreview, TemplatePublic, TemplateUpdate
from postdesk.uow import publish

_TEXT_FIELDS = ("subject", "html_body", "text_body")


def _placeholder_problems(values: dict[str, str | None]) -> list[tuple[str, str]]:
    problems = []
    for field in _TEXT_FIELDS:
        text = values.get(field)
        if not text:
            continue
        try:
            placeholders.parse(text)
        except placeholders.PlaceholderError as error:
            problems.append((field, f"Malformed placeholder at character {error.position}: {error.reason}."))
    return problems


def text_body_of(template: Template) -> str:
    return template.text_body if template.text_body is not None else placeholders.text_from_html(template.html_body)


def variables_of(template: Template) -> list[str]:
    names: list[str] = []
    for text in (template.subject, template.html_body, text_body_of(template)):
        names.extend(placeholders.variables(text))
    return list(dict.fromkeys(names))


def public(template: Template) -> TemplatePublic:
    return TemplatePublic(
        id=template.id, name=template.name, kind=template.kind, subject=template.subject,
        html_body=template.html_body, text_body=text_body_of(template), text_is_derived=template.text_body is None,
        campaign_id=template.campaign_id, variables=variables_of(template), assigned_at=template.assigned_at,
        created_at=template.created_at, updated_at=template.updated_at,
    )


async def _template(repo: TemplateRepository, caller: Caller, template_id: uuid.UUID) -> Template:
    template = await repo.get(caller.company_id, template_id)
    if template is None:
        raise NotFound("Template")
    return template


async def get_template(session: AsyncSession, caller: Caller, template_id: uuid.UUID) -> Template:
    return await _template(TemplateRepository(session), caller, template_id)


async def list_templates(
    session: AsyncSession, caller: Caller, *, kind: TemplateKind | None, campaign_id: uuid.UUID | None,
    search: str | None, offset: int, limit: int,
) -> tuple[list[Template], int]:
    rows, total = await TemplateRepository(session).list(caller.company_id, kind=kind, campaign_id=campaign_id,
                                                         search=search, offset=offset, limit=limit)
    return list(rows), total


async def available_to_campaign(session: AsyncSession, company_id: uuid.UUID, campaign_id: uuid.UUID) -> list[Template]:
    return list(await TemplateRepository(session).available_to_campaign(company_id, campaign_id))


async def _check_campaign(session: AsyncSession, caller: Caller, campaign_id: uuid.UUID | None) -> None:
    if campaign_id is None:
        return
    try:
        await campaign_service.get_campaign(session, caller, campaign_id)
    except NotFound:
        raise UnknownReference("campaign_id", "Campaign") from None


async def create_template(session: AsyncSession, caller: Caller, data: TemplateCreate) -> Template:
    repo = TemplateRepository(session)
    problems = _placeholder_problems(data.model_dump())
    if problems:
        raise InvalidFields(problems)
    await _check_campaign(session, caller, data.campaign_id)
    if await repo.name_taken(caller.company_id, data.name):
        raise Conflict("name", "A template with this name already exists.")
    template = await repo.add(Template(company_id=caller.company_id, **data.model_dump(), assigned_at=utcnow()))
    publish("template.changed", caller.company_id, {"id": str(template.id)})
    return template


async def update_template(session: AsyncSession, caller: Caller, template_id: uuid.UUID,
                          data: TemplateUpdate) -> Template:
    repo = TemplateRepository(session)
    template = await _template(repo, caller, template_id)
    changes = data.model_dump(exclude_unset=True)
    for required in ("name", "kind", "subject", "html_body"):
        if required in changes and changes[required] is None:
            raise InvalidFields([(required, "This field cannot be null.")])
    problems = _placeholder_problems(changes)
    if problems:
        raise InvalidFields(problems)
    renamed = "name" in changes and changes["name"].lower() != template.name.lower()
    if renamed and await repo.name_taken(caller.company_id, changes["name"], except_id=template.id):
        raise Conflict("name", "A template with this name already exists.")
    moving = "campaign_id" in changes and changes["campaign_id"] != template.campaign_id
    if moving:
        await _check_campaign(session, caller, changes["campaign_id"])
    retyping = "kind" in changes and changes["kind"] != template.kind
    if moving or retyping:
        users = await campaign_service.campaigns_using_template(session, caller.company_id, template.id)
        if retyping and users:
            raise campaign_service.still_used("The template's kind cannot change while it is used by", users)
        stranded = [c for c in users if changes.get("campaign_id") not in (None, c.id)]
        if moving and stranded:
            raise campaign_service.still_used("The template would no longer be available to", stranded)
    for key, value in changes.items():
        setattr(template, key, value)
    if moving:
        template.assigned_at = utcnow()
    await session.flush()
    publish("template.changed", caller.company_id, {"id": str(template.id)})
    return template


async def delete_template(session: AsyncSession, caller: Caller, template_id: uuid.UUID) -> None:
    repo = TemplateRepository(session)
    template = await _template(repo, caller, template_id)
    users = await campaign_service.campaigns_using_template(session, caller.company_id, template.id)
    if users:
        raise campaign_service.still_used("This template is the auto-reply or signature of", users)
    await repo.delete(template)
    publish("template.changed", caller.company_id, {"id": str(template_id), "deleted": True})


def render(template: Template, values: dict[str, str]) -> TemplatePreview:
    """Subject and plain text get raw values, HTML gets escaped ones; the subject stays one header line."""
    subject_variables = placeholders.variables(template.subject)
    bad = [(f"variables.{name}", "A value used in the subject must not contain line breaks.")
           for name in subject_variables if any(ch in values.get(name, "") for ch in "\r\n\x00")]
    if bad:
        raise InvalidFields(bad)
    used = variables_of(template)
    return TemplatePreview(
        subject=placeholders.render(template.subject, values),
        html_body=placeholders.render(template.html_body, values, escape=placeholders.escape_html),
        text_body=placeholders.render(text_body_of(template), values),
        variables=used,
        missing=[name for name in used if name not in values],
    )


async def preview(session: AsyncSession, caller: Caller, template_id: uuid.UUID,
                  values: dict[str, str]) -> TemplatePreview:
    return render(await get_template(session, caller, template_id), values)


# Attachments

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS_PER_TEMPLATE = 10
MAX_TOTAL_ATTACHMENT_BYTES = 20 * 1024 * 1024  # what every message made from the template carries

_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
_UNSAFE_FILENAME_CHARS = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029\"]+")


def clean_filename(filename: str | None) -> str:
    """A name safe in a MIME header and on disk: no path, no control characters, at most 255 characters."""
    name = re.split(r"[/\\]", filename or "")[-1]
    name = _UNSAFE_FILENAME_CHARS.sub("", name).strip().strip(".")
    if not name:
        return "attachment"
    stem, dot, extension = name.rpartition(".")
    if len(name) > 255:
        name = (stem[: 254 - len(extension)] + dot + extension) if dot and len(extension) < 20 else name[:255]
    return name


def clean_content_type(content_type: str | None) -> str:
    value = (content_type or "").split(";")[0].strip().lower()
    return value if _CONTENT_TYPE.match(value) else "application/octet-stream"


async def attachments_of(session: AsyncSession, template: Template) -> list[TemplateAttachment]:
    """The template's files (filename, content_type, size, storage_key for runtime.blobs), oldest first:
    replies and auto-replies made from the template carry them."""
    return list(await TemplateRepository(session).attachments(template.id))


async def list_attachments(session: AsyncSession, caller: Caller, template_id: uuid.UUID) -> list[TemplateAttachment]:
    return await attachments_of(session, await get_template(session, caller, template_id))


async def add_attachment(session: AsyncSession, caller: Caller, template_id: uuid.UUID, *, filename: str | None,
                         content_type: str | None, data: bytes, blobs: BlobStore) -> TemplateAttachment:
    repo = TemplateRepository(session)
    template = await _template(repo, caller, template_id)
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise PayloadTooLarge("file", f"An attachment may have at most {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MiB.",
                              limit=MAX_ATTACHMENT_BYTES)
    if not data:
        raise Invalid("file", "The file is empty.")
    await repo.lock(template)
    existing = await repo.attachments(template.id)
    if len(existing) >= MAX_ATTACHMENTS_PER_TEMPLATE:
        raise Invalid("file", f"A template may have at most {MAX_ATTACHMENTS_PER_TEMPLATE} attachments.",
                      limit=MAX_ATTACHMENTS_PER_TEMPLATE)
    if sum(a.size for a in existing) + len(data) > MAX_TOTAL_ATTACHMENT_BYTES:
        raise PayloadTooLarge("file", (f"A template's attachments may total at most "
                                       f"{MAX_TOTAL_ATTACHMENT_BYTES // (1024 * 1024)} MiB."),
                              limit=MAX_TOTAL_ATTACHMENT_BYTES)
    # Stored before the row: a rollback leaves an unreferenced content-addressed blob, never a row without bytes.
    key = await blobs.put(data)
    attachment = await repo.add_attachment(TemplateAttachment(
        company_id=caller.company_id, template_id=template.id, filename=clean_filename(filename),
        content_type=clean_content_type(content_type), size=len(data), storage_key=key))
    publish("template.changed", caller.company_id, {"id": str(template.id)})
    return attachment


async def _attachment(session: AsyncSession, caller: Caller, template_id: uuid.UUID,
                      attachment_id: uuid.UUID) -> TemplateAttachment:
    repo = TemplateRepository(session)
    template = await _template(repo, caller, template_id)
    attachment = await repo.attachment(template.id, attachment_id)
    if attachment is None:
        raise NotFound("Attachment")
    return attachment


async def download_attachment(session: AsyncSession, caller: Caller, template_id: uuid.UUID,
                              attachment_id: uuid.UUID, *, blobs: BlobStore) -> tuple[TemplateAttachment, bytes]:
    attachment = await _attachment(session, caller, template_id, attachment_id)
    try:
        return attachment, await blobs.get(attachment.storage_key)
    except BlobNotFound:
        raise NotFound("Attachment file") from None


async def delete_attachment(session: AsyncSession, caller: Caller, template_id: uuid.UUID,
                            attachment_id: uuid.UUID) -> None:
    # The blob stays: content-addressed bytes may be shared with other templates or messages.
    attachment = await _attachment(session, caller, template_id, attachment_id)
    await TemplateRepository(session).delete(attachment)  # type: ignore[arg-type]
    publish("template.changed", caller.company_id, {"id": str(template_id)})
