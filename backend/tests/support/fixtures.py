"""Pytest fixtures for real local mail servers, importable by any test package's conftest:

    from tests.support.fixtures import dovecot, mailbox_user, smtp_server, ...  # noqa: F401

Session-scoped servers are started once per conftest that imports them and stopped at the end;
`certificates` duplicates the suite-wide fixture of backend/tests/conftest.py: a package whose tests
use the app (which trusts that one's CA) must not import it (see tests/servers/conftest.py).
the function-scoped wrappers hand each test a clean state (a fresh mailbox user, an empty SMTP and
SendGrid record).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from postdesk.mail.connection import MailServer, Security
from postdesk.net import NetworkGuard
from tests.support.certs import TestCertificates, make_test_certificates
from tests.support.dovecot import DovecotServer
from tests.support.net import BlackHoleServer
from tests.support.sendgrid_standin import SendGridStandIn
from tests.support.smtp_server import SmtpTestServer

LOOPBACK_ALLOW = ("127.0.0.0/8", "::1/128", "localhost")
SMTP_USER = "relay-user"
SMTP_PASSWORD = "relay-secret"
TEST_TIMEOUT = 2.0  # short client timeouts keep failure tests fast


@dataclass(frozen=True)
class MailboxUser:
    address: str
    password: str


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> TestCertificates:
    return make_test_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def loopback_guard() -> NetworkGuard:
    """The guard as configured for tests: loopback allowed, everything else private still refused."""
    return NetworkGuard(LOOPBACK_ALLOW)


@pytest.fixture(scope="session")
def dovecot(certificates: TestCertificates) -> Iterator[DovecotServer]:
    server = DovecotServer.start(certificates)
    yield server
    server.stop()


@pytest.fixture
def mailbox_user(dovecot: DovecotServer) -> MailboxUser:
    """A new Dovecot user (so an empty mailbox) for each test."""
    return MailboxUser(*dovecot.new_user())


@pytest.fixture
def imap_server(
    dovecot: DovecotServer, mailbox_user: MailboxUser, certificates: TestCertificates
) -> MailServer:
    """Settings for this test's mailbox over IMAP with STARTTLS."""
    return MailServer(
        host="localhost",
        port=dovecot.imap_port,
        security=Security.STARTTLS,
        username=mailbox_user.address,
        password=mailbox_user.password,
        timeout=TEST_TIMEOUT,
        ca_pem=certificates.ca_pem,
    )


@pytest.fixture
def pop3_server(
    dovecot: DovecotServer, mailbox_user: MailboxUser, certificates: TestCertificates
) -> MailServer:
    """Settings for this test's mailbox over POP3 with STLS."""
    return MailServer(
        host="localhost",
        port=dovecot.pop3_port,
        security=Security.STARTTLS,
        username=mailbox_user.address,
        password=mailbox_user.password,
        timeout=TEST_TIMEOUT,
        ca_pem=certificates.ca_pem,
    )


@pytest.fixture(scope="session")
def _smtp_server(certificates: TestCertificates) -> Iterator[SmtpTestServer]:
    with SmtpTestServer(certificates, credentials={SMTP_USER: SMTP_PASSWORD}) as server:
        yield server


@pytest.fixture
def smtp_server(_smtp_server: SmtpTestServer) -> SmtpTestServer:
    """aiosmtpd with STARTTLS (test CA) and AUTH PLAIN/LOGIN; reset for each test."""
    _smtp_server.reset()
    return _smtp_server


@pytest.fixture
def smtp_settings(smtp_server: SmtpTestServer, certificates: TestCertificates) -> MailServer:
    return MailServer(
        host="localhost",
        port=smtp_server.port,
        security=Security.STARTTLS,
        username=SMTP_USER,
        password=SMTP_PASSWORD,
        timeout=TEST_TIMEOUT,
        ca_pem=certificates.ca_pem,
    )


@pytest.fixture(scope="session")
def _sendgrid() -> Iterator[SendGridStandIn]:
    with SendGridStandIn() as standin:
        yield standin


@pytest.fixture
def sendgrid(_sendgrid: SendGridStandIn) -> SendGridStandIn:
    """The SendGrid stand-in, with no recorded mail and no pending forced failures."""
    _sendgrid.reset()
    return _sendgrid


@pytest.fixture
def black_hole() -> Iterator[BlackHoleServer]:
    """A TCP port that accepts connections and never answers."""
    with BlackHoleServer() as server:
        yield server
