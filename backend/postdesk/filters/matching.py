"""Evaluating channel filters against a message: pure functions, no database.

Filter regexes are written by admins but run on every incoming message, customer-controlled text
included, so a careless pattern such as `(a|aa)+$` must not stall the worker. We use the `regex`
package (a maintained superset of `re`) because its matcher takes a `timeout`: a pattern that runs
longer than `REGEX_TIMEOUT_SECONDS` on a message counts as "no match" and is logged, instead of
refusing patterns by guessing which constructs might backtrack. Patterns are also capped in length,
compiled and checked when saved, and the text they run on is capped.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import regex
import structlog

from postdesk.filters.models import FilterField, FilterMatch
from postdesk.mail.html import html_to_text
from postdesk.mail.parse import ParsedMessage

log = structlog.get_logger(__name__)

MAX_PATTERN_LENGTH = 500
REGEX_TIMEOUT_SECONDS = 0.1
MAX_BODY_CHARS = 200_000  # filters look at the start of long bodies only

ALLOWED_MATCHES: dict[FilterField, tuple[FilterMatch, ...]] = {
    FilterField.recipient: (FilterMatch.address, FilterMatch.domain, FilterMatch.contains, FilterMatch.regex),
    FilterField.sender: (FilterMatch.address, FilterMatch.domain, FilterMatch.contains, FilterMatch.regex),
    FilterField.subject: (FilterMatch.contains, FilterMatch.regex),
    FilterField.body: (FilterMatch.contains, FilterMatch.regex),
}


class FilterRule(Protocol):
    field: FilterField
    match: FilterMatch
    value: str
    enabled: bool


@dataclass(frozen=True)
class MessageView:
    """The parts of a message filters look at, lower-cased where comparison ignores case."""

    recipients: tuple[str, ...]
    sender: str | None
    subject: str
    body: str

    @classmethod
    def of(cls, message: ParsedMessage, delivered_to: Iterable[str] | None = None) -> MessageView:
        addresses = [a.address for a in (*message.to, *message.cc)] + list(delivered_to or [])
        recipients = tuple(dict.fromkeys(a.strip().lower() for a in addresses if a and a.strip()))
        body = message.text if message.text is not None else html_to_text(message.html or "")
        return cls(recipients=recipients, sender=message.sender.address.lower() if message.sender else None,
                   subject=message.subject or "", body=body[:MAX_BODY_CHARS])


class PatternError(ValueError):
    """A filter value that cannot be used; the message says why."""


@functools.lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> regex.Pattern[str]:
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternError(f"A regular expression may have at most {MAX_PATTERN_LENGTH} characters.")
    try:
        return regex.compile(pattern, regex.IGNORECASE | regex.V0)
    except (regex.error, OverflowError, RecursionError) as exc:
        raise PatternError(f"Not a valid regular expression: {exc}.") from None


def _domain_of(address: str) -> str:
    return address.rpartition("@")[2]


def _matches_address(rule: FilterRule, address: str) -> bool:
    value = rule.value.lower()
    match rule.match:
        case FilterMatch.address:
            return address == value
        case FilterMatch.domain:
            domain = _domain_of(address)
            return domain == value or domain.endswith("." + value)
        case FilterMatch.contains:
            return value in address
        case FilterMatch.regex:
            return _search(rule.value, address)
    return False


def _matches_text(rule: FilterRule, text: str) -> bool:
    if rule.match == FilterMatch.contains:
        return rule.value.casefold() in text.casefold()
    if rule.match == FilterMatch.regex:
        return _search(rule.value, text)
    return False


def _search(pattern: str, text: str) -> bool:
    try:
        return compile_pattern(pattern).search(text, timeout=REGEX_TIMEOUT_SECONDS) is not None
    except TimeoutError:
        log.warning("channel_filter_regex_timeout", pattern=pattern[:100], text_length=len(text))
        return False
    except PatternError:  # saved before the rules tightened: treat as no match rather than failing the mail
        return False


def matches(rule: FilterRule, message: MessageView) -> bool:
    if rule.match not in ALLOWED_MATCHES[rule.field]:
        return False
    match rule.field:
        case FilterField.recipient:
            return any(_matches_address(rule, a) for a in message.recipients)
        case FilterField.sender:
            return message.sender is not None and _matches_address(rule, message.sender)
        case FilterField.subject:
            return _matches_text(rule, message.subject)
        case FilterField.body:
            return _matches_text(rule, message.body)
    return False


def first_match[R: FilterRule](rules: Sequence[R], message: MessageView) -> R | None:
    """The first enabled rule (in the given order) that matches: first match wins."""
    return next((rule for rule in rules if rule.enabled and matches(rule, message)), None)
