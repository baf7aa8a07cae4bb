"""Templates: ${variable} placeholders checked with their position, plain text derived, rendering escapes
values in HTML only, the subject stays one line, and a campaign's templates stay in its company."""

from __future__ import annotations

import pytest

from postdesk.templates import placeholders
from tests.campaigns.helpers import error_fields, make_campaign, make_server, make_template


@pytest.mark.parametrize(
    "text, position",
    [("Hello ${", 7), ("Hello ${ name}", 7), ("Dear ${1x}", 6), ("Hi ${name", 4), ("Hi ${first-name}", 11)],
)
def test_malformed_placeholders_report_their_position(text, position):
    with pytest.raises(placeholders.PlaceholderError) as error:
        placeholders.parse(text)
    assert error.value.position == position


def test_dollars_that_are_not_placeholders_are_kept():
    assert placeholders.render("$5 off, $$${code} now", {"code": "X1"}) == "$5 off, $X1 now"


async def test_plain_text_is_derived_from_html_when_absent(client, company):
    template = await make_template(client, company, html_body="<p>Hello ${name},</p><p>Thanks &amp; bye</p>")
    assert template["text_is_derived"] is True
    assert template["text_body"] == "Hello ${name},\n\nThanks & bye"
    assert template["variables"] == ["subject", "name"]
    given = await make_template(client, company, text_body="Hi ${name}")
    assert given["text_is_derived"] is False and given["text_body"] == "Hi ${name}"


async def test_malformed_placeholder_is_422_naming_field_and_position(client, company):
    for field, text, position in (("html_body", "<p>Hi ${ name}</p>", 7), ("subject", "Order ${1x}", 7),
                                  ("text_body", "Bye ${", 5)):
        response = await client.post("/api/templates", headers=company.admin.headers,
                                     json={"name": "Broken", field: text})
        assert response.status_code == 422, response.text
        assert error_fields(response) == {field}
        assert f"character {position}" in response.json()["error"]["fields"][0]["message"]
    edit_target = await make_template(client, company)
    edit = await client.patch(f"/api/templates/{edit_target['id']}", headers=company.admin.headers,
                              json={"html_body": "${"})
    assert edit.status_code == 422 and error_fields(edit) == {"html_body"}


async def test_preview_escapes_html_but_not_text_or_subject(client, company):
    template = await make_template(client, company, subject="Ticket ${ticket} for ${name}",
                                   html_body="<p>Dear ${name}, see ${link}</p>")
    preview = await client.post(f"/api/templates/{template['id']}/preview", headers=company.admin.headers,
                                json={"variables": {"name": "Tom & <Jerry>", "ticket": "#42"}})
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["subject"] == "Ticket #42 for Tom & <Jerry>"
    assert body["html_body"] == "<p>Dear Tom &amp; &lt;Jerry&gt;, see ${link}</p>"
    assert body["text_body"] == "Dear Tom & <Jerry>, see ${link}"
    assert body["variables"] == ["ticket", "name", "link"] and body["missing"] == ["link"]


async def test_subject_values_with_line_breaks_are_refused(client, company):
    template = await make_template(client, company, subject="About ${topic}", html_body="${body}")
    refused = await client.post(f"/api/templates/{template['id']}/preview", headers=company.admin.headers,
                                json={"variables": {"topic": "x\r\nBcc: victim@example.test"}})
    assert refused.status_code == 422 and error_fields(refused) == {"variables.topic"}
    # Line breaks are fine where they do not reach a header.
    fine = await client.post(f"/api/templates/{template['id']}/preview", headers=company.admin.headers,
                             json={"variables": {"topic": "x", "body": "line one\nline two"}})
    assert fine.status_code == 200
    header = await client.post("/api/templates", headers=company.admin.headers,
                               json={"name": "Bad subject", "subject": "Hi\r\nBcc: x@example.test"})
    assert header.status_code == 422 and error_fields(header) == {"subject"}


async def test_names_are_unique_and_kinds_are_checked(client, company):
    await make_template(client, company, name="Welcome")
    again = await client.post("/api/templates", headers=company.admin.headers, json={"name": "welcome"})
    assert again.status_code == 409 and error_fields(again) == {"name"}
    bad_kind = await client.post("/api/templates", headers=company.admin.headers, json={"name": "X", "kind": "sms"})
    assert bad_kind.status_code == 422 and error_fields(bad_kind) == {"kind"}


async def test_templates_of_a_campaign_and_shared_ones(client, make_company):
    ours, theirs = await make_company(), await make_company()
    await make_server(client, ours)
    await make_server(client, theirs)
    campaign = await make_campaign(client, ours)
    their_campaign = await make_campaign(client, theirs)
    foreign = await client.post("/api/templates", headers=ours.admin.headers,
                                json={"name": "X", "campaign_id": their_campaign["id"]})
    assert foreign.status_code == 404 and error_fields(foreign) == {"campaign_id"}
    own = await make_template(client, ours, name="Own", campaign_id=campaign["id"])
    shared = await make_template(client, ours, name="Shared")
    other = await make_campaign(client, ours)
    await make_template(client, ours, name="Other's", campaign_id=other["id"])
    usable = await client.get("/api/templates", headers=ours.admin.headers, params={"campaign_id": campaign["id"]})
    assert [t["id"] for t in usable.json()["items"]] == [own["id"], shared["id"]]
    their_template = await make_template(client, theirs)
    assert (await client.get(f"/api/templates/{their_template['id']}",
                             headers=ours.admin.headers)).status_code == 404


async def test_moving_a_template_away_from_a_campaign_that_uses_it_is_409(client, company):
    await make_server(client, company)
    auto_reply = await make_template(client, company, kind="auto_reply")
    user = await make_campaign(client, company, title="Users", auto_reply_template_id=auto_reply["id"])
    elsewhere = await make_campaign(client, company)
    moved = await client.patch(f"/api/templates/{auto_reply['id']}", headers=company.admin.headers,
                               json={"campaign_id": elsewhere["id"]})
    assert moved.status_code == 409
    assert moved.json()["error"]["dependents"][0]["id"] == user["id"]
    to_user = await client.patch(f"/api/templates/{auto_reply['id']}", headers=company.admin.headers,
                                 json={"campaign_id": user["id"]})
    assert to_user.status_code == 200 and to_user.json()["campaign_id"] == user["id"]


async def test_supervisors_preview_but_do_not_edit_templates(client, company, make_user):
    template = await make_template(client, company)
    supervisor = await make_user(company, "supervisor")
    assert (await client.post(f"/api/templates/{template['id']}/preview", headers=supervisor.headers,
                              json={"variables": {}})).status_code == 200
    assert (await client.patch(f"/api/templates/{template['id']}", headers=supervisor.headers,
                               json={"name": "x"})).status_code == 403
