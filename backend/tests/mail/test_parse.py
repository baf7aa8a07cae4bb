"""Parsing received mail: every field out of good mail, something readable out of broken mail, and
hard limits against hostile mail."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from postdesk.mail.addresses import EmailAddress
from postdesk.mail.compose import Attachment, OutgoingMessage, build_message, message_bytes
from postdesk.mail.errors import MessageLimitExceeded
from postdesk.mail.parse import ParseLimits, parse_message, parse_message_async


@pytest.mark.parametrize("fast", [True, False], ids=["fast-reader", "stdlib-reader"])
def test_round_trip_of_a_composed_reply(fast: bool) -> None:
    raw = message_bytes(
        build_message(
            OutgoingMessage(
                sender=EmailAddress("support@example.test", "Jürgen Support"),
                to=["Ann <ann@example.test>", "bob@example.test"],
                cc=["carol@example.test"],
                reply_to=["replies@example.test"],
                subject="Grüße",
                text="Hallo",
                html="<p>Hallo <img src='cid:logo'></p>",
                message_id="<m2@example.test>",
                in_reply_to="<m1@example.test>",
                references=["<m0@example.test>", "<m1@example.test>"],
                auto_submitted="auto-replied",
                attachments=[
                    Attachment("logo.png", "image/png", b"\x89PNG", content_id="logo", inline=True),
                    Attachment("Größe.pdf", "application/pdf", b"%PDF-1.4"),
                ],
                date=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
            )
        )
    )
    parsed = parse_message(raw, fast=fast)

    assert parsed.message_id == "<m2@example.test>"
    assert parsed.in_reply_to == "<m1@example.test>"
    assert parsed.references == ("<m0@example.test>", "<m1@example.test>")
    assert parsed.subject == "Grüße"
    assert parsed.sender == EmailAddress("support@example.test", "Jürgen Support")
    assert parsed.to == (EmailAddress("ann@example.test", "Ann"), EmailAddress("bob@example.test"))
    assert parsed.cc == (EmailAddress("carol@example.test"),)
    assert parsed.reply_to == (EmailAddress("replies@example.test"),)
    assert parsed.date == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert parsed.text.strip() == "Hallo"
    assert parsed.html.strip() == "<p>Hallo <img src='cid:logo'></p>"
    logo, pdf = parsed.attachments
    assert (logo.content_id, logo.inline, logo.data) == ("logo", True, b"\x89PNG")
    assert (pdf.filename, pdf.content_type, pdf.data, pdf.inline) == (
        "Größe.pdf",
        "application/pdf",
        b"%PDF-1.4",
        False,
    )
    assert parsed.automation.auto_submitted == "auto-replied"
    assert parsed.problems == ()


@pytest.mark.parametrize("fast", [True, False], ids=["fast-reader", "stdlib-reader"])
def test_automation_headers_for_auto_reply_suppression(fast: bool) -> None:
    raw = (
        b"From: MAILER-DAEMON@example.test\r\nTo: support@example.test\r\nSubject: Undelivered\r\n"
        b"Auto-Submitted: auto-generated\r\nPrecedence: bulk\r\nX-Auto-Response-Suppress: All\r\n"
        b"X-Loop: support@example.test\r\nX-Loop: other\r\nList-Id: <news.example.test>\r\n"
        b"List-Unsubscribe: <mailto:unsub@example.test>\r\nReturn-Path: <>\r\n"
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.test\r\n\r\n"
        b"Final-Recipient: rfc822; gone@example.test\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: support@example.test\r\nSubject: Hi\r\n\r\nOriginal\r\n"
        b"--b--\r\n"
    )
    parsed = parse_message(raw, fast=fast)
    automation = parsed.automation
    assert automation.auto_submitted == "auto-generated"
    assert automation.precedence == "bulk"
    assert automation.x_auto_response_suppress == "All"
    assert automation.x_loop == ("support@example.test", "other")
    assert automation.list_id == "<news.example.test>"
    assert automation.list_unsubscribe == "<mailto:unsub@example.test>"
    assert automation.return_path == "<>"
    assert (automation.content_type, automation.report_type) == ("multipart/report", "delivery-status")
    assert parsed.text.strip() == "Your message could not be delivered."
    status, original = parsed.attachments
    assert status.content_type == "message/delivery-status"
    assert original.content_type == "message/rfc822" and b"Subject: Hi" in original.data


def test_broken_charsets_and_encodings_degrade_to_readable_text() -> None:
    raw = (
        b"From: =?x-unknown?q?J=FCrgen?= <j@example.test>\r\n"
        b'To: support@example.test, "Broken <x@y\r\n'
        b"Subject: =?utf-8?q?Line=0Abreak?= =?utf-8?b?!!!notbase64?=\r\n"
        b"Date: yesterday-ish\r\n"
        b"Content-Type: multipart/mixed; boundary=zz\r\n\r\n"
        b"--zz\r\nContent-Type: text/plain; charset=x-martian\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"Gr=FC=DFe\r\n"
        b"--zz\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n<p>caf\xc3\xa9</p>\r\n"
        b'--zz\r\nContent-Type: application/pdf; name="=?utf-8?q?R=C3=A9sum=C3=A9.pdf?="\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64\r\n"
        # no closing boundary
    )
    parsed = parse_message(raw)

    assert parsed.sender == EmailAddress("j@example.test", "Jürgen")
    assert parsed.to[0] == EmailAddress("support@example.test")
    assert "\n" not in parsed.subject and parsed.subject.startswith("Line break")
    assert parsed.date is None
    assert parsed.text.strip() == "Grüße"
    assert parsed.html.strip() == "<p>café</p>"
    [pdf] = parsed.attachments
    assert pdf.filename == "Résumé.pdf"
    assert any("x-martian" in problem for problem in parsed.problems)


def _mail(build) -> bytes:
    message = EmailMessage()
    message["From"] = '=?utf-8?q?M=C3=BCller=2C_Anna?= <anna@example.org>, second@example.org'
    message["To"] = '"Support, Team" <support@example.test>, group: one@example.test, two@example.test;'
    message["Subject"] = "Bestellung Nr. 7 – Grüße"
    message["Date"] = "Tue, 24 Nov 2026 08:15:00 -0500"
    message["Message-ID"] = "<abc@example.org>"
    message["References"] = "<r1@example.test> <r2@example.test>"
    message["X-Loop"] = "one"
    build(message)
    return message.as_bytes()


def _related_with_start(message: EmailMessage) -> None:
    message.set_content("plain ünïcode", charset="iso-8859-1")
    message.add_alternative("<p>first</p>", subtype="html")
    html = message.get_payload()[1]
    html.add_related(b"\x89PNG", maintype="image", subtype="png", cid="<img1@x>")
    html.add_attachment(b"%PDF", maintype="application", subtype="pdf", filename="Résumé.pdf")


def _mixed_bodies(message: EmailMessage) -> None:
    message.set_content("first part", charset="koi8-r")
    message.add_attachment("second text part")  # text/plain without a name: part of the body
    message.add_attachment(b"GIF89a", maintype="image", subtype="gif", cid="<logo>")
    inner = EmailMessage()
    inner["Subject"] = "Forwarded"
    inner.set_content("inner body")
    message.add_attachment(inner)


@pytest.mark.parametrize("build", [_related_with_start, _mixed_bodies], ids=["related", "mixed"])
def test_fast_and_stdlib_readers_agree(build) -> None:
    raw = _mail(build)
    fast, stdlib = parse_message(raw), parse_message(raw, fast=False)
    assert fast.text.rstrip() == stdlib.text.rstrip() and fast.html == stdlib.html
    assert [(a.filename, a.content_type, a.content_id, a.inline) for a in fast.attachments] == [
        (a.filename, a.content_type, a.content_id, a.inline) for a in stdlib.attachments]
    assert [a.data.rstrip() for a in fast.attachments] == [a.data.rstrip() for a in stdlib.attachments]
    for name in ("message_id", "references", "subject", "sender", "to", "cc", "date", "automation", "problems"):
        assert getattr(fast, name) == getattr(stdlib, name), name
    assert fast.sender == EmailAddress("anna@example.org", "Müller, Anna")
    assert EmailAddress("support@example.test", "Support, Team") in fast.to


def test_mail_the_fast_reader_refuses_is_read_by_the_stdlib() -> None:
    raw = (b"From: a@example.org\r\nSubject: broken\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n"
           b"--q\r\nContent-Type: text/plain\r\n\r\nreadable text\r\n"
           b"--q\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           b"%%% not base64 %%%\r\n--q--\r\n")
    parsed = parse_message(raw)
    assert parsed.text.strip() == "readable text"
    assert [a.filename for a in parsed.attachments] == ["a.pdf"]


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe garbage \r\n\r\n\x80\x81",
        b"Content-Type: multipart/mixed\r\n\r\nno boundary at all",
        b'Content-Type: multipart/alternative; boundary=""\r\n\r\n--\r\n--',
        b'Content-Type: text/plain; charset="\r\nContent-Transfer-Encoding: base64\r\n\r\n====',
        b"From: \r\nTo: ,,,@@@\r\nSubject: =?utf-8?q?\r\nMessage-ID: <<<>>>\r\nReferences: <a> <b\r\n\r\nbody",
        b"Content-Type: message/rfc822\r\n\r\nnot really a message",
        b"Content-Type: text/plain; charset=utf-16\r\n\r\n\xff",
    ],
)
def test_garbage_never_raises(raw: bytes) -> None:
    parse_message(raw)


def test_size_cap() -> None:
    with pytest.raises(MessageLimitExceeded) as caught:
        parse_message(b"Subject: big\r\n\r\n" + b"x" * 2000, ParseLimits(max_bytes=1000))
    assert caught.value.limit == "bytes"


def test_part_cap() -> None:
    parts = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\npart\r\n" for _ in range(50))
    raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n" + parts + b"--b--\r\n"
    assert len(parse_message(raw, ParseLimits(max_parts=60)).text.split("part")) == 51
    with pytest.raises(MessageLimitExceeded) as caught:
        parse_message(raw, ParseLimits(max_parts=20))
    assert caught.value.limit == "parts"


def nested(depth: int) -> bytes:
    head = tail = b""
    for level in range(depth):
        head += b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (level, level)
        tail = b"\r\n--b%d--\r\n" % level + tail
    return b"Subject: deep\r\n" + head + b"Content-Type: text/plain\r\n\r\ninnermost" + tail


def test_depth_cap() -> None:
    assert parse_message(nested(5), ParseLimits(max_depth=10)).text.strip() == "innermost"
    with pytest.raises(MessageLimitExceeded) as caught:
        parse_message(nested(40), ParseLimits(max_depth=10))
    assert caught.value.limit == "depth"


def test_thousands_of_boundaries_are_refused_before_parsing() -> None:
    with pytest.raises(MessageLimitExceeded) as caught:
        parse_message(nested(3000))
    assert caught.value.limit == "parts"


async def test_parsing_from_async_code_runs_in_a_thread() -> None:
    parsed = await parse_message_async(b"Subject: async\r\n\r\nbody")
    assert parsed.subject == "async"
