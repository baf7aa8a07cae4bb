"""The real aiosmtpd server from tests.support (the suite-wide `certificates` stays the one the app trusts)."""

from tests.support.fixtures import _smtp_server, smtp_server  # noqa: F401 - fixtures are found by name
