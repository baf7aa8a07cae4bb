"""The stdlib reader: for mail the fast parser refuses (undecodable base64, broken header blocks).

The stdlib's parser repairs more than it refuses, so broken mail still yields its text. It is
20-60x slower than the fast parser, which is why it is only the fallback.

It parses with `policy.default`, whose `get_body` understands Content-Disposition (the faster
`compat32` made it fail on every message with an attachment); speed matters little on this path.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses

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

_STRUCTURE_POLICY = policy.default
_HEADER_POLICY = policy.default  # typed headers (addresses, dates, RFC 2047), parsed from the raw values


def read_with_stdlib(raw: bytes, limits: ParseLimits) -> ParsedMessage:
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
        return ParsedMessage(
            message_id=first_msg_id(self._header("message-id")) or (self._header("message-id").strip() or None),
            in_reply_to=first_msg_id(self._header("in-reply-to")),
            references=tuple(MSG_ID.findall(self._header("references"))),
            subject=single_line(self._header("subject")),
            sender=next(iter(self._addresses("from")), None),
            to=self._addresses("to"),
            cc=self._addresses("cc"),
            reply_to=self._addresses("reply-to"),
            date=self._date(),
            text=text,
            html=self._text_of(html_part) if html_part is not None else None,
            attachments=tuple(attachments),
            automation=self._automation_headers(),
            delivered_to=delivered_to([*self._all_headers("delivered-to"), *self._all_headers("x-original-to")]),
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

    def _all_headers(self, name: str) -> list[str]:
        try:
            return [str(_HEADER_POLICY.header_fetch_parse(name, value)) for value in self.raw_headers.get(name, [])]
        except Exception as exc:  # noqa: BLE001
            self.problems.append(f"unreadable {name} header: {exc!r}")
            return []

    def _addresses(self, name: str) -> tuple[EmailAddress, ...]:
        try:
            header = self._typed(name)
            if header is None:
                return ()
            pairs = [(address.display_name, address.addr_spec) for address in header.addresses]
        except Exception as exc:  # noqa: BLE001
            self.problems.append(f"unreadable {name} header: {exc!r}")
            pairs = getaddresses([self._raw(name)], strict=False)
        return plausible_addresses(pairs)

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
        content_id = MSG_ID.search(str(part.get("content-id", "")))
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
                return part.get_payload(0).as_bytes(policy=policy.compat32)  # as it came, not re-folded
            except Exception as exc:  # noqa: BLE001
                self.problems.append(f"attached message not serialisable: {exc!r}")
                return b""
        payload = part.get_payload(decode=True)
        return payload if isinstance(payload, bytes) else b""

    def _text_of(self, part: Message) -> str:
        return decode_text(self._bytes_of(part), part.get_content_charset(), self.problems)


def _filename(part: Message) -> str | None:
    try:
        return readable_filename(part.get_filename())
    except Exception:  # noqa: BLE001 - broken RFC 2231 parameters
        return None
