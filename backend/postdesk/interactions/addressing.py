"""Address lists as agents type them: `,` or `;` between addresses, and the campaign's
"Require email address confirmation" rule (seed wording in CONFIRMATION_MESSAGE)."""

from __future__ import annotations

from postdesk.errors import Invalid
from postdesk.mail.addresses import EmailAddress, parse_address
from postdesk.mail.errors import InvalidMessage

CONFIRMATION_MESSAGE = ("The input email address '{address}' appears to be invalid. Please confirm that you do want "
                        "to use this email address, by pressing OK, or press Cancel and go back and correct it.")


def split_addresses(text: str) -> list[str]:
    """Split on `,` and `;` outside quoted display names and angle brackets."""
    parts: list[str] = []
    current: list[str] = []
    quoted = bracketed = False
    for char in text:
        if char == '"' and not bracketed:
            quoted = not quoted
        elif char == "<" and not quoted:
            bracketed = True
        elif char == ">" and not quoted:
            bracketed = False
        if char in ",;" and not quoted and not bracketed:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def resolve_addresses(field: str, text: str, *, require_confirmation: bool,
                      confirmed: list[str]) -> list[EmailAddress]:
    """Parse an address list. An address failing the standard rules is refused with the seed's
    message when the campaign requires confirmation and the request did not confirm it; otherwise
    (or once confirmed) it is read leniently, as addresses separated by spaces, and refused only
    when even that gives nothing mail can be sent to."""
    confirmed_set = {c.strip().lower() for c in confirmed}
    resolved: list[EmailAddress] = []
    for token in split_addresses(text):
        try:
            resolved.append(parse_address(token, field=field))
            continue
        except InvalidMessage:
            pass
        if require_confirmation and token.lower() not in confirmed_set:
            raise Invalid(field, CONFIRMATION_MESSAGE.format(address=token), address=token,
                          confirmation_required=True)
        try:
            resolved.extend(parse_address(part, field=field) for part in token.split())
        except InvalidMessage:
            raise Invalid(field, f"'{token}' is not an email address mail can be sent to.", address=token,
                          confirmation_required=False) from None
    unique: dict[str, EmailAddress] = {}
    for address in resolved:
        unique.setdefault(address.address.lower(), address)
    return list(unique.values())
