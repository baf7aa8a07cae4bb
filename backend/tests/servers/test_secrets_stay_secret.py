"""Secrets (SMTP and IMAP/POP3 passwords, SendGrid tokens) never appear in an API response or a log line.

Every log record of the process is captured at DEBUG (Postdesk's structlog events, and the libraries'
own loggers: aioimaplib, aiosmtplib, httpx...) across creating, editing and testing servers, with good
credentials, wrong ones, and servers that hang right after the password was sent.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.certs import TestCertificates
from tests.support.dovecot import DovecotServer
from tests.support.fixtures import MailboxUser
from tests.support.net import imap_stalling_at_login, pop3_stalling_at_password, smtp_stalling_at_auth
from tests.support.sendgrid_standin import SendGridStandIn
from tests.support.smtp_server import SmtpTestServer


class _Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self._exceptions = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        # The raw parts as well as the rendered line: structlog keeps its event dict in `msg`.
        parts = [repr(record.msg), repr(record.args)]
        try:
            parts.append(record.getMessage())
        except (TypeError, ValueError):
            pass
        if record.exc_info:
            parts.append(self._exceptions.formatException(record.exc_info))
        self.lines.append(" ".join(parts))


@pytest.fixture
def captured_logs() -> Iterator[list[str]]:
    root = logging.getLogger()
    handler, level = _Everything(), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler.lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _secret(kind: str) -> str:
    return f"{kind}-{secrets.token_hex(8)}"


async def test_secrets_never_appear_in_responses_or_log_lines(
    client, company, runtime, monkeypatch, settings_env, certificates: TestCertificates, dovecot: DovecotServer,
    mailbox_user: MailboxUser, sendgrid: SendGridStandIn, captured_logs: list[str],
):
    smtp_password, wrong_smtp, wrong_imap = _secret("smtp"), _secret("wrong-smtp"), _secret("wrong-imap")
    stalled_smtp, stalled_imap, stalled_pop3 = _secret("stall-smtp"), _secret("stall-imap"), _secret("stall-pop3")
    wrong_token, line_break = _secret("SG.wrong"), _secret("crlf")
    secrets_used = [smtp_password, mailbox_user.password, sendgrid.api_key, wrong_smtp, wrong_imap, stalled_smtp,
                    stalled_imap, stalled_pop3, wrong_token, line_break]
    # Short timeouts keep the stalled servers quick; SendGrid calls go to the stand-in.
    monkeypatch.setattr(runtime, "settings", runtime.settings.model_copy(
        update={"sendgrid_api_url": sendgrid.base_url, "mail_timeout_seconds": 1.5}))
    texts: list[str] = []

    async def call(method: str, path: str, expected: int, **kwargs) -> dict:
        response = await client.request(method, f"/api/email-servers{path}", headers=company.admin.headers, **kwargs)
        texts.append(response.text)
        assert response.status_code == expected, response.text
        return response.json() if response.content else {}

    with (SmtpTestServer(certificates, credentials={"agent": smtp_password}) as smtp,
          smtp_stalling_at_auth() as smtp_stall, imap_stalling_at_login() as imap_stall,
          pop3_stalling_at_password() as pop3_stall):
        body = {
            "name": "Support", "server_type": "smtp", "sender_email": "support@example.test",
            "smtp_host": "localhost", "smtp_port": smtp.port, "smtp_security": "starttls",
            "smtp_username": "agent", "smtp_password": smtp_password,
            "incoming_protocol": "imap", "incoming_host": "localhost", "incoming_port": dovecot.imaps_port,
            "incoming_security": "tls", "incoming_username": mailbox_user.address,
            "incoming_password": mailbox_user.password,
        }
        server = await call("POST", "", 201, params={"verify": True}, json=body)
        assert (await call("POST", f"/{server['id']}/test", 200))["ok"] is True
        await call("PATCH", f"/{server['id']}", 200, json={"smtp_password": wrong_smtp, "incoming_password": wrong_imap})
        failed = await call("POST", f"/{server['id']}/test", 200)
        assert [leg["message"] for leg in failed["legs"]] == ["authentication failed"] * 2
        await call("PATCH", f"/{server['id']}", 422, params={"verify": True}, json={"smtp_password": wrong_smtp})

        stalled = {**body, "smtp_host": "127.0.0.1", "smtp_port": smtp_stall.port, "smtp_security": "none",
                   "smtp_password": stalled_smtp, "incoming_host": "127.0.0.1", "incoming_port": imap_stall.port,
                   "incoming_security": "none", "incoming_password": stalled_imap}
        result = await call("POST", "/test", 200, json=stalled)
        assert [leg["message"] for leg in result["legs"]] == ["timed out after 1.5 s"] * 2
        assert any(b"AUTH" in line for line in smtp_stall.received)
        assert any(b"LOGIN" in line for line in imap_stall.received)
        pop3 = {**stalled, "incoming_protocol": "pop3", "incoming_port": pop3_stall.port,
                "incoming_password": stalled_pop3}
        result = await call("POST", "/test", 200, json=pop3)
        assert result["legs"][1]["message"] == "timed out after 1.5 s"
        assert any(b"PASS" in line for line in pop3_stall.received)

        # A line break would smuggle commands after PASS or LOGIN: refused, naming the field.
        injected = {**body, "name": "Injected", "incoming_password": f"{line_break}\r\nDELE 1"}
        refused = await call("POST", "", 422, json=injected)
        assert [field["field"] for field in refused["error"]["fields"]] == ["incoming_password"]
        await call("POST", "/test", 422, json=injected)

    sendgrid_body = {"name": "Bulk", "server_type": "sendgrid", "sender_email": "news@example.test",
                     "sendgrid_api_token": sendgrid.api_key}
    bulk = await call("POST", "", 201, params={"verify": True}, json=sendgrid_body)
    await call("PATCH", f"/{bulk['id']}", 200, json={"sendgrid_api_token": wrong_token})
    failed = await call("POST", f"/{bulk['id']}/test", 200)
    assert failed["legs"][0]["message"] == "authentication failed"
    await call("GET", "", 200)
    await call("GET", f"/{server['id']}", 200)

    worker_log = Path(settings_env["POSTDESK_DATA_DIR"]) / "worker.log"  # production mode's arq worker
    logged = "\n".join(captured_logs) + (worker_log.read_text(errors="replace") if worker_log.exists() else "")
    assert "connection_test_failed" in logged  # the capture does see Postdesk's own events
    assert mailbox_user.address in logged  # ...and the libraries' DEBUG lines (aioimaplib logs each command)
    for secret in secrets_used:
        assert secret not in logged, f"a secret ({secret[:6]}…) was logged"
        assert not any(secret in text for text in texts), f"a secret ({secret[:6]}…) was in a response"
