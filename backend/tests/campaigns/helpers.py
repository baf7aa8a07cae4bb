"""Small API factories shared by the campaign, template and group tests."""

from __future__ import annotations

import uuid

import httpx


async def make_server(client: httpx.AsyncClient, company, *, receiving: bool = True, **overrides) -> dict:
    body = {
        "name": f"Mailbox {uuid.uuid4().hex[:6]}",
        "sender_email": "support@example.test",
        "smtp_host": "127.0.0.1",
        "incoming_protocol": "imap" if receiving else "none",
        **({"incoming_host": "127.0.0.1", "incoming_username": "support", "incoming_password": "pw-1234"}
           if receiving else {}),
        **overrides,
    }
    response = await client.post("/api/email-servers", headers=company.admin.headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def make_campaign(client: httpx.AsyncClient, company, **fields) -> dict:
    body = {"title": f"Support {uuid.uuid4().hex[:6]}", **fields}
    response = await client.post("/api/campaigns", headers=company.admin.headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def make_template(client: httpx.AsyncClient, company, **fields) -> dict:
    body = {"name": f"Template {uuid.uuid4().hex[:6]}", "subject": "Re: ${subject}",
            "html_body": "<p>Hello ${name}</p>", **fields}
    response = await client.post("/api/templates", headers=company.admin.headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def error_fields(response: httpx.Response) -> set[str]:
    return {f["field"] for f in response.json()["error"]["fields"]}
