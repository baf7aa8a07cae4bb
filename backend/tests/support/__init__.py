"""Reusable helpers for tests against real local servers (Dovecot, aiosmtpd, SendGrid stand-in)."""
