"""Signed rating tokens: `<message id hex>.<HMAC>` with a key derived from the installation's secret key.

The token names the rated message and proves we issued it; the score is chosen on the page. Tokens
do not expire (a customer may rate a reply weeks later) and carry nothing else, so they are short
enough for a link in a plain-text mail.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

_PURPOSE = b"postdesk/ratings/v1"
_SIGNATURE_BYTES = 16  # 128 bits: forging one is out of reach, and the link stays short


def _key(secret_key: str) -> bytes:
    # A key of its own, so a rating signature can never be mistaken for an access token's or vice versa.
    return hmac.new(secret_key.encode(), _PURPOSE, hashlib.sha256).digest()


def _signature(secret_key: str, message_id: uuid.UUID) -> str:
    digest = hmac.new(_key(secret_key), message_id.bytes, hashlib.sha256).digest()[:_SIGNATURE_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def make_token(secret_key: str, message_id: uuid.UUID) -> str:
    return f"{message_id.hex}.{_signature(secret_key, message_id)}"


def read_token(secret_key: str, token: str) -> uuid.UUID | None:
    """The message id a genuine token names; None for anything tampered or malformed."""
    if len(token) > 100:
        return None
    id_part, dot, signature = token.partition(".")
    if not dot:
        return None
    try:
        message_id = uuid.UUID(hex=id_part)
    except ValueError:
        return None
    if id_part != message_id.hex:  # one spelling only (no braces, dashes or upper case)
        return None
    if not hmac.compare_digest(signature.encode(), _signature(secret_key, message_id).encode()):
        return None
    return message_id
