"""SendGrid sending against the local stand-in: payload shape, limits, and status mapping."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import AsyncIterator

import pytest

from postdesk.mail.addresses import EmailAddress
from postdesk.mail.compose import Attachment, OutgoingMessage, make_message_id
from postdesk.mail.errors import InvalidMessage, PermanentDeliveryError, TransientDeliveryError
from postdesk.mail.sendgrid import SendGridSender
from tests.support.net import closed_port
from tests.support.sendgrid_standin import SendGridStandIn


def reply(**changes: object) -> OutgoingMessage:
    message = OutgoingMessage(
        sender=EmailAddress("support@example.test", "Acme Support"),
        to=[EmailAddress("customer@example.test", "Dana Customer")],
        subject="Re: Refund",
        text="Your refund is on its way.",
        html="<p>Your refund is on its way. <img src='cid:logo'></p>",
        message_id=make_message_id("example.test", "IX77"),
        in_reply_to="<q1@example.test>",
        references=["<q0@example.test>", "<q1@example.test>"],
        reply_to=["replies@example.test"],
        attachments=[
            Attachment("Gutschrift März.pdf", "application/pdf", b"%PDF-1.7 refund"),
            Attachment("logo.png", "image/png", b"\x89PNG\r\n", content_id="logo", inline=True),
        ],
    )
    return dataclasses.replace(message, **changes)


@pytest.fixture
async def sender(sendgrid: SendGridStandIn) -> AsyncIterator[SendGridSender]:
    async with SendGridSender(sendgrid.api_key, base_url=sendgrid.base_url, timeout=5) as sender:
        yield sender


async def test_accepted_message_has_the_sendgrid_shape(
    sender: SendGridSender, sendgrid: SendGridStandIn
) -> None:
    message = reply(cc=["boss@example.test"], bcc=["audit@example.test", "CUSTOMER@example.test"])
    result = await sender.send(message)

    [accepted] = sendgrid.accepted
    assert result.provider_message_id == accepted.message_id
    payload = accepted.payload
    assert payload["personalizations"] == [
        {
            "to": [{"email": "customer@example.test", "name": "Dana Customer"}],
            "cc": [{"email": "boss@example.test"}],
            "bcc": [{"email": "audit@example.test"}],  # the duplicate of a To address is dropped
        }
    ]
    assert payload["from"] == {"email": "support@example.test", "name": "Acme Support"}
    assert payload["reply_to"] == {"email": "replies@example.test"}
    assert [content["type"] for content in payload["content"]] == ["text/plain", "text/html"]
    assert payload["headers"] == {
        "Message-ID": message.message_id,
        "In-Reply-To": "<q1@example.test>",
        "References": "<q0@example.test> <q1@example.test>",
    }
    pdf, logo = payload["attachments"]
    assert base64.b64decode(pdf["content"]) == b"%PDF-1.7 refund"
    assert (pdf["filename"], pdf["type"], pdf["disposition"]) == (
        "Gutschrift März.pdf",
        "application/pdf",
        "attachment",
    )
    assert (logo["disposition"], logo["content_id"]) == ("inline", "logo")


async def test_wrong_api_key_is_permanent_with_the_api_message(sendgrid: SendGridStandIn) -> None:
    async with SendGridSender("SG.wrong", base_url=sendgrid.base_url) as sender:
        with pytest.raises(PermanentDeliveryError) as caught:
            await sender.send(reply())
    assert caught.value.code == 401
    assert "authorization grant is invalid" in str(caught.value)


async def test_bad_request_is_permanent_with_the_api_messages(
    sender: SendGridSender, sendgrid: SendGridStandIn
) -> None:
    sendgrid.fail_next(
        400,
        message="The content value must be a string at least one character in length.",
        field="content.0.value",
    )
    with pytest.raises(PermanentDeliveryError) as caught:
        await sender.send(reply())
    assert caught.value.code == 400
    assert str(caught.value) == (
        "SendGrid 400: The content value must be a string at least one character in length. (content.0.value)"
    )


async def test_unverified_sender_is_permanent(sender: SendGridSender, sendgrid: SendGridStandIn) -> None:
    sendgrid.verified_senders = {"noreply@example.test"}
    with pytest.raises(PermanentDeliveryError) as caught:
        await sender.send(reply())
    assert caught.value.code == 403
    assert "verified Sender Identity" in str(caught.value)
    assert sendgrid.accepted == []


async def test_payload_too_large_is_permanent(sender: SendGridSender, sendgrid: SendGridStandIn) -> None:
    sendgrid.max_body_bytes = 2048
    with pytest.raises(PermanentDeliveryError) as caught:
        await sender.send(reply(attachments=[Attachment("big.bin", "application/octet-stream", bytes(4096))]))
    assert caught.value.code == 413


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_rate_limits_and_outages_are_transient(
    sender: SendGridSender, sendgrid: SendGridStandIn, status: int
) -> None:
    sendgrid.fail_next(status, retry_after=7)
    with pytest.raises(TransientDeliveryError) as caught:
        await sender.send(reply())
    assert caught.value.code == status
    assert caught.value.retry_after == 7
    await sender.send(reply())
    assert len(sendgrid.accepted) == 1


async def test_rate_limit_reset_header_is_honoured_without_retry_after(
    sender: SendGridSender, sendgrid: SendGridStandIn
) -> None:
    sendgrid.fail_next(429)
    with pytest.raises(TransientDeliveryError) as caught:
        await sender.send(reply())
    assert caught.value.retry_after is not None and 50 < caught.value.retry_after <= 60


async def test_unreachable_api_is_transient() -> None:
    async with SendGridSender("SG.key", base_url=f"http://127.0.0.1:{closed_port()}") as sender:
        with pytest.raises(TransientDeliveryError):
            await sender.send(reply())


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("subject", {"subject": "  "}),
        ("to", {"to": [], "cc": ["boss@example.test"]}),
        ("text", {"text": "", "html": None}),
        ("to", {"to": [f"customer{n}@example.test" for n in range(1001)]}),
        ("headers", {"headers": {"X-SG-EID": "forged"}}),
        (
            "attachments",
            {"attachments": [Attachment("huge.bin", "application/octet-stream", bytes(23 * 1024 * 1024))]},
        ),
        ("subject", {"subject": "Refund\r\nBcc: victim@example.test"}),
    ],
)
async def test_messages_sendgrid_would_refuse_are_stopped_before_the_request(
    sender: SendGridSender, sendgrid: SendGridStandIn, field: str, changes: dict[str, object]
) -> None:
    with pytest.raises(InvalidMessage) as caught:
        await sender.send(reply(**changes))
    assert caught.value.field == field
    assert sendgrid.requests == 0
