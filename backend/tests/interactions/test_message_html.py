"""Customer HTML in the conversation view: inline cid: images reference their stored attachment (which the
agent's browser downloads with its token), remote images are blocked when stored and come back only when
the agent asks, and all of it stays inside the caller's company and visibility."""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from sqlalchemy import update

from postdesk.db import utcnow
from postdesk.inbound import recording
from postdesk.inbound import service as inbound_service
from postdesk.interactions.models import Interaction, InteractionState
from postdesk.mail.html import REMOTE_IMAGES_BLOCKED
from postdesk.uow import unit_of_work
from tests.campaigns.helpers import make_server
from tests.interactions.factories import campaign_with_members, make_interaction

LOGO = b"\x89PNG\r\n\x1a\n fake logo bytes"
HTML = ('<p>Your invoice <img src="cid:logo@shop.example" alt="logo" width="40"></p>'
        '<img src="https://tracker.example/pixel.gif" alt="pixel"><img src="http://cdn.example/banner.png">'
        '<script>alert(1)</script><img src="cid:unknown@shop.example" alt="gone">')


def customer_mail(html: str = HTML) -> bytes:
    message = EmailMessage()
    message["From"] = "Carla Customer <carla@customer.test>"
    message["To"] = "support@example.test"
    message["Subject"] = "Invoice with a logo"
    message["Message-ID"] = make_msgid(domain="customer.test")
    message.set_content("See the logo.")
    message.add_alternative(html, subtype="html")
    message.get_payload()[1].add_related(LOGO, maintype="image", subtype="png", cid="<logo@shop.example>", disposition="inline",
                                         filename="logo.png")
    return message.as_bytes()


@pytest.fixture
def received(client, runtime, company, make_user):
    """A customer mail taken through the inbound pipeline into a campaign whose member is a new agent."""

    async def make(raw: bytes | None = None, *, owner=None):
        owner = owner or company
        server = await make_server(client, owner, receiving=False)
        agent = await make_user(owner, name="Alice Agent")
        campaign = await campaign_with_members(client, owner, [agent], server=server)
        prepared = await inbound_service.prepare(runtime.blobs, raw or customer_mail())
        source = recording.MailSource(uuid.UUID(owner.id), uuid.UUID(server["id"]), "INBOX", 1,
                                            int(uuid.uuid4().int % 1_000_000))
        async with unit_of_work(runtime) as session:
            recorded = await recording.record(session, prepared, source)
        async with unit_of_work(runtime) as session:
            # Filing it in the agent's campaign and tray is routing's business, not what these tests are about.
            await session.execute(update(Interaction).where(Interaction.id == recorded.interaction_id).values(
                campaign_id=uuid.UUID(campaign["id"]), agent_id=uuid.UUID(agent.id),
                state=InteractionState.assigned, assigned_at=utcnow()))
        conversation = await client.get(f"/api/interactions/{recorded.interaction_id}", headers=agent.headers)
        assert conversation.status_code == 200, conversation.text
        [message] = conversation.json()["messages"]
        return agent, recorded.interaction_id, message

    return make


def html_url(interaction_id, message_id, remote: str | None = None) -> str:
    url = f"/api/interactions/{interaction_id}/messages/{message_id}/html"
    return f"{url}?remote_images={remote}" if remote is not None else url


async def test_inline_image_references_its_stored_attachment_which_downloads_as_the_image(client, received):
    agent, interaction_id, message = await received()
    [logo] = [a for a in message["attachments"] if a["content_id"] == "logo@shop.example"]
    assert logo["inline"] is True and logo["content_type"] == "image/png"
    html = message["html_body"]
    assert f'<img src="postdesk-attachment:{logo["id"]}" alt="logo" width="40">' in html
    assert "cid:" not in html and "/api/attachments/" not in html
    assert '<img alt="gone">' in html  # an unknown Content-ID loads nothing
    assert "<script" not in html and "tracker.example" not in html and "cdn.example" not in html
    assert html.endswith(REMOTE_IMAGES_BLOCKED)

    download = await client.get(f"/api/interactions/{interaction_id}/attachments/{logo['id']}", headers=agent.headers)
    assert download.status_code == 200 and download.content == LOGO
    assert download.headers["content-type"] == "image/png"


async def test_remote_images_come_back_only_when_asked_for_and_only_as_https(client, received):
    agent, interaction_id, message = await received()
    [logo] = [a for a in message["attachments"] if a["content_id"] == "logo@shop.example"]

    default = await client.get(html_url(interaction_id, message["id"]), headers=agent.headers)
    assert default.status_code == 200, default.text
    assert default.json() == {"message_id": message["id"], "html": message["html_body"], "has_remote_images": True,
                              "remote_images": False}

    shown = await client.get(html_url(interaction_id, message["id"], "true"), headers=agent.headers)
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["remote_images"] is True and body["has_remote_images"] is True
    html = body["html"]
    assert '<img src="https://tracker.example/pixel.gif" alt="pixel">' in html
    assert '<img src="https://cdn.example/banner.png">' in html  # the frame allows https images only
    assert f'src="postdesk-attachment:{logo["id"]}"' in html  # inline images stay references
    assert "<script" not in html and "alert(1)" not in html and not html.endswith(REMOTE_IMAGES_BLOCKED)

    stored = await client.get(f"/api/interactions/{interaction_id}", headers=agent.headers)
    assert stored.json()["messages"][0]["html_body"] == message["html_body"]  # asking stores nothing


async def test_messages_without_remote_images_or_original_are_returned_as_stored(client, runtime, company,
                                                                               make_user):
    agent = await make_user(company)
    campaign = await campaign_with_members(client, company, [agent])
    sample = await make_interaction(runtime, company_id=company.id, campaign_id=campaign["id"])
    response = await client.get(html_url(sample.interaction_id, sample.message_id, "true"), headers=agent.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"message_id": str(sample.message_id), "html": "<p>Hello, any news?</p>",
                               "has_remote_images": False, "remote_images": False}


async def test_html_and_inline_images_stay_inside_the_company_and_the_agents_campaigns(
        client, runtime, company, make_company, make_user, received):
    agent, interaction_id, message = await received()
    [logo] = [a for a in message["attachments"] if a["content_id"] == "logo@shop.example"]
    html = html_url(interaction_id, message["id"], "true")
    logo_url = f"/api/interactions/{interaction_id}/attachments/{logo['id']}"

    supervisor = await make_user(company, role="supervisor")
    assert (await client.get(html, headers=supervisor.headers)).status_code == 200
    outsider = await make_user(company)  # same company, not in the campaign
    assert (await client.get(html, headers=outsider.headers)).status_code == 404
    assert (await client.get(logo_url, headers=outsider.headers)).status_code == 404

    other = await make_company()
    other_agent, other_interaction_id, other_message = await received(owner=other)
    assert (await client.get(html, headers=other.admin.headers)).status_code == 404
    assert (await client.get(html, headers=other_agent.headers)).status_code == 404
    # Not through an interaction of their own either.
    foreign_logo = f"/api/interactions/{other_interaction_id}/attachments/{logo['id']}"
    assert (await client.get(foreign_logo, headers=other_agent.headers)).status_code == 404
    mixed = html_url(other_interaction_id, message["id"], "true")
    assert (await client.get(mixed, headers=other_agent.headers)).status_code == 404
    unknown = html_url(interaction_id, uuid.uuid4())
    assert (await client.get(unknown, headers=agent.headers)).status_code == 404
    assert (await client.get(html_url(interaction_id, message["id"]))).status_code == 401
    assert (await client.get(html_url(other_interaction_id, other_message["id"]),
                             headers=other_agent.headers)).status_code == 200


async def test_drafts_are_not_messages_to_render(client, received):
    agent, interaction_id, _ = await received()
    saved = await client.post(f"/api/interactions/{interaction_id}/drafts", headers=agent.headers,
                              json={"html_body": "<p>half</p>"})
    assert saved.status_code == 201, saved.text
    response = await client.get(html_url(interaction_id, saved.json()["id"]), headers=agent.headers)
    assert response.status_code == 404


async def test_bad_parameters_are_refused_naming_the_field(client, received):
    agent, interaction_id, message = await received()
    response = await client.get(html_url(interaction_id, message["id"], "maybe"), headers=agent.headers)
    assert response.status_code == 422
    assert [f["field"] for f in response.json()["error"]["fields"]] == ["remote_images"]
    response = await client.get(f"/api/interactions/{interaction_id}/messages/not-a-uuid/html", headers=agent.headers)
    assert response.status_code == 422
    assert [f["field"] for f in response.json()["error"]["fields"]] == ["message_id"]
