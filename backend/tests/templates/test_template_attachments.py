"""Template attachments: upload within size and count limits, list, download the same bytes (always as a
download), delete; stored in the blob store and handed to senders by `attachments_of`."""

from __future__ import annotations

import uuid

from postdesk.accounts.caller import Caller
from postdesk.accounts.models import Role
from postdesk.templates import service as template_service
from postdesk.uow import unit_of_work
from tests.campaigns.helpers import error_fields, make_template


def url(template: dict, suffix: str = "") -> str:
    return f"/api/templates/{template['id']}/attachments{suffix}"


async def upload(client, company, template, name: str, data: bytes, content_type: str = "application/pdf"):
    return await client.post(url(template), headers=company.admin.headers,
                             files={"file": (name, data, content_type)})


async def test_attachments_upload_list_download_and_delete(client, company, runtime):
    template = await make_template(client, company)
    pdf = b"%PDF-1.4 terms and conditions"
    created = await upload(client, company, template, "../../Términos y condiciones.pdf", pdf)
    assert created.status_code == 201, created.text
    attachment = created.json()
    assert attachment["filename"] == "Términos y condiciones.pdf"
    assert attachment["content_type"] == "application/pdf" and attachment["size"] == len(pdf)
    page = await upload(client, company, template, "page.html", b"<script>alert(1)</script>", "text/html")
    assert page.status_code == 201

    listed = (await client.get(url(template), headers=company.admin.headers)).json()
    assert [a["filename"] for a in listed] == ["Términos y condiciones.pdf", "page.html"]

    downloaded = await client.get(url(template, f"/{attachment['id']}"), headers=company.admin.headers)
    assert downloaded.status_code == 200 and downloaded.content == pdf
    assert downloaded.headers["content-type"] == "application/pdf"
    assert downloaded.headers["content-disposition"].startswith("attachment;")
    assert "UTF-8''T%C3%A9rminos%20y%20condiciones.pdf" in downloaded.headers["content-disposition"]
    html = await client.get(url(template, f"/{page.json()['id']}"), headers=company.admin.headers)
    assert html.headers["content-disposition"].startswith("attachment;")
    assert html.headers["content-security-policy"] == "sandbox"

    async with unit_of_work(runtime) as session:
        stored = await template_service.get_template(
            session, _caller(company), uuid.UUID(template["id"]))
        files = await template_service.attachments_of(session, stored)
    assert [(f.filename, f.content_type) for f in files] == [("Términos y condiciones.pdf", "application/pdf"),
                                                            ("page.html", "text/html")]
    assert await runtime.blobs.get(files[0].storage_key) == pdf

    deleted = await client.delete(url(template, f"/{attachment['id']}"), headers=company.admin.headers)
    assert deleted.status_code == 204
    assert [a["id"] for a in (await client.get(url(template), headers=company.admin.headers)).json()] == [
        page.json()["id"]]
    assert (await client.get(url(template, f"/{attachment['id']}"),
                             headers=company.admin.headers)).status_code == 404


async def test_size_and_count_limits_name_the_file_field(client, company, monkeypatch):
    template = await make_template(client, company)
    too_big = await upload(client, company, template, "big.bin", b"x" * (template_service.MAX_ATTACHMENT_BYTES + 1))
    assert too_big.status_code == 413 and error_fields(too_big) == {"file"}
    empty = await upload(client, company, template, "empty.txt", b"")
    assert empty.status_code == 422 and error_fields(empty) == {"file"}
    missing = await client.post(url(template), headers=company.admin.headers, files={"other": ("a", b"a")})
    assert missing.status_code == 422 and error_fields(missing) == {"file"}

    monkeypatch.setattr(template_service, "MAX_ATTACHMENTS_PER_TEMPLATE", 2)
    for index in range(2):
        assert (await upload(client, company, template, f"{index}.txt", b"a", "text/plain")).status_code == 201
    third = await upload(client, company, template, "3.txt", b"a", "text/plain")
    assert third.status_code == 422 and error_fields(third) == {"file"}

    monkeypatch.setattr(template_service, "MAX_TOTAL_ATTACHMENT_BYTES", 10)
    other = await make_template(client, company)
    assert (await upload(client, company, other, "a.txt", b"123456", "text/plain")).status_code == 201
    over_total = await upload(client, company, other, "b.txt", b"123456", "text/plain")
    assert over_total.status_code == 413 and error_fields(over_total) == {"file"}


async def test_attachments_stay_inside_the_company(client, make_company):
    ours, theirs = await make_company(), await make_company()
    template = await make_template(client, ours)
    attachment = (await upload(client, ours, template, "a.pdf", b"%PDF")).json()
    for method, path in (("GET", url(template)), ("GET", url(template, f"/{attachment['id']}")),
                         ("DELETE", url(template, f"/{attachment['id']}"))):
        response = await client.request(method, path, headers=theirs.admin.headers)
        assert response.status_code == 404, (method, path)
    assert (await upload(client, theirs, template, "b.pdf", b"%PDF")).status_code == 404
    other_template = await make_template(client, ours)
    crossed = await client.get(url(other_template, f"/{attachment['id']}"), headers=ours.admin.headers)
    assert crossed.status_code == 404


def _caller(company) -> Caller:
    return Caller(company_id=uuid.UUID(company.id), role=Role.admin)
