"""Incoming messages: raw bytes from IMAP/POP3 to a `ParsedMessage` the inbound pipeline can store.

Customer mail is often broken (wrong or unknown charsets, bad base64, missing boundaries), and a
contact centre must still show it, so parsing degrades instead of failing: unreadable text is
decoded with replacement characters and each workaround is noted in `ParsedMessage.problems`.
Only the explicit caps (`ParseLimits`) raise, with `MessageLimitExceeded`, so a hostile message
cannot exhaust memory, CPU or the recursion limit.

Parsing is CPU work: call `parse_message_async` from async code (it runs in a worker thread).

Speed: the MIME structure is parsed with the `compat32` policy, whose headers are plain strings, and
only the headers we read are turned into the modern policy's typed headers (the same
`header_fetch_parse` `policy.default` would apply). Parsing everything with `policy.default`
re-parses Content-Type through the header registry on every structural lookup and was 5x slower.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses

from postdesk.mail.addresses import EmailAddress
from postdesk.mail.errors import MessageLimitExceeded

_STRUCTURE_POLICY = policy.compat32  # MIME tree with string headers: fast, and keeps original bytes
_HEADER_POLICY = policy.default  # typed headers (addresses, dates, RFC 2047) for the few we read
_MSG_ID = re.compile(r"<[^<>\s]+>")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")
_SURROGATES = re.compile(r"[\udc80-\udcff]")
_PLAUSIBLE_ADDRESS = re.compile(r"[^\s<>()\[\]\\,;:]+@[^\s<>()\[\]\\,;:@\"]+")
_BOUNDARY_PARAM = re.compile(rb"boundary\s*=", re.IGNORECASE)
_FALLBACK_CHARSET = "windows-1252"  # what mislabelled "ascii"/"iso-8859-1" mail usually really is


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


async def parse_message_async(raw: bytes, limits: ParseLimits = ParseLimits()) -> ParsedMessage:
    return await asyncio.to_thread(parse_message, raw, limits)


def parse_message(raw: bytes, limits: ParseLimits = ParseLimits()) -> ParsedMessage:
    """Parse `raw`; raises MessageLimitExceeded over the caps and nothing else."""
    if len(raw) > limits.max_bytes:
        raise MessageLimitExceeded("bytes", limits.max_bytes, len(raw))
    # Each boundary costs the stdlib parser a recursion level and a per-line check: bound them first.
    boundaries = len(_BOUNDARY_PARAM.findall(raw))
    if boundaries > limits.max_parts:
        raise MessageLimitExceeded("parts", limits.max_parts, boundaries)
    try:
        message = BytesParser(_class=EmailMessage, policy=_STRUCTURE_POLICY).parsebytes(raw)
    except RecursionError:
        raise MessageLimitExceeded("depth", limits.max_depth) from None
    except Exception as exc:  # noqa: BLE001 - garbage in, degraded message out
        return ParsedMessage(text=raw.decode("utf-8", errors="replace"), problems=(f"unparseable: {exc!r}",))
    assert isinstance(message, EmailMessage)
    _check_structure(message, limits)
    return _Reader(message).read()


def _check_structure(message: Message, limits: ParseLimits) -> None:
    parts = 0
    stack: list[tuple[Message, int]] = [(message, 0)]
    while stack:
        part, depth = stack.pop()
        parts += 1
        if depth > limits.max_depth:
            raise MessageLimitExceeded("depth", limits.max_depth, depth)
        if parts > limits.max_parts:
            raise MessageLimitExceeded("parts", limits.max_parts)
        if part.is_multipart():
            payload = part.get_payload()
            stack.extend((child, depth + 1) for child in payload if isinstance(child, Message))


class _Reader:
    """Extracts the fields of one parsed message, noting every workaround in `problems`."""

    def __init__(self, message: EmailMessage) -> None:
        self.message = message
        self.problems: list[str] = []
        self.raw_headers: dict[str, list[str]] = {}
        for name, value in message.raw_items():
            self.raw_headers.setdefault(name.lower(), []).append(value)

    def _raw(self, name: str) -> str:
        """The first `name` header as it came (the fallback for one that cannot be parsed)."""
        values = self.raw_headers.get(name)
        return str(values[0]) if values else ""

    def _typed(self, name: str) -> object | None:
        """The first `name` header as `policy.default` would return it (raises on a broken one)."""
        values = self.raw_headers.get(name)
        return _HEADER_POLICY.header_fetch_parse(name, values[0]) if values else None

    def read(self) -> ParsedMessage:
        text_part, html_part = self._body_parts()
        extra_text, attachments = self._other_parts({id(text_part), id(html_part)})
        text = self._text_of(text_part) if text_part is not None else None
        if extra_text:
            text = "\n\n".join(filter(None, [text, *extra_text]))
        references = tuple(_MSG_ID.findall(self._header("references")))
        return ParsedMessage(
            message_id=self._first_msg_id("message-id") or (self._header("message-id").strip() or None),
            in_reply_to=self._first_msg_id("in-reply-to"),
            references=references,
            subject=_single_line(self._header("subject")),
            sender=next(iter(self._addresses("from")), None),
            to=self._addresses("to"),
            cc=self._addresses("cc"),
            reply_to=self._addresses("reply-to"),
            date=self._date(),
            text=text,
            html=self._text_of(html_part) if html_part is not None else None,
            attachments=tuple(attachments),
            automation=self._automation_headers(),
            delivered_to=self._delivered_to(),
            problems=tuple(self.problems),
        )

    # --- headers -------------------------------------------------------------------------------

    def _header(self, name: str) -> str:
        try:
            value = self._typed(name)
            return "" if value is None else str(value)
        except Exception as exc:  # noqa: BLE001 - a malformed header must not lose the message
            self.problems.append(f"unreadable {name} header: {exc!r}")
            return self._raw(name)

    def _all_headers(self, name: str) -> tuple[str, ...]:
        try:
            return tuple(str(_HEADER_POLICY.header_fetch_parse(name, value))
                         for value in self.raw_headers.get(name, []))
        except Exception as exc:  # noqa: BLE001
            self.problems.append(f"unreadable {name} header: {exc!r}")
            return ()

    def _delivered_to(self) -> tuple[str, ...]:
        found = [value.strip().strip("<>") for name in ("delivered-to", "x-original-to")
                 for value in self._all_headers(name)]
        return tuple(address for address in found if _PLAUSIBLE_ADDRESS.fullmatch(address))[:10]

    def _first_msg_id(self, name: str) -> str | None:
        found = _MSG_ID.search(self._header(name))
        return found.group(0) if found else None

    def _addresses(self, name: str) -> tuple[EmailAddress, ...]:
        try:
            header = self._typed(name)
            if header is None:
                return ()
            pairs = [(address.display_name, address.addr_spec) for address in header.addresses]
        except Exception as exc:  # noqa: BLE001
            self.problems.append(f"unreadable {name} header: {exc!r}")
            pairs = getaddresses([self._raw(name)], strict=False)
        return tuple(
            EmailAddress(address=address.strip(), name=_single_line(display_name))
            for display_name, address in pairs
            if _PLAUSIBLE_ADDRESS.fullmatch(address.strip())
        )

    def _date(self) -> datetime | None:
        try:
            header = self._typed("date")
            value = getattr(header, "datetime", None)
        except Exception as exc:  # noqa: BLE001
            self.problems.append(f"unreadable date header: {exc!r}")
            return None
        if value is None:
            return None
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    def _automation_headers(self) -> AutomationHeaders:
        content_type = self.message.get_content_type()
        return AutomationHeaders(
            auto_submitted=self._header("auto-submitted").strip() or None,
            precedence=self._header("precedence").strip() or None,
            x_auto_response_suppress=self._header("x-auto-response-suppress").strip() or None,
            x_loop=tuple(value.strip() for value in self._all_headers("x-loop")),
            list_id=self._header("list-id").strip() or None,
            list_unsubscribe=self._header("list-unsubscribe").strip() or None,
            return_path=self._header("return-path").strip() or None,
            content_type=content_type,
            report_type=self.message.get_param("report-type") if content_type == "multipart/report" else None,
        )

    # --- body and attachments ------------------------------------------------------------------

    def _body_parts(self) -> tuple[Message | None, Message | None]:
        try:
            return self.message.get_body(("plain",)), self.message.get_body(("html",))
        except Exception as exc:  # noqa: BLE001
            self.problems.append(f"no body structure: {exc!r}")
            leaves = [part for part in self._leaves() if part.get_content_maintype() == "text"]
            plain = next((part for part in leaves if part.get_content_subtype() == "plain"), None)
            html = next((part for part in leaves if part.get_content_subtype() == "html"), None)
            return plain, html

    def _other_parts(self, body_ids: set[int]) -> tuple[list[str], list[ParsedAttachment]]:
        extra_text: list[str] = []
        attachments: list[ParsedAttachment] = []
        for part in self._leaves():
            if id(part) in body_ids:
                continue
            filename = _filename(part)
            disposition = part.get_content_disposition()
            if (
                part.get_content_type() == "text/plain"
                and filename is None
                and disposition != "attachment"
                and self.message.get_content_type() != "multipart/report"
            ):
                extra_text.append(self._text_of(part))  # e.g. Apple Mail's text/image/text bodies
                continue
            attachments.append(self._attachment(part, filename, disposition))
        return extra_text, attachments

    def _leaves(self) -> list[Message]:
        """Leaf parts in order; an attached message (message/*) is one leaf, not descended into."""
        leaves: list[Message] = []
        stack: list[Message] = [self.message]
        while stack:
            part = stack.pop()
            if part.is_multipart() and part.get_content_maintype() == "multipart":
                stack.extend(reversed([child for child in part.get_payload() if isinstance(child, Message)]))
            else:
                leaves.append(part)
        return leaves

    def _attachment(self, part: Message, filename: str | None, disposition: str | None) -> ParsedAttachment:
        content_id = _MSG_ID.search(str(part.get("content-id", "")))
        return ParsedAttachment(
            filename=filename,
            content_type=part.get_content_type(),
            data=self._bytes_of(part),
            content_id=content_id.group(0)[1:-1] if content_id else None,
            inline=disposition == "inline" or (disposition is None and content_id is not None),
        )

    def _bytes_of(self, part: Message) -> bytes:
        if part.get_content_maintype() == "message" and part.is_multipart():
            try:
                return part.get_payload(0).as_bytes(policy=_STRUCTURE_POLICY)
            except Exception as exc:  # noqa: BLE001
                self.problems.append(f"attached message not serialisable: {exc!r}")
                return b""
        payload = part.get_payload(decode=True)
        return payload if isinstance(payload, bytes) else b""

    def _text_of(self, part: Message) -> str:
        payload = self._bytes_of(part)
        declared = part.get_content_charset() or "us-ascii"
        try:
            codec = codecs.lookup(declared).name
        except LookupError:
            self.problems.append(f"unknown charset {declared!r}")
            codec = None
        if codec is not None:
            try:
                return payload.decode(codec)
            except UnicodeDecodeError:
                self.problems.append(f"text is not valid {declared}")
        try:
            return payload.decode("utf-8")
        except UnicodeDecodeError:
            return payload.decode(
                codec if codec not in (None, "ascii") else _FALLBACK_CHARSET, errors="replace"
            )


def _filename(part: Message) -> str | None:
    try:
        filename = part.get_filename()
    except Exception:  # noqa: BLE001 - broken RFC 2231 parameters
        return None
    if not filename:
        return None
    if "=?" in filename:  # RFC 2047 inside a parameter: not standard, but what many mailers send
        with contextlib.suppress(Exception):  # undecodable: keep the name as it came
            filename = str(make_header(decode_header(filename)))
    return _single_line(filename) or None


def _single_line(value: str) -> str:
    """Readable one-line text: undecodable bytes repaired, line breaks and control characters as spaces."""
    if _SURROGATES.search(value):  # bytes the header's (unknown) charset could not decode
        raw = value.encode("utf-8", errors="surrogateescape")
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            value = raw.decode(_FALLBACK_CHARSET, errors="replace")
    return _CONTROL_CHARS.sub(" ", value).strip()
