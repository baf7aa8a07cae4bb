"""Real mail servers on 127.0.0.1 for connection tests: Dovecot (IMAP, POP3), aiosmtpd (SMTP) and the
SendGrid stand-in, all from the one implementation in `tests.support.fixtures`.

`certificates` is not imported: the suite-wide fixture of backend/tests/conftest.py must stay the
one in use, because the app under test trusts exactly that CA (POSTDESK_MAIL_CA_FILE).
"""

from tests.support.fixtures import (  # noqa: F401 - fixtures are found by name
    SMTP_PASSWORD,
    SMTP_USER,
    MailboxUser,
    _sendgrid,
    _smtp_server,
    black_hole,
    dovecot,
    loopback_guard,
    mailbox_user,
    sendgrid,
    smtp_server,
)
