"""Fixtures for the mail adapter tests: real Dovecot, aiosmtpd and SendGrid stand-in on 127.0.0.1."""

from tests.support.fixtures import (  # noqa: F401 - fixtures are found by name
    _sendgrid,
    _smtp_server,
    black_hole,
    certificates,
    dovecot,
    imap_server,
    loopback_guard,
    mailbox_user,
    pop3_server,
    sendgrid,
    smtp_server,
    smtp_settings,
)
