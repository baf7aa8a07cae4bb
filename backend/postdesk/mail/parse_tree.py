"""The fast reader: `fast_mail_parser` (Rust, GIL released) builds the MIME tree and decodes the
parts, 50x faster than the stdlib's line-by-line parser; this module picks the bodies and
attachments out of that tree with the same rules the stdlib reader applies.

Mail this parser refuses or cannot represent faithfully raises `UseStdlib` (or the library's
`ParseError`), and `postdesk.mail.parse` reads it with the stdlib instead.
"""

from __future__ import annotations

import re
from datetime import datetime
from email.header import decode_header
from email.message import Message
from email.utils import collapse_rfc2231_value, getaddresses, parsedate_to_datetime

import fast_mail_parser as fmp

from postdesk.mail.addresses import EmailAddress
from postdesk.mail.errors import MessageLimitExceeded
from postdesk.mail.parsed import (
    MSG_ID,
    AutomationHeaders,
    ParsedAttachment,
    ParsedMessage,
    ParseLimits,
    decode_text,
    delivered_to,
    first_msg_id,
    plausible_addresses,
    readable_filename,
    single_line,
)

type Node = fmp.PyLazyMimePart

_CHARSET = re.compile(r"""(?:^|;)\s*charset\s*=\s*"?([^";\s]+)""", re.IGNORECASE)


class UseStdlib(Exception):
    """This message is better read by the stdlib parser (it repairs what this one drops)."""


def read_with_tree(raw: bytes, limits: ParseLimits) -> ParsedMessage:
    """Raises MessageLimitExceeded over the caps, fmp.ParseError or UseStdlib for the fallback."""
    root = fmp.parse_email_tree(raw, mode="lazy")  # parts are decoded when read
    _check_structure(root, limits)
    return _TreeReader(root, fmp.parse_email(raw, mode="metadata")).read()


def _check_structure(root: Node, limits: ParseLimits) -> None:
    parts = 0
    stack: list[tuple[Node, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        parts += 1
        if depth > limits.max_depth:
            raise MessageLimitExceeded("depth", limits.max_depth, depth)
        if parts > limits.max_parts:
            raise MessageLimitExceeded("parts", limits.max_parts)
        if _type(node).startswith("multipart/") and not node.children:
            raise UseStdlib("multipart without parts")  # the stdlib keeps its body as text
        stack.extend((child, depth + 1) for child in node.children)


def _type(node: Node) -> str:
    """The part's media type; one without a subtype is invalid and means text/plain (RFC 2045 5.2)."""
    return node.content_type if "/" in node.content_type else "text/plain"


def _headers(node: Node) -> dict[str, list[str]]:
    """Header values by lower-case name (the library keys them as spelled)."""
    index: dict[str, list[str]] = {}
    for name, values in node.headers.items():
        index.setdefault(name.lower(), []).extend(values)
    return index


def _content_type_params(headers: dict[str, list[str]]) -> Message:
    """A header-only stdlib message for Content-Type parameters (charset, start, report-type)."""
    params = Message()
    for value in headers.get("content-type", [])[:1]:
        params["Content-Type"] = value
    return params


def _charset(node: Node) -> str | None:
    headers = _headers(node)
    content_type = headers.get("content-type", [""])[0]
    if "*" in content_type:  # RFC 2231 parameters: let the stdlib read them
        return _content_type_params(headers).get_content_charset()
    found = _CHARSET.search(content_type)
    return found.group(1).lower() if found else None


def _param(headers: dict[str, list[str]], name: str) -> str | None:
    value = _content_type_params(headers).get_param(name)
    return None if value is None else collapse_rfc2231_value(value)


class _TreeReader:
    def __init__(self, root: Node, meta: fmp.PyMailMetadata) -> None:
        self.root = root
        self.meta = meta
        self.headers = _headers(root)
        self.problems: list[str] = []

    def _header(self, name: str) -> str:
        values = self.headers.get(name)
        return values[0] if values else ""

    def read(self) -> ParsedMessage:
        text_part, html_part = _find_body(self.root, "plain"), _find_body(self.root, "html")
        extra_text, attachments = self._other_parts({id(text_part), id(html_part)})
        text = self._text_of(text_part) if text_part is not None else None
        if extra_text:
            text = "\n\n".join(filter(None, [text, *extra_text]))
        message_id = self._header("message-id")
        return ParsedMessage(
            message_id=first_msg_id(message_id) or (message_id.strip() or None),
            in_reply_to=first_msg_id(self._header("in-reply-to")),
            references=tuple(MSG_ID.findall(self._header("references"))),
            subject=single_line(self._words(self.meta.subject)),
            sender=next(iter(self._addresses("from", [self.meta.from_] if self.meta.from_ else [])), None),
            to=self._addresses("to", self.meta.to),
            cc=self._addresses("cc", self.meta.cc),
            reply_to=self._addresses("reply-to", self.meta.reply_to),
            date=self._date(),
            text=text,
            html=self._text_of(html_part) if html_part is not None else None,
            attachments=tuple(attachments),
            automation=self._automation_headers(),
            delivered_to=delivered_to([*self.headers.get("delivered-to", []), *self.headers.get("x-original-to", [])]),
            problems=tuple(self.problems),
        )

    def _words(self, value: str) -> str:
        """Encoded words the library left as they came (an unknown charset), decoded leniently."""
        if "=?" not in value:
            return value
        try:
            chunks = decode_header(value)
        except Exception:  # noqa: BLE001 - not really encoded words: keep the text as it came
            return value
        return "".join(chunk if isinstance(chunk, str) else decode_text(chunk, charset, self.problems)
                       for chunk, charset in chunks)

    def _addresses(self, name: str, parsed: list[fmp.PyAddress]) -> tuple[EmailAddress, ...]:
        pairs = [(self._words(address.display_name or ""), address.address) for address in parsed]
        if not pairs and self._header(name).strip():
            pairs = getaddresses(self.headers[name][:1], strict=False)
            if plausible_addresses(pairs):
                self.problems.append(f"{name} header read leniently")
        return plausible_addresses(pairs)

    def _date(self) -> datetime | None:
        if self.meta.date_parsed is not None:
            return self.meta.date_parsed
        if not self.meta.date.strip():
            return None
        try:
            return parsedate_to_datetime(self.meta.date)  # formats the library does not read
        except (TypeError, ValueError):
            self.problems.append(f"unreadable date header: {self.meta.date!r}")
            return None

    def _automation_headers(self) -> AutomationHeaders:
        content_type = _type(self.root)
        return AutomationHeaders(
            auto_submitted=self._header("auto-submitted").strip() or None,
            precedence=self._header("precedence").strip() or None,
            x_auto_response_suppress=self._header("x-auto-response-suppress").strip() or None,
            x_loop=tuple(value.strip() for value in self.headers.get("x-loop", [])),
            list_id=self._header("list-id").strip() or None,
            list_unsubscribe=self._header("list-unsubscribe").strip() or None,
            return_path=self._header("return-path").strip() or None,
            content_type=content_type,
            report_type=_param(self.headers, "report-type") if content_type == "multipart/report" else None,
        )

    def _other_parts(self, body_ids: set[int]) -> tuple[list[str], list[ParsedAttachment]]:
        extra_text: list[str] = []
        attachments: list[ParsedAttachment] = []
        for part in _leaves(self.root):
            if id(part) in body_ids:
                continue
            filename = readable_filename(part.filename)
            if (
                _type(part) == "text/plain"
                and filename is None
                and part.disposition != "attachment"
                and _type(self.root) != "multipart/report"
            ):
                extra_text.append(self._text_of(part))  # e.g. Apple Mail's text/image/text bodies
                continue
            attachments.append(ParsedAttachment(
                filename=filename,
                content_type=_type(part),
                data=part.content or b"",
                content_id=part.content_id or None,
                inline=part.disposition == "inline" or (part.disposition is None and bool(part.content_id)),
            ))
        return extra_text, attachments

    def _text_of(self, part: Node) -> str:
        return decode_text(part.content or b"", _charset(part), self.problems)


def _leaves(root: Node) -> list[Node]:
    """Leaf parts in order; an attached message (message/*) is one leaf, not descended into."""
    leaves: list[Node] = []
    stack = [root]
    while stack:
        part = stack.pop()
        if _type(part).startswith("multipart/"):
            stack.extend(reversed(part.children))
        else:
            leaves.append(part)
    return leaves


def _find_body(part: Node, subtype: str) -> Node | None:
    """The first text/`subtype` body, chosen as `EmailMessage.get_body((subtype,))` chooses it:
    attachments are skipped, and in a multipart/related only its start part (or its first) counts."""
    if part.disposition == "attachment":
        return None
    maintype, _, sub = _type(part).partition("/")
    if maintype == "text":
        return part if sub == subtype else None
    if maintype != "multipart" or not part.children:
        return None
    if sub == "related":
        start = (_param(_headers(part), "start") or "").strip().strip("<>")
        candidate = next((child for child in part.children if start and child.content_id == start),
                         part.children[0])
        return _find_body(candidate, subtype)
    for child in part.children:
        found = _find_body(child, subtype)
        if found is not None:
            return found
    return None
