"""Sample customer emails for the sandbox: what a support mailbox really receives.

A plain question, a follow-up in the same thread, a German message with umlauts, an HTML message with
a photo attached, and an out-of-office auto-reply (which Postdesk must not answer).
"""

from __future__ import annotations

import base64
import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

# A 1x1 PNG: enough to show an attachment without shipping a file.
_PHOTO = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def _message(sender: str, to: str, subject: str, text: str, *, domain: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(text)
    return message


def sample_messages(to: str) -> list[EmailMessage]:
    """A few realistic customer emails addressed to the support mailbox `to`."""
    order = _message(
        "Dana Whitfield <dana.whitfield@example.com>", to, "Where is my order #48213?",
        "Hello,\n\nI ordered a pair of hiking boots on Monday (order #48213) and the tracking page\n"
        "still says \"label created\". Could you tell me when it will ship?\n\nThanks,\nDana\n",
        domain="example.com",
    )  # fmt: skip
    follow_up = _message(
        "Dana Whitfield <dana.whitfield@example.com>", to, "Re: Where is my order #48213?",
        "Sorry, one more thing: I will be away from Friday, can it go to my office instead?\n"
        "Acme Ltd, 12 Harbour Street, Bristol.\n\nDana\n\n> I ordered a pair of hiking boots on Monday\n",
        domain="example.com",
    )  # fmt: skip
    follow_up["In-Reply-To"] = order["Message-ID"]
    follow_up["References"] = order["Message-ID"]
    german = _message(
        "Jürgen Müller <j.mueller@example.de>", to, "Rechnung doppelt abgebucht – bitte prüfen",
        "Guten Tag,\n\nmeine Rechnung Nr. 2024-1187 über 89,90 € wurde zweimal von meinem Konto\n"
        "abgebucht. Bitte erstatten Sie den doppelten Betrag.\n\nMit freundlichen Grüßen\nJürgen Müller\n",
        domain="example.de",
    )  # fmt: skip
    damaged = _message(
        "Priya Natarajan <priya.n@example.net>", to, "Damaged parcel – photo attached",
        "Hi, the box arrived crushed and the lamp inside is broken. Photo attached.\nPriya\n",
        domain="example.net",
    )  # fmt: skip
    damaged.add_alternative(
        "<p>Hi, the box arrived <b>crushed</b> and the lamp inside is broken. Photo attached.</p><p>Priya</p>",
        subtype="html",
    )
    damaged.add_attachment(_PHOTO, maintype="image", subtype="png", filename="parcel.png")
    out_of_office = _message(
        "Sam Okafor <sam.okafor@example.org>", to, "Automatic reply: Your ticket",
        "I am out of the office until Monday with limited access to email.\n",
        domain="example.org",
    )  # fmt: skip
    out_of_office["Auto-Submitted"] = "auto-replied"
    return [order, follow_up, german, damaged, out_of_office]


def send_samples(host: str, port: int, to: str) -> list[str]:
    """Send the samples through the sandbox's SMTP server; returns their subjects."""
    messages = sample_messages(to)
    with smtplib.SMTP(host, port, timeout=10) as smtp:
        for message in messages:
            smtp.send_message(message)
    return [str(message["Subject"]) for message in messages]
