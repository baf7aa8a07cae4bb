"""Access tokens (JWT, HS256 pinned) and API keys (random, stored as SHA-256)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

ALGORITHM = "HS256"
API_KEY_PREFIX = "pdk_"


@dataclass(frozen=True)
class TokenClaims:
    user_id: uuid.UUID
    company_id: uuid.UUID


def issue_access_token(
    *, user_id: uuid.UUID, company_id: uuid.UUID, secret: str, issuer: str, audience: str, ttl: timedelta
) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "cid": str(company_id),
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_access_token(token: str, *, secret: str, issuer: str, audience: str) -> TokenClaims | None:
    """Claims of a valid token, or None: wrong algorithm, signature, issuer, audience or expired."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=issuer,
            audience=audience,
            options={"require": ["exp", "iss", "aud", "sub", "cid"]},
            leeway=5,
        )
        return TokenClaims(user_id=uuid.UUID(claims["sub"]), company_id=uuid.UUID(claims["cid"]))
    except (jwt.PyJWTError, ValueError, KeyError):
        return None


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def api_key_digest(key: str) -> str:
    # The key is 256 bits of randomness, so a fast hash is enough (no password stretching needed).
    return hashlib.sha256(key.encode()).hexdigest()
