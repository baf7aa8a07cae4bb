"""Real mail servers on 127.0.0.1 for connection tests: Dovecot (IMAP, POP3) and aiosmtpd (SMTP)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.certs import TestCertificates
from tests.support.dovecot import DovecotServer
from tests.support.net import free_port

MAILBOX_USER = "support@example.test"
MAILBOX_PASSWORD = "mailbox-secret-1"
SMTP_USER = "support"
SMTP_PASSWORD = "smtp-secret-1"


@pytest.fixture(scope="session")
def dovecot(certificates: TestCertificates) -> Iterator[DovecotServer]:
    server = DovecotServer.start(certificates)
    server.add_user(MAILBOX_USER, MAILBOX_PASSWORD)
    yield server
    server.stop()


def _authenticate(_server, _session, _envelope, mechanism, auth_data) -> AuthResult:  # noqa: ANN001
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        SMTP_USER.encode(), SMTP_PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


class _Sink:
    async def handle_DATA(self, _server, _session, _envelope) -> str:  # noqa: ANN001
        return "250 OK"


@dataclass
class SmtpServer:
    port: int


@pytest.fixture(scope="session")
def smtp_server(certificates: TestCertificates) -> Iterator[SmtpServer]:
    """aiosmtpd on 127.0.0.1 with STARTTLS (test CA certificate for `localhost`) and AUTH."""
    port = free_port()
    controller = Controller(_Sink(), hostname="127.0.0.1", port=port, authenticator=_authenticate,
                            tls_context=certificates.server_context(), require_starttls=True,
                            auth_require_tls=True, server_hostname="localhost")
    controller.start()
    yield SmtpServer(port)
    controller.stop()
