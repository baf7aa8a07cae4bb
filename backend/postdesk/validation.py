"""Shared input types for request schemas."""

from __future__ import annotations

from typing import Annotated

import email_validator
from pydantic import AfterValidator, StringConstraints

# On-premise contact centres use internal domains (.local, .lan, bare hosts) and tests use .test:
# they are syntactically valid addresses, so only truly unusable names stay refused.
# (email-validator documents this list as safe to modify.)
for _allowed in ("local", "localhost", "test"):
    if _allowed in email_validator.SPECIAL_USE_DOMAIN_NAMES:
        email_validator.SPECIAL_USE_DOMAIN_NAMES.remove(_allowed)


def normalize_email(value: str) -> str:
    try:
        result = email_validator.validate_email(value, check_deliverability=False, globally_deliverable=False)
    except email_validator.EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from None
    return result.normalized


EmailAddress = Annotated[str, StringConstraints(strip_whitespace=True, max_length=320), AfterValidator(normalize_email)]
# Sign-in identities: one address is one person whatever its case.
LoginEmail = Annotated[EmailAddress, AfterValidator(str.lower)]


def _no_line_breaks(value: str) -> str:
    # Text that ends up in a mail header: refuse CR/LF rather than strip it (header injection).
    if any(ch in value for ch in "\r\n\x00"):
        raise ValueError("must not contain line breaks")
    return value


HeaderText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(_no_line_breaks)]
