"""Outgoing messages: from an `OutgoingMessage` (what an agent reply or an auto-reply says) to MIME.

Every header value and address is checked before anything is built; a value with a line break,
plain or hidden in an encoded word, raises `InvalidMessage` naming the field. Message-IDs carry a
conversation token (`<random.token@domain>`) so replies from customers can be threaded back to
their interaction even when the subject was changed.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from postdesk.mail.addresses import EmailAddress, check_header_text, parse_address, parse_addresses
from postdesk.mail.errors import InvalidMessage
from postdesk.mail.html import html_to_text

# 7bit keeps bodies quoted-printable/base64 so relays without 8BITMIME accept them; CRLF for SMTP.
OUTGOING_POLICY = policy.SMTP.clone(cte_type="7bit")

AUTO_SUBMITTED_VALUES = frozenset({"auto-generated", "auto-replied", "auto-notified"})
MAX_REFERENCES = 20  # long threads would otherwise grow the header without bound

# Headers the builder owns; extra headers may not override them.
_MANAGED_HEADERS = frozenset(
    name.lower()
    for name in (
        "From", "To", "Cc", "Bcc", "Reply-To", "Subject", "Date", "Message-ID", "In-Reply-To",
        "References", "Auto-Submitted", "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
        "Content-Disposition", "Content-ID", "Sender", "Return-Path",
    )
)  # fmt: skip
_HEADER_NAME = re.compile(r"[!-9;-~]{1,76}")  # RFC 5322 field-name, kept short enough to fold
_MSG_ID = re.compile(r"<[!-;=?-~]{1,250}@[!-;=?-~]{1,250}>")  # printable ASCII without < > or spaces
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")
_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")
_MIME_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}")
_CONTENT_ID = re.compile(r"[!-;=?-~]{1,250}")  # like a message id, but "logo" without a domain is common
_RANDOM_PART = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message; `inline` parts are referenced from the HTML as cid:<content_id>."""

    filename: str
    content_type: str
    data: bytes
    content_id: str | None = None
    inline: bool = False


@dataclass(frozen=True)
class OutgoingMessage:
    """Everything needed to send one message, independent of the transport (SMTP or SendGrid)."""

    sender: EmailAddress | str
    to: Sequence[EmailAddress | str]
    subject: str
    text: str | None = None
    html: str | None = None
    cc: Sequence[EmailAddress | str] = ()
    bcc: Sequence[EmailAddress | str] = ()
    reply_to: Sequence[EmailAddress | str] = ()
    message_id: str | None = None
    in_reply_to: str | None = None
    references: Sequence[str] = ()
    auto_submitted: str | None = None
    attachments: Sequence[Attachment] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    date: datetime | None = None


@dataclass(frozen=True)
class CheckedMessage:
    """An `OutgoingMessage` after validation: parsed addresses, a Message-ID, a date, a text body."""

    sender: EmailAddress
    to: tuple[EmailAddress, ...]
    cc: tuple[EmailAddress, ...]
    bcc: tuple[EmailAddress, ...]
    reply_to: tuple[EmailAddress, ...]
    subject: str
    text: str
    html: str | None
    message_id: str
    in_reply_to: str | None
    references: tuple[str, ...]
    auto_submitted: str | None
    attachments: tuple[Attachment, ...]
    headers: tuple[tuple[str, str], ...]
    date: datetime

    @property
    def envelope_recipients(self) -> list[str]:
        """Every recipient address once, Bcc included (Bcc never appears in the headers)."""
        return list(dict.fromkeys(recipient.address for recipient in (*self.to, *self.cc, *self.bcc)))


def make_message_id(domain: str, token: str | None = None) -> str:
    """A new Message-ID on `domain`, carrying `token` (e.g. the interaction's reference) if given."""
    if not _DOMAIN.fullmatch(domain):
        raise InvalidMessage("message_id_domain", f"not a domain name: {domain!r}")
    if token is not None and not _TOKEN.fullmatch(token):
        raise InvalidMessage("token", "only letters, digits, '-' and '_' (at most 64)")
    local = secrets.token_hex(16) + (f".{token}" if token else "")
    return f"<{local}@{domain.lower()}>"


def conversation_token(message_id: str, domain: str) -> str | None:
    """The token embedded by `make_message_id` in one of our Message-IDs on `domain`, else None."""
    match = _MSG_ID.fullmatch(message_id.strip())
    if not match:
        return None
    local, _, id_domain = message_id.strip()[1:-1].rpartition("@")
    random_part, dot, token = local.partition(".")
    if id_domain.lower() != domain.lower() or not dot or not _RANDOM_PART.fullmatch(random_part):
        return None
    return token if _TOKEN.fullmatch(token) else None


def find_conversation_token(message_ids: Iterable[str], domain: str) -> str | None:
    """The first token found in `message_ids` (pass In-Reply-To first, then References newest first)."""
    for message_id in message_ids:
        token = conversation_token(message_id, domain)
        if token:
            return token
    return None


def check_message(message: OutgoingMessage, *, message_id_domain: str | None = None) -> CheckedMessage:
    """Validate every field of `message`; raises InvalidMessage naming the first bad field."""
    sender = parse_address(message.sender, field="from")
    to = parse_addresses(list(message.to), field="to")
    cc = parse_addresses(list(message.cc), field="cc")
    bcc = parse_addresses(list(message.bcc), field="bcc")
    if not (to or cc or bcc):
        raise InvalidMessage("to", "at least one recipient is required")
    domain = message_id_domain or sender.address.rpartition("@")[2]
    message_id = (
        _check_msg_id("message_id", message.message_id) if message.message_id else make_message_id(domain)
    )
    in_reply_to = _check_msg_id("in_reply_to", message.in_reply_to) if message.in_reply_to else None
    return CheckedMessage(
        sender=sender,
        to=tuple(to),
        cc=tuple(cc),
        bcc=tuple(bcc),
        reply_to=tuple(parse_addresses(list(message.reply_to), field="reply_to")),
        subject=check_header_text("subject", message.subject),
        text=message.text if message.text is not None else html_to_text(message.html or ""),
        html=message.html,
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=_check_references(message.references),
        auto_submitted=_check_auto_submitted(message.auto_submitted),
        attachments=tuple(_check_attachment(attachment) for attachment in message.attachments),
        headers=tuple(_check_extra_header(name, value) for name, value in message.headers.items()),
        date=message.date or datetime.now(UTC),
    )


def build_message(
    message: OutgoingMessage | CheckedMessage, *, message_id_domain: str | None = None
) -> EmailMessage:
    """The MIME message: text (+ HTML alternative, + inline images) (+ attachments)."""
    if isinstance(message, CheckedMessage):
        checked = message
    else:
        checked = check_message(message, message_id_domain=message_id_domain)
    mime = EmailMessage(policy=OUTGOING_POLICY)
    _set_headers(mime, checked)
    mime.set_content(checked.text)
    if checked.html is not None:
        mime.add_alternative(checked.html, subtype="html")
        html_part = mime.get_payload()[-1]
        for attachment in checked.attachments:
            if attachment.inline:
                _add_inline_image(html_part, attachment)
    for attachment in checked.attachments:
        if not (attachment.inline and checked.html is not None):  # without HTML, inline parts go as files
            _add_attachment(mime, attachment)
    return mime


def _add_inline_image(html_part: EmailMessage, attachment: Attachment) -> None:
    """Turns the HTML part into multipart/related with the image the HTML shows as cid:<content_id>."""
    maintype, subtype = attachment.content_type.split("/", 1)
    html_part.add_related(
        attachment.data,
        maintype,
        subtype,
        cid=f"<{attachment.content_id}>",
        filename=attachment.filename,
        disposition="inline",
    )


def _add_attachment(mime: EmailMessage, attachment: Attachment) -> None:
    maintype, subtype = attachment.content_type.split("/", 1)
    mime.add_attachment(
        attachment.data,
        maintype,
        subtype,
        filename=attachment.filename,
        disposition="inline" if attachment.inline else "attachment",
        cid=f"<{attachment.content_id}>" if attachment.content_id else None,
    )


def message_bytes(message: EmailMessage) -> bytes:
    """The wire form (CRLF line ends) of a built message."""
    return message.as_bytes(policy=OUTGOING_POLICY)


def _set_headers(mime: EmailMessage, checked: CheckedMessage) -> None:
    mime["From"] = _header_address(checked.sender)
    if checked.to:
        mime["To"] = [_header_address(address) for address in checked.to]
    if checked.cc:
        mime["Cc"] = [_header_address(address) for address in checked.cc]
    if checked.reply_to:
        mime["Reply-To"] = [_header_address(address) for address in checked.reply_to]
    mime["Subject"] = checked.subject
    mime["Date"] = format_datetime(checked.date if checked.date.tzinfo else checked.date.replace(tzinfo=UTC))
    mime["Message-ID"] = checked.message_id
    if checked.in_reply_to:
        mime["In-Reply-To"] = checked.in_reply_to
    if checked.references:
        mime["References"] = " ".join(checked.references)
    if checked.auto_submitted:
        mime["Auto-Submitted"] = checked.auto_submitted
    for name, value in checked.headers:
        mime[name] = value


def _header_address(address: EmailAddress) -> Address:
    local, _, domain = address.address.rpartition("@")
    return Address(display_name=address.name, username=local, domain=domain)


def _check_msg_id(field_name: str, value: str) -> str:
    value = check_header_text(field_name, value).strip()
    if not value.startswith("<"):
        value = f"<{value}>"
    if not _MSG_ID.fullmatch(value):
        raise InvalidMessage(field_name, f"not a message id: {value!r}")
    return value


def _check_references(references: Sequence[str] | str) -> tuple[str, ...]:
    if isinstance(references, str):  # a References header value as received
        references = references.split()
    checked = [_check_msg_id("references", reference) for reference in references]
    if len(checked) > MAX_REFERENCES:
        # Keep the thread root and the most recent ancestors, as RFC 5322 section 3.6.4 suggests.
        checked = [checked[0], *checked[-(MAX_REFERENCES - 1) :]]
    return tuple(checked)


def _check_auto_submitted(value: str | None) -> str | None:
    if value is None:
        return None
    if value not in AUTO_SUBMITTED_VALUES:
        raise InvalidMessage("auto_submitted", f"must be one of {sorted(AUTO_SUBMITTED_VALUES)}")
    return value


def _check_attachment(attachment: Attachment) -> Attachment:
    check_header_text("attachment filename", attachment.filename)
    if not attachment.filename.strip() or "/" in attachment.filename or "\\" in attachment.filename:
        raise InvalidMessage("attachment filename", f"not a plain file name: {attachment.filename!r}")
    if not _MIME_TYPE.fullmatch(attachment.content_type):
        raise InvalidMessage("attachment content_type", f"not a MIME type: {attachment.content_type!r}")
    content_id = attachment.content_id
    if content_id is not None:
        content_id = (
            check_header_text("attachment content_id", content_id).strip().removeprefix("<").removesuffix(">")
        )
        if not _CONTENT_ID.fullmatch(content_id):
            raise InvalidMessage("attachment content_id", f"not a content id: {attachment.content_id!r}")
    elif attachment.inline:
        raise InvalidMessage("attachment content_id", "inline attachments need a content id")
    return dataclasses.replace(attachment, content_id=content_id)


def _check_extra_header(name: str, value: str) -> tuple[str, str]:
    if not _HEADER_NAME.fullmatch(name):
        raise InvalidMessage("headers", f"not a header name: {name!r}")
    if name.lower() in _MANAGED_HEADERS:
        raise InvalidMessage("headers", f"{name} is set by Postdesk and cannot be overridden")
    return name, check_header_text(f"header {name}", value)
