"""What parsing a received message produces, and the repairs both parsers apply the same way.

`postdesk.mail.parse` reads mail with a fast parser and falls back to the stdlib's for mail the fast
one refuses; both build these values with these helpers, so callers cannot tell which one ran.
"""

from __future__ import annotations

import codecs
import contextlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.header import decode_header, make_header

from postdesk.mail.addresses import EmailAddress

MSG_ID = re.compile(r"<[^<>\s]+>")
PLAUSIBLE_ADDRESS = re.compile(r"[^\s<>()\[\]\\,;:]+@[^\s<>()\[\]\\,;:@\"]+")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")
_SURROGATES = re.compile(r"[\udc80-\udcff]")
FALLBACK_CHARSET = "windows-1252"  # what mislabelled "ascii"/"iso-8859-1" mail usually really is


@dataclass(frozen=True)
class ParseLimits:
    """Caps on what we agree to parse; exceeding one raises MessageLimitExceeded."""

    max_bytes: int = 50 * 1024 * 1024
    max_parts: int = 300
    max_depth: int = 30


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str | None
    content_type: str
    data: bytes
    content_id: str | None = None  # without angle brackets, as referenced by cid: URLs
    inline: bool = False


@dataclass(frozen=True)
class AutomationHeaders:
    """The headers auto-reply suppression looks at (RFC 3834 and common practice)."""

    auto_submitted: str | None = None
    precedence: str | None = None
    x_auto_response_suppress: str | None = None
    x_loop: tuple[str, ...] = ()
    list_id: str | None = None
    list_unsubscribe: str | None = None
    return_path: str | None = None
    content_type: str = "text/plain"
    report_type: str | None = None  # report-type of a multipart/report (delivery status, read receipts)


@dataclass(frozen=True)
class ParsedMessage:
    """A received message. `sender` is the From address; bodies are raw (sanitise HTML before display)."""

    message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    subject: str = ""
    sender: EmailAddress | None = None
    to: tuple[EmailAddress, ...] = ()
    cc: tuple[EmailAddress, ...] = ()
    reply_to: tuple[EmailAddress, ...] = ()
    date: datetime | None = None
    text: str | None = None
    html: str | None = None
    attachments: tuple[ParsedAttachment, ...] = ()
    automation: AutomationHeaders = field(default_factory=AutomationHeaders)
    delivered_to: tuple[str, ...] = ()  # Delivered-To / X-Original-To addresses (channel filters)
    problems: tuple[str, ...] = ()


def first_msg_id(value: str) -> str | None:
    found = MSG_ID.search(value)
    return found.group(0) if found else None


def plausible_addresses(pairs: list[tuple[str, str]]) -> tuple[EmailAddress, ...]:
    """(display name, address) pairs as addresses, dropping what cannot be an address at all."""
    return tuple(
        EmailAddress(address=address.strip(), name=single_line(display_name))
        for display_name, address in pairs
        if PLAUSIBLE_ADDRESS.fullmatch(address.strip())
    )


def delivered_to(values: list[str]) -> tuple[str, ...]:
    found = (value.strip().strip("<>") for value in values)
    return tuple(address for address in found if PLAUSIBLE_ADDRESS.fullmatch(address))[:10]


def decode_text(payload: bytes, declared: str | None, problems: list[str]) -> str:
    """A text part's bytes as text: the declared charset, else UTF-8, else a lenient guess."""
    declared = declared or "us-ascii"
    try:
        codec: str | None = codecs.lookup(declared).name
    except LookupError:
        problems.append(f"unknown charset {declared!r}")
        codec = None
    if codec is not None:
        try:
            return payload.decode(codec)
        except UnicodeDecodeError:
            problems.append(f"text is not valid {declared}")
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        return payload.decode(codec if codec not in (None, "ascii") else FALLBACK_CHARSET, errors="replace")


def readable_filename(filename: str | None) -> str | None:
    if not filename:
        return None
    if "=?" in filename:  # RFC 2047 inside a parameter: not standard, but what many mailers send
        with contextlib.suppress(Exception):  # undecodable: keep the name as it came
            filename = str(make_header(decode_header(filename)))
    return single_line(filename) or None


def single_line(value: str) -> str:
    """Readable one-line text: undecodable bytes repaired, line breaks and control characters as spaces."""
    if _SURROGATES.search(value):  # bytes the header's (unknown) charset could not decode
        raw = value.encode("utf-8", errors="surrogateescape")
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            value = raw.decode(FALLBACK_CHARSET, errors="replace")
    return _CONTROL_CHARS.sub(" ", value).strip()

