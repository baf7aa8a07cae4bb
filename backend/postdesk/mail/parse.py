"""Incoming messages: raw bytes from IMAP/POP3 to a `ParsedMessage` the inbound pipeline can store.

Customer mail is often broken (wrong or unknown charsets, bad base64, missing boundaries), and a
contact centre must still show it, so parsing degrades instead of failing: unreadable text is
decoded with replacement characters and each workaround is noted in `ParsedMessage.problems`.
Only the explicit caps (`ParseLimits`) raise, with `MessageLimitExceeded`, so a hostile message
cannot exhaust memory, CPU or the recursion limit.

Two readers produce the same `ParsedMessage`: the fast one (`parse_tree`, a Rust MIME parser) for
almost all mail, and the stdlib's (`parse_stdlib`) for what the fast one refuses, such as base64
that does not decode, which the stdlib repairs as well as it can.

Parsing is CPU work: call `parse_message_async` from async code (it runs in a worker thread).
"""

from __future__ import annotations

import asyncio
import re

import fast_mail_parser

from postdesk.mail.errors import MessageLimitExceeded
from postdesk.mail.parse_stdlib import read_with_stdlib
from postdesk.mail.parse_tree import UseStdlib, read_with_tree
from postdesk.mail.parsed import AutomationHeaders, ParsedAttachment, ParsedMessage, ParseLimits

__all__ = ["AutomationHeaders", "ParseLimits", "ParsedAttachment", "ParsedMessage", "parse_message",
           "parse_message_async"]

DEFAULT_LIMITS = ParseLimits()
_BOUNDARY_PARAM = re.compile(rb"boundary\s*=", re.IGNORECASE)


async def parse_message_async(raw: bytes, limits: ParseLimits = DEFAULT_LIMITS) -> ParsedMessage:
    return await asyncio.to_thread(parse_message, raw, limits)


def parse_message(raw: bytes, limits: ParseLimits = DEFAULT_LIMITS, *, fast: bool = True) -> ParsedMessage:
    """Parse `raw`; raises MessageLimitExceeded over the caps and nothing else.

    `fast=False` reads with the stdlib only (tests compare the two readers)."""
    if len(raw) > limits.max_bytes:
        raise MessageLimitExceeded("bytes", limits.max_bytes, len(raw))
    # Each boundary costs a parser a recursion level and a per-line check: bound them first. Every part
    # begins after a delimiter line ("--boundary"), so the lines starting with "--" bound the parts
    # from above; only mail with more such lines than allowed pays for the exact (regex) count.
    if raw.count(b"\n--") > limits.max_parts:
        boundaries = len(_BOUNDARY_PARAM.findall(raw))
        if boundaries > limits.max_parts:
            raise MessageLimitExceeded("parts", limits.max_parts, boundaries)
    if fast:
        try:
            return read_with_tree(raw, limits)
        except (fast_mail_parser.ParseError, UseStdlib):
            pass
    return read_with_stdlib(raw, limits)
