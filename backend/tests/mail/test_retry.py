"""Reconnect pacing: retryable failures back off exponentially, configuration errors stop at once."""

from __future__ import annotations

import itertools

import pytest

from postdesk.mail.connection import MailServer, Security
from postdesk.mail.errors import AuthenticationFailed, ConnectionRefused, ServerTimeout
from postdesk.mail.imap import ImapMailbox
from postdesk.mail.retry import backoff_delays, connect_with_backoff
from postdesk.net import NetworkGuard
from tests.support.net import closed_port


def test_delays_grow_exponentially_up_to_the_maximum() -> None:
    delays = list(itertools.islice(backoff_delays(initial=1, factor=2, maximum=10, jitter=0), 6))
    assert delays == [1, 2, 4, 8, 10, 10]
    jittered = list(itertools.islice(backoff_delays(initial=10, jitter=0.1), 50))
    assert all(9 <= delay <= 11 for delay in jittered[:1]) and len(set(jittered)) > 1


async def test_retries_until_the_server_is_back() -> None:
    failures = iter([ConnectionRefused(), ServerTimeout(2)])
    retried: list[float] = []

    async def connect() -> str:
        failure = next(failures, None)
        if failure:
            raise failure
        return "connected"

    result = await connect_with_backoff(
        connect, delays=iter([0.01, 0.02]), on_retry=lambda error, pause: retried.append(pause)
    )
    assert result == "connected" and retried == [0.01, 0.02]


async def test_gives_up_after_the_attempts_and_never_retries_configuration_errors() -> None:
    calls = 0

    async def refused() -> None:
        nonlocal calls
        calls += 1
        raise ConnectionRefused()

    with pytest.raises(ConnectionRefused):
        await connect_with_backoff(refused, attempts=3, delays=itertools.repeat(0.001))
    assert calls == 3

    async def wrong_password() -> None:
        nonlocal calls
        calls += 1
        raise AuthenticationFailed()

    calls = 0
    with pytest.raises(AuthenticationFailed):
        await connect_with_backoff(wrong_password, delays=itertools.repeat(0.001))
    assert calls == 1


async def test_reconnecting_a_mailbox_against_a_closed_port_gives_up_with_the_real_error() -> None:
    mailbox = ImapMailbox(
        MailServer("127.0.0.1", closed_port(), Security.NONE, timeout=2), guard=NetworkGuard(["127.0.0.0/8"])
    )
    with pytest.raises(ConnectionRefused):
        await connect_with_backoff(mailbox.connect, attempts=3, delays=itertools.repeat(0.01))
