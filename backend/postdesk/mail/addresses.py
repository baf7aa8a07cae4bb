"""Email addresses and header values: strict checks for what we send, one shape for what we read.

Outgoing headers are built from text that agents, admins and customers typed, so every value is
checked for line breaks, including line breaks hidden in RFC 2047 encoded words
(`=?UTF-8?Q?=0A?=`), and refused rather than cleaned: a silently altered recipient is worse than
a clear error.
"""

from __future__ import annotations

import email.header
import email.utils
import re
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

from postdesk.mail.errors import InvalidMessage

# C0 controls except TAB, DEL, and the Unicode line breaks that str.splitlines() honours.
_FORBIDDEN_IN_HEADER = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")


@dataclass(frozen=True)
class EmailAddress:
    """An address with its optional display name ("Support Team" <support@example.com>)."""

    address: str
    name: str = ""

    def __str__(self) -> str:
        return email.utils.formataddr((self.name, self.address)) if self.name else self.address


def check_header_text(field: str, value: str) -> str:
    """Return `value` if it is safe as a header value, else raise InvalidMessage naming `field`."""
    if _FORBIDDEN_IN_HEADER.search(value):
        raise InvalidMessage(field, "must not contain line breaks or control characters")
    if "=?" in value and _encoded_words_hide_controls(value):
        raise InvalidMessage(field, "must not contain encoded line breaks or control characters")
    return value


def parse_address(value: EmailAddress | str, *, field: str) -> EmailAddress:
    """Parse one address ("Name <a@b>", "a@b" or an EmailAddress) strictly, with a normalised domain."""
    if isinstance(value, EmailAddress):
        name, raw_address = value.name, value.address
        check_header_text(field, name)
        check_header_text(field, raw_address)
    else:
        check_header_text(field, value)
        parsed = email.utils.getaddresses([value], strict=True)
        if len(parsed) != 1 or not parsed[0][1]:
            raise InvalidMessage(field, f"not a single valid address: {value!r}")
        name, raw_address = parsed[0]
        check_header_text(field, name)
    return EmailAddress(address=_valid_addr_spec(field, raw_address), name=name.strip())


def parse_addresses(
    values: list[EmailAddress | str] | tuple[EmailAddress | str, ...], *, field: str
) -> list[EmailAddress]:
    return [parse_address(value, field=field) for value in values]


def _valid_addr_spec(field: str, address: str) -> str:
    try:
        checked = validate_email(
            address.strip(),
            check_deliverability=False,
            allow_smtputf8=False,  # many relays still lack SMTPUTF8; refuse rather than bounce later
            test_environment=True,  # lets *.test domains through for staging and tests
        )
    except EmailNotValidError as exc:
        raise InvalidMessage(field, f"invalid address {address!r}: {exc}") from None
    return checked.ascii_email or checked.normalized


def _encoded_words_hide_controls(value: str) -> bool:
    try:
        decoded = [
            chunk if isinstance(chunk, str) else chunk.decode(charset or "ascii", errors="replace")
            for chunk, charset in email.header.decode_header(value)
        ]
    except (ValueError, LookupError, UnicodeError):
        return True  # an encoded word we cannot read could hide anything
    return any(_FORBIDDEN_IN_HEADER.search(text) for text in decoded)
