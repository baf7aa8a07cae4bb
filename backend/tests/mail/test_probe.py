"""Connection tests give one clear answer per leg, for good and for each kind of bad settings."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable

import pytest

from postdesk.mail.connection import MailServer, Security
from postdesk.mail.probe import ProbeResult, probe_imap, probe_pop3, probe_sendgrid, probe_smtp
from postdesk.net import NetworkGuard
from tests.support.dovecot import DovecotServer
from tests.support.net import BlackHoleServer, closed_port
from tests.support.sendgrid_standin import SendGridStandIn
from tests.support.smtp_server import SmtpTestServer

CONNECTED = ProbeResult(True, "connected")
AUTH_FAILED = ProbeResult(False, "authentication failed")
REFUSED = ProbeResult(False, "connection refused")
TLS_FAILED = ProbeResult(False, "TLS handshake failed")
TIMED_OUT = ProbeResult(False, "timed out after 2 s")
NOT_ALLOWED = ProbeResult(False, "host not allowed")


async def test_smtp_probe(
    smtp_settings: MailServer,
    smtp_server: SmtpTestServer,
    loopback_guard: NetworkGuard,
    black_hole: BlackHoleServer,
) -> None:
    assert await probe_smtp(smtp_settings, guard=loopback_guard) == CONNECTED
    assert (
        await probe_smtp(dataclasses.replace(smtp_settings, password="wrong"), guard=loopback_guard)
        == AUTH_FAILED
    )
    assert (
        await probe_smtp(dataclasses.replace(smtp_settings, port=closed_port()), guard=loopback_guard)
        == REFUSED
    )
    # Implicit TLS against a server that speaks plain SMTP first.
    tls_to_plain = dataclasses.replace(smtp_settings, security=Security.TLS)
    assert await probe_smtp(tls_to_plain, guard=loopback_guard) == TLS_FAILED
    # The server's certificate is not signed by a CA we trust.
    assert (
        await probe_smtp(dataclasses.replace(smtp_settings, ca_pem=None), guard=loopback_guard) == TLS_FAILED
    )
    silent = dataclasses.replace(smtp_settings, host="127.0.0.1", port=black_hole.port)
    assert await _timed(probe_smtp(silent, guard=loopback_guard)) == TIMED_OUT
    assert await probe_smtp(smtp_settings, guard=NetworkGuard()) == NOT_ALLOWED
    assert smtp_server.received == []


async def test_imap_probe(
    imap_server: MailServer, dovecot: DovecotServer, loopback_guard: NetworkGuard, black_hole: BlackHoleServer
) -> None:
    assert await probe_imap(imap_server, guard=loopback_guard) == CONNECTED
    assert (
        await probe_imap(dataclasses.replace(imap_server, password="wrong"), guard=loopback_guard)
        == AUTH_FAILED
    )
    assert await probe_imap(imap_server, guard=loopback_guard, folder="Nope") == ProbeResult(
        False, "folder not found"
    )
    assert (
        await probe_imap(dataclasses.replace(imap_server, port=closed_port()), guard=loopback_guard)
        == REFUSED
    )
    tls_to_plain = dataclasses.replace(imap_server, security=Security.TLS)
    assert await probe_imap(tls_to_plain, guard=loopback_guard) == TLS_FAILED
    silent = dataclasses.replace(imap_server, port=black_hole.port)
    assert await _timed(probe_imap(silent, guard=loopback_guard)) == TIMED_OUT
    assert await probe_imap(imap_server, guard=NetworkGuard()) == NOT_ALLOWED


async def test_pop3_probe(
    pop3_server: MailServer, dovecot: DovecotServer, loopback_guard: NetworkGuard, black_hole: BlackHoleServer
) -> None:
    assert await probe_pop3(pop3_server, guard=loopback_guard) == CONNECTED
    assert (
        await probe_pop3(dataclasses.replace(pop3_server, password="wrong"), guard=loopback_guard)
        == AUTH_FAILED
    )
    assert (
        await probe_pop3(dataclasses.replace(pop3_server, port=closed_port()), guard=loopback_guard)
        == REFUSED
    )
    tls_to_plain = dataclasses.replace(pop3_server, security=Security.TLS)
    assert await probe_pop3(tls_to_plain, guard=loopback_guard) == TLS_FAILED
    silent = dataclasses.replace(pop3_server, port=black_hole.port)
    assert await _timed(probe_pop3(silent, guard=loopback_guard)) == TIMED_OUT
    assert await probe_pop3(pop3_server, guard=NetworkGuard()) == NOT_ALLOWED


async def test_sendgrid_probe(sendgrid: SendGridStandIn, black_hole: BlackHoleServer) -> None:
    assert await probe_sendgrid(sendgrid.api_key, base_url=sendgrid.base_url, timeout=2) == CONNECTED
    assert await probe_sendgrid("SG.wrong", base_url=sendgrid.base_url, timeout=2) == AUTH_FAILED
    refused_url = f"http://127.0.0.1:{closed_port()}"
    assert await probe_sendgrid(sendgrid.api_key, base_url=refused_url, timeout=2) == REFUSED
    silent_url = f"http://127.0.0.1:{black_hole.port}"
    assert await _timed(probe_sendgrid(sendgrid.api_key, base_url=silent_url, timeout=2)) == TIMED_OUT

    sendgrid.scopes = ["user.profile.read"]
    try:
        result = await probe_sendgrid(sendgrid.api_key, base_url=sendgrid.base_url, timeout=2)
    finally:
        sendgrid.scopes = ["mail.send", "user.profile.read"]
    assert not result.ok and "mail.send" in result.message


async def _timed(probe: Awaitable[ProbeResult]) -> ProbeResult:
    """Await a probe that should time out, and check it gave up within its budget."""
    started = time.monotonic()
    result = await probe
    assert time.monotonic() - started < 4
    return result


@pytest.mark.parametrize("leg", [probe_smtp, probe_imap, probe_pop3])
async def test_probes_refuse_metadata_and_private_addresses(
    leg: Callable[..., Awaitable[ProbeResult]],
) -> None:
    server = MailServer("169.254.169.254", 25, Security.NONE, timeout=2)
    assert await leg(server, guard=NetworkGuard(["127.0.0.0/8"])) == NOT_ALLOWED
