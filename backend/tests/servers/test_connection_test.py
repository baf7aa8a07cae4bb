"""Connection tests against real servers: the right human message for each way a leg can fail."""

from __future__ import annotations

import pytest

from postdesk.net.guard import NetworkGuard
from tests.support.fixtures import SMTP_PASSWORD, SMTP_USER, MailboxUser
from tests.support.net import BlackHoleServer, closed_port


def config(smtp_port: int, imap_port: int, mailbox: MailboxUser | None = None, **overrides) -> dict:
    mailbox = mailbox or MailboxUser("nobody@example.test", "no-password")
    return {
        "server_type": "smtp",
        "sender_email": "support@example.test",
        "smtp_host": "localhost",
        "smtp_port": smtp_port,
        "smtp_security": "starttls",
        "smtp_username": SMTP_USER,
        "smtp_password": SMTP_PASSWORD,
        "incoming_protocol": "imap",
        "incoming_host": "localhost",
        "incoming_port": imap_port,
        "incoming_security": "tls",
        "incoming_username": mailbox.address,
        "incoming_password": mailbox.password,
        **overrides,
    }


def messages(result: dict) -> dict[str, str]:
    return {leg["leg"]: leg["message"] for leg in result["legs"]}


async def _test(client, company, body: dict) -> dict:
    response = await client.post("/api/email-servers/test", headers=company.admin.headers, json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def test_good_credentials_pass_and_the_status_turns_green(client, company, smtp_server, dovecot, mailbox_user):
    body = {"name": "Support", **config(smtp_server.port, dovecot.imaps_port, mailbox_user)}
    created = await client.post("/api/email-servers", headers=company.admin.headers, json=body)
    assert created.status_code == 201, created.text
    result = await client.post(f"/api/email-servers/{created.json()['id']}/test", headers=company.admin.headers)
    assert result.status_code == 200
    assert result.json()["ok"] is True, result.text
    assert messages(result.json()) == {"outgoing": "connected", "incoming": "connected"}
    server = await client.get(f"/api/email-servers/{created.json()['id']}", headers=company.admin.headers)
    assert server.json()["status"] == "ok" and server.json()["last_tested_at"]


async def test_pop3_with_starttls(client, company, smtp_server, dovecot, mailbox_user):
    result = await _test(client, company, config(smtp_server.port, dovecot.pop3_port, mailbox_user,
                                                 incoming_protocol="pop3", incoming_security="starttls"))
    assert messages(result) == {"outgoing": "connected", "incoming": "connected"}


async def test_missing_imap_folder(client, company, smtp_server, dovecot, mailbox_user):
    result = await _test(client, company, config(smtp_server.port, dovecot.imaps_port, mailbox_user,
                                                 imap_folder="No such folder"))
    assert messages(result)["incoming"] == "folder not found"


async def test_closed_port_is_refused(client, company, dovecot):
    result = await _test(client, company, config(closed_port(), closed_port()))
    assert messages(result) == {"outgoing": "connection refused", "incoming": "connection refused"}


async def test_tls_mismatch_is_a_handshake_failure(client, company, smtp_server, dovecot):
    # Implicit TLS spoken to ports that start in plain text.
    result = await _test(client, company, config(smtp_server.port, dovecot.imap_port, smtp_security="tls",
                                                 incoming_security="tls"))
    assert messages(result) == {"outgoing": "TLS handshake failed", "incoming": "TLS handshake failed"}


async def test_a_server_that_never_answers_times_out(client, company, settings):
    with BlackHoleServer() as silent:
        result = await _test(client, company, config(silent.port, silent.port))
    expected = f"timed out after {settings.mail_timeout_seconds:g} s"
    assert messages(result) == {"outgoing": expected, "incoming": expected}


@pytest.mark.parametrize("host", ["127.0.0.1", "10.0.0.5", "169.254.169.254", "::1", "::ffff:127.0.0.1", "localhost"])
async def test_guarded_hosts_get_one_generic_message(client, company, runtime, monkeypatch, host):
    monkeypatch.setattr(runtime, "network_guard", NetworkGuard([]))
    result = await _test(client, company, config(25, 993, smtp_host=host, incoming_host=host))
    assert messages(result) == {"outgoing": "host not allowed", "incoming": "host not allowed"}


async def test_verify_on_save_refuses_failing_credentials(client, company, smtp_server, dovecot, mailbox_user):
    body = {"name": "Checked", **config(smtp_server.port, dovecot.imaps_port, mailbox_user, smtp_password="wrong")}
    response = await client.post("/api/email-servers", headers=company.admin.headers, params={"verify": True},
                                 json=body)
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == [{"field": "smtp_password", "message": "SMTP: authentication failed"}]
    listed = await client.get("/api/email-servers", headers=company.admin.headers)
    assert listed.json() == []


async def test_verify_on_edit_refuses_and_keeps_the_working_configuration(
    client, company, smtp_server, dovecot, mailbox_user
):
    body = {"name": "Checked", **config(smtp_server.port, dovecot.imaps_port, mailbox_user)}
    created = await client.post("/api/email-servers", headers=company.admin.headers, params={"verify": True},
                                json=body)
    assert created.status_code == 201, created.text
    path = f"/api/email-servers/{created.json()['id']}"
    refused = await client.patch(path, headers=company.admin.headers, params={"verify": True},
                                 json={"imap_folder": "Archive 1999", "sender_name": "Changed"})
    assert refused.status_code == 422
    assert refused.json()["error"]["fields"] == [{"field": "imap_folder", "message": "IMAP: folder not found"}]
    kept = (await client.get(path, headers=company.admin.headers)).json()
    assert (kept["imap_folder"], kept["sender_name"], kept["status"]) == ("INBOX", "", "ok")


# Last: Dovecot slows down logins from an address after a failed one (its auth penalty).
async def test_wrong_passwords_are_reported_per_leg(client, company, smtp_server, dovecot, mailbox_user):
    result = await _test(client, company, config(smtp_server.port, dovecot.imaps_port, mailbox_user,
                                                 smtp_password="wrong-one", incoming_password="wrong-two"))
    assert result["ok"] is False
    assert messages(result) == {"outgoing": "authentication failed", "incoming": "authentication failed"}
