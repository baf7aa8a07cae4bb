"""Our own Message-IDs carry the interaction's reference, so a customer's reply threads back to its
conversation even when their mail client drops In-Reply-To and References."""

from __future__ import annotations

import re
import secrets

_OURS = re.compile(r"^<pd\.([0-9A-F]{12})\.[0-9a-z]+@[^<>\s]+>$")


def make_message_id(reference: str, sender_email: str) -> str:
    """`<pd.{reference}.{random}@{sender's domain}>` for a message of the interaction `reference`."""
    domain = sender_email.rpartition("@")[2] or "postdesk.invalid"
    return f"<pd.{reference}.{secrets.token_hex(8)}@{domain}>"


def reference_from_message_id(message_id: str | None) -> str | None:
    """The interaction reference inside one of our Message-IDs, or None for anyone else's."""
    if not message_id:
        return None
    match = _OURS.match(message_id.strip())
    return match.group(1) if match else None
