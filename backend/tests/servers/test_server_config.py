"""Email server configuration: required fields by type, defaults, write-only encrypted secrets."""

from __future__ import annotations

import uuid

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import select

from postdesk.security.rotation import rotate_all_secrets
from postdesk.security.secrets import SecretBox
from postdesk.servers.models import EmailServer
from postdesk.uow import unit_of_work

SMTP_SECRET = "smtp-pass-Zq81"
IMAP_SECRET = "imap-pass-Lk22"


def smtp_server(**overrides) -> dict:
    return {
        "name": f"Support mailbox {uuid.uuid4().hex[:6]}",
        "server_type": "smtp",
        "sender_email": "support@example.test",
        "sender_name": "Support",
        "smtp_host": "127.0.0.1",
        "smtp_username": "support",
        "smtp_password": SMTP_SECRET,
        "smtp_security": "starttls",
        "incoming_protocol": "imap",
        "incoming_host": "127.0.0.1",
        "incoming_username": "support",
        "incoming_password": IMAP_SECRET,
        "incoming_security": "tls",
        **overrides,
    }


async def test_create_fills_default_ports_and_never_returns_secrets(client, company):
    response = await client.post("/api/email-servers", headers=company.admin.headers, json=smtp_server())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["smtp_port"] == 587 and body["incoming_port"] == 993
    assert body["has_smtp_password"] and body["has_incoming_password"] and not body["has_sendgrid_api_token"]
    assert body["status"] == "untested" and body["is_default"] is True  # the first server is the default
    listed = await client.get("/api/email-servers", headers=company.admin.headers)
    fetched = await client.get(f"/api/email-servers/{body['id']}", headers=company.admin.headers)
    for text in (response.text, listed.text, fetched.text):
        assert SMTP_SECRET not in text and IMAP_SECRET not in text and "encrypted" not in text


@pytest.mark.parametrize(
    "overrides, fields",
    [
        ({"smtp_host": None}, {"smtp_host"}),
        ({"server_type": "sendgrid", "smtp_host": None}, {"sendgrid_api_token"}),
        ({"incoming_host": None, "incoming_password": None}, {"incoming_host", "incoming_password"}),
        ({"smtp_password": None}, {"smtp_password"}),
        ({"sender_email": "not an address"}, {"sender_email"}),
        ({"sender_name": "Support\r\nBcc: victim@example.test"}, {"sender_name"}),
        ({"smtp_port": 70000}, {"smtp_port"}),
        ({"smtp_host": "mail.example.test\r\nX: y"}, {"smtp_host"}),
        ({"imap_folder": "INBOX\r\nA1 DELETE INBOX"}, {"imap_folder"}),
    ],
)
async def test_invalid_configurations_name_their_fields(client, company, overrides, fields):
    response = await client.post("/api/email-servers", headers=company.admin.headers, json=smtp_server(**overrides))
    assert response.status_code == 422, response.text
    assert {f["field"] for f in response.json()["error"]["fields"]} == fields


async def test_send_only_server_needs_no_incoming_fields(client, company):
    body = smtp_server(incoming_protocol="none", incoming_host=None, incoming_username=None, incoming_password=None)
    response = await client.post("/api/email-servers", headers=company.admin.headers, json=body)
    assert response.status_code == 201
    assert response.json()["incoming_port"] is None and not response.json()["has_incoming_password"]


async def test_sendgrid_server_needs_a_token_and_no_smtp(client, company):
    body = smtp_server(server_type="sendgrid", smtp_host=None, smtp_username=None, smtp_password=None,
                       sendgrid_api_token="SG.token-value-123", incoming_protocol="none")
    response = await client.post("/api/email-servers", headers=company.admin.headers, json=body)
    assert response.status_code == 201, response.text
    assert response.json()["has_sendgrid_api_token"] and "SG.token-value-123" not in response.text


async def test_names_are_unique_per_company(client, make_company):
    ours, theirs = await make_company(), await make_company()
    first = await client.post("/api/email-servers", headers=ours.admin.headers, json=smtp_server(name="Main"))
    again = await client.post("/api/email-servers", headers=ours.admin.headers, json=smtp_server(name="main"))
    elsewhere = await client.post("/api/email-servers", headers=theirs.admin.headers, json=smtp_server(name="Main"))
    assert (first.status_code, again.status_code, elsewhere.status_code) == (201, 409, 201)
    assert again.json()["error"]["fields"][0]["field"] == "name"


async def test_blank_secret_on_edit_keeps_the_stored_one(client, company, runtime):
    created = (await client.post("/api/email-servers", headers=company.admin.headers, json=smtp_server())).json()
    edit = await client.patch(f"/api/email-servers/{created['id']}", headers=company.admin.headers,
                              json={"sender_name": "Help desk", "smtp_password": "", "incoming_password": None})
    assert edit.status_code == 200, edit.text
    assert edit.json()["sender_name"] == "Help desk" and edit.json()["has_smtp_password"]
    async with unit_of_work(runtime) as session:
        row = await session.get(EmailServer, uuid.UUID(created["id"]))
        assert runtime.secret_box.decrypt(row.smtp_password_encrypted) == SMTP_SECRET
        assert runtime.secret_box.decrypt(row.incoming_password_encrypted) == IMAP_SECRET


async def test_changing_security_moves_the_default_port(client, company):
    created = (await client.post("/api/email-servers", headers=company.admin.headers, json=smtp_server())).json()
    edit = await client.patch(f"/api/email-servers/{created['id']}", headers=company.admin.headers,
                              json={"smtp_security": "tls", "incoming_protocol": "pop3"})
    assert (edit.json()["smtp_port"], edit.json()["incoming_port"]) == (465, 995)


async def test_stored_secrets_are_ciphertext_and_survive_key_rotation(client, company, runtime, settings):
    created = (await client.post("/api/email-servers", headers=company.admin.headers, json=smtp_server())).json()
    async with unit_of_work(runtime) as session:
        row = await session.get(EmailServer, uuid.UUID(created["id"]))
        old_ciphertext = row.smtp_password_encrypted
    assert SMTP_SECRET not in old_ciphertext

    new_key = Fernet.generate_key().decode()
    old_keys = [k.get_secret_value() for k in settings.encryption_keys]
    rotated_settings = settings.model_copy(update={"encryption_keys": [SecretStr(k) for k in (new_key, *old_keys)]})
    assert await rotate_all_secrets(rotated_settings) >= 2

    async with unit_of_work(runtime) as session:
        row = (await session.scalars(select(EmailServer).where(EmailServer.id == uuid.UUID(created["id"])))).one()
        await session.refresh(row)
        assert row.smtp_password_encrypted != old_ciphertext
        # Only the new key is needed now; the old keys are no longer required for this secret.
        assert SecretBox([new_key]).decrypt(row.smtp_password_encrypted) == SMTP_SECRET
        assert SecretBox([new_key, *old_keys]).decrypt(row.incoming_password_encrypted) == IMAP_SECRET


async def test_servers_of_another_company_are_404(client, make_company):
    ours, theirs = await make_company(), await make_company()
    theirs_server = (await client.post("/api/email-servers", headers=theirs.admin.headers, json=smtp_server())).json()
    for method in ("get", "patch", "delete"):
        response = await client.request(method, f"/api/email-servers/{theirs_server['id']}",
                                        headers=ours.admin.headers, json={} if method == "patch" else None)
        assert response.status_code == 404
    assert (await client.post(f"/api/email-servers/{theirs_server['id']}/test",
                              headers=ours.admin.headers)).status_code == 404


async def test_agents_cannot_see_server_configuration(client, company, make_user):
    agent = await make_user(company, "agent")
    assert (await client.get("/api/email-servers", headers=agent.headers)).status_code == 403


async def test_private_hosts_are_refused_without_the_allow_list(client, company, runtime, monkeypatch):
    from postdesk.net.guard import NetworkGuard

    monkeypatch.setattr(runtime, "network_guard", NetworkGuard([]))
    for host in ("127.0.0.1", "10.0.0.5", "169.254.169.254", "::1", "::ffff:127.0.0.1", "localhost"):
        response = await client.post("/api/email-servers", headers=company.admin.headers,
                                      json=smtp_server(smtp_host=host, incoming_protocol="none"))
        assert response.status_code == 422, host
        assert response.json()["error"]["fields"] == [{"field": "smtp_host", "message": "this host is not allowed"}]


async def test_deleting_a_server_removes_it(client, company):
    created = (await client.post("/api/email-servers", headers=company.admin.headers, json=smtp_server())).json()
    assert (await client.delete(f"/api/email-servers/{created['id']}", headers=company.admin.headers)).status_code == 204
    assert (await client.get(f"/api/email-servers/{created['id']}", headers=company.admin.headers)).status_code == 404
