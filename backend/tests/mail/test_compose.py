"""Building outgoing MIME: injection refused, international names encoded, threading headers kept."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email import policy

import pytest

from postdesk.mail.addresses import EmailAddress, parse_address
from postdesk.mail.compose import (
    MAX_REFERENCES,
    Attachment,
    OutgoingMessage,
    build_message,
    check_message,
    conversation_token,
    find_conversation_token,
    make_message_id,
    message_bytes,
)
from postdesk.mail.errors import InvalidMessage


def wire(message: OutgoingMessage) -> bytes:
    raw = message_bytes(build_message(message))
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF line ends only
    return raw


def parsed(message: OutgoingMessage) -> email.message.EmailMessage:
    # The parser keeps CRLF inside bodies; convert to the text form readers compare against.
    text = wire(message).replace(b"\r\n", b"\n")
    return email.message_from_bytes(text, policy=policy.default)  # type: ignore[return-value]


def message(**fields: object) -> OutgoingMessage:
    defaults: dict[str, object] = {
        "sender": "support@example.test",
        "to": ["customer@example.test"],
        "subject": "Your question",
        "text": "Hello",
    }
    return OutgoingMessage(**{**defaults, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "fields"),
    [
        ("subject", {"subject": "Hi\nBcc: x@example.test"}),
        ("subject", {"subject": "Hi\rthere"}),
        ("subject", {"subject": "Hi\u2028there"}),
        ("subject", {"subject": "Hi\x00"}),
        ("subject", {"subject": "=?UTF-8?Q?=0A?="}),
        ("subject", {"subject": "Re: =?utf-8?q?a=0D=0ABcc=3A_x=40example=2Etest?="}),
        ("subject", {"subject": "=?UTF-8?B?DQpCY2M6IHhAZXhhbXBsZS50ZXN0?="}),
        ("subject", {"subject": "=?x-no-such-charset?q?hi?="}),
        ("to", {"to": ["a@example.test\nBcc: x@example.test"]}),
        ("to", {"to": ["a@example.test, b@example.test"]}),
        ("to", {"to": ["not an address"]}),
        ("cc", {"cc": ["=?utf-8?q?Ann=0A?= <ann@example.test>"]}),
        ("bcc", {"bcc": [EmailAddress("x@example.test\r\n")]}),
        ("reply_to", {"reply_to": ["Bob\n <bob@example.test>"]}),
        ("from", {"sender": EmailAddress("support@example.test", "=?utf-8?b?U3VwcG9ydAo=?=")}),
        ("from", {"sender": "jösé@example.test"}),
        ("message_id", {"message_id": "<a@b>\nX: y"}),
        ("references", {"references": ["<ok@example.test>", "<bad@example.test>\r\nX: y"]}),
        ("in_reply_to", {"in_reply_to": "no spaces allowed@x"}),
        ("auto_submitted", {"auto_submitted": "yes please"}),
        ("headers", {"headers": {"Bcc": "x@example.test"}}),
        ("headers", {"headers": {"X Bad Name": "1"}}),
        ("header X-Ticket", {"headers": {"X-Ticket": "1\r\nBcc: x@example.test"}}),
        ("attachment filename", {"attachments": [Attachment("a\r\n.pdf", "application/pdf", b"")]}),
        ("attachment filename", {"attachments": [Attachment("../../etc/passwd", "text/plain", b"")]}),
        ("attachment content_type", {"attachments": [Attachment("a.pdf", "application/pdf\r\nX: y", b"")]}),
        ("attachment content_id", {"attachments": [Attachment("a.png", "image/png", b"", inline=True)]}),
        ("to", {"to": []}),
    ],
)
def test_unsafe_or_invalid_fields_are_rejected_by_name(field: str, fields: dict[str, object]) -> None:
    with pytest.raises(InvalidMessage) as caught:
        build_message(message(**fields))
    assert caught.value.field == field


def test_non_ascii_names_subject_and_filenames_are_encoded() -> None:
    outgoing = message(
        sender=EmailAddress("support@example.test", "Jürgen Müller, Kundendienst"),
        to=["Zoë Ångström <zoe@example.test>"],
        subject="Ihre Anfrage – Grüße aus Köln",
        text="Schöne Grüße",
        attachments=[Attachment("Rechnung März – 2024.pdf", "application/pdf", b"%PDF")],
    )
    raw = wire(outgoing)
    assert raw.isascii()
    assert b"filename*=utf-8''Rechnung%20M%C3%A4rz" in raw  # RFC 2231
    assert b"=?utf-8?" in raw.split(b"\r\n\r\n")[0]  # RFC 2047 in the headers
    result = parsed(outgoing)
    assert result["From"].addresses[0].display_name == "Jürgen Müller, Kundendienst"
    assert result["To"].addresses[0].display_name == "Zoë Ångström"
    assert result["Subject"] == "Ihre Anfrage – Grüße aus Köln"
    [attachment] = result.iter_attachments()
    assert attachment.get_filename() == "Rechnung März – 2024.pdf"
    assert result.get_body(("plain",)).get_content().strip() == "Schöne Grüße"


def test_html_reply_with_inline_image_and_attachment_has_the_usual_structure() -> None:
    result = parsed(
        message(
            text=None,
            html="<p>Dear customer,<br>see <b>below</b>.</p><img src='cid:logo@acme'>",
            attachments=[
                Attachment("logo.png", "image/png", b"\x89PNG", content_id="<logo@acme>", inline=True),
                Attachment("terms.pdf", "application/pdf", b"%PDF"),
            ],
        )
    )
    assert result.get_content_type() == "multipart/mixed"
    alternative, pdf = result.iter_parts()
    plain, related = alternative.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    assert plain.get_content().strip() == "Dear customer,\nsee below."  # derived from the HTML
    html, logo = related.iter_parts()
    assert html.get_content_type() == "text/html"
    assert (logo["Content-ID"], logo.get_content_disposition()) == ("<logo@acme>", "inline")
    assert pdf.get_filename() == "terms.pdf"


def test_threading_headers_and_auto_submitted() -> None:
    references = [f"<m{n}@example.test>" for n in range(30)]
    result = parsed(
        message(
            in_reply_to="m29@example.test",
            references=references,
            auto_submitted="auto-replied",
            reply_to=["replies@example.test"],
            headers={"X-Postdesk-Interaction": "IX-9"},
            date=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        )
    )
    assert result["In-Reply-To"] == "<m29@example.test>"
    kept = result["References"].split()
    assert len(kept) == MAX_REFERENCES and kept[0] == "<m0@example.test>" and kept[-1] == "<m29@example.test>"
    assert result["Auto-Submitted"] == "auto-replied"
    assert result["Reply-To"] == "replies@example.test"
    assert result["X-Postdesk-Interaction"] == "IX-9"
    assert result["Date"] == "Fri, 02 Jan 2026 03:04:05 +0000"


def test_bcc_is_an_envelope_recipient_but_never_a_header() -> None:
    checked = check_message(
        message(cc=["boss@example.test"], bcc=["audit@example.test", "customer@example.test"])
    )
    assert checked.envelope_recipients == ["customer@example.test", "boss@example.test", "audit@example.test"]
    assert "Bcc" not in parsed(message(bcc=["audit@example.test"]))


def test_long_lines_and_8bit_text_are_made_safe_for_any_relay() -> None:
    raw = wire(message(text="ä" * 2000))
    assert raw.isascii()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998


def test_message_id_carries_a_conversation_token_we_can_read_back() -> None:
    message_id = make_message_id("mail.example.test", "IX-42_a")
    assert message_id.startswith("<") and message_id.endswith("@mail.example.test>")
    assert conversation_token(message_id, "mail.example.test") == "IX-42_a"
    assert conversation_token(message_id, "MAIL.example.test") == "IX-42_a"
    assert conversation_token(message_id, "other.example.test") is None
    assert conversation_token(make_message_id("mail.example.test"), "mail.example.test") is None
    assert conversation_token("<abc.IX-1@mail.example.test>", "mail.example.test") is None  # not ours
    assert conversation_token("garbage", "mail.example.test") is None
    assert find_conversation_token(["<x@elsewhere>", message_id], "mail.example.test") == "IX-42_a"
    with pytest.raises(InvalidMessage):
        make_message_id("mail.example.test", "bad token!")
    with pytest.raises(InvalidMessage):
        make_message_id("bad domain>", "IX")


def test_generated_message_id_uses_the_configured_domain() -> None:
    checked = check_message(message(), message_id_domain="mail.postdesk.test")
    assert checked.message_id.endswith("@mail.postdesk.test>")
    assert check_message(message()).message_id.endswith("@example.test>")


def test_addresses_are_normalised() -> None:
    assert parse_address("Ann <ann@EXAMPLE.test>", field="to") == EmailAddress("ann@example.test", "Ann")
    assert parse_address("info@bücher.example", field="to").address == "info@xn--bcher-kva.example"
