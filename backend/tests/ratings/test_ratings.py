"""Ratings: signed links in a delivered reply, a public page that records once (never on GET), tampered
links refused, and the aggregates per campaign and agent."""

from __future__ import annotations

import email
import re
import uuid
from email import policy

import httpx
import pytest
from sqlalchemy import select

from postdesk.campaigns.models import Campaign
from postdesk.delivery import service as delivery_service
from postdesk.interactions.models import Direction, Message, MessageKind, MessageStatus
from postdesk.ratings import service as rating_service
from postdesk.ratings import tokens
from postdesk.ratings.models import Rating
from postdesk.runtime import Runtime
from postdesk.uow import unit_of_work
from tests.conftest import PASSWORD, eventually, login_headers
from tests.delivery.stack import Tenant, make_conversation, make_tenant, received_from
from tests.support.smtp_server import SmtpTestServer

THANKS = "Thank you <3 — we read every rating & improve."


async def rated_tenant(runtime: Runtime, smtp: SmtpTestServer) -> Tenant:
    return await make_tenant(runtime, smtp=smtp, qualification_enabled=True,
                             qualification_motivation_text="Rate <our> service",
                             qualification_thank_you_message=THANKS)


async def reply_with_rating(runtime: Runtime, tenant: Tenant, *, author_id: uuid.UUID | None = None,
                            queue: bool = True) -> uuid.UUID:
    """What the workspace does for a reply in a campaign with qualification on."""
    interaction_id, _, customer_message_id = await make_conversation(runtime, tenant)
    async with unit_of_work(runtime) as session:
        campaign = await session.get(Campaign, tenant.campaign_id)
        reply = Message(company_id=tenant.company_id, interaction_id=interaction_id, direction=Direction.outbound,
                        kind=MessageKind.reply, status=MessageStatus.queued if queue else MessageStatus.sent,
                        subject="Re: Invoice", to=[{"address": "ann@customer.example.test", "name": ""}],
                        in_reply_to=customer_message_id, author_id=author_id or tenant.admin_id)
        session.add(reply)
        await session.flush()
        block_html, block_text = rating_service.rating_block(settings=runtime.settings, message_id=reply.id,
                                                             campaign=campaign)
        reply.text_body = "We fixed your invoice." + block_text
        reply.html_body = "<p>We fixed your invoice.</p>" + block_html
        if queue:
            await delivery_service.queue_message(session, message=reply)
    return reply.id


def link_path(runtime: Runtime, message_id: uuid.UUID, score: int | None = None) -> str:
    url = rating_service.rating_url(runtime.settings, message_id, score)
    return url.removeprefix(runtime.settings.public_url.rstrip("/"))


async def ratings_of(runtime: Runtime, message_id: uuid.UUID) -> list[Rating]:
    async with unit_of_work(runtime) as session:
        return list((await session.scalars(select(Rating).where(Rating.message_id == message_id))).all())


def test_rating_block_has_five_signed_links_and_escaped_motivation(delivery_runtime: Runtime) -> None:
    campaign = Campaign(title="x", qualification_motivation_text="Rate <b>us</b> & win",
                        qualification_thank_you_message="")
    message_id = uuid.uuid4()
    block_html, block_text = rating_service.rating_block(settings=delivery_runtime.settings, message_id=message_id,
                                                         campaign=campaign)
    assert "Rate &lt;b&gt;us&lt;/b&gt; &amp; win" in block_html and "<b>us</b>" not in block_html
    links = re.findall(r"(http://\S+/rate/(\S+)\?score=(\d))", block_text)
    assert [score for _, _, score in links] == ["1", "2", "3", "4", "5"]
    assert {tokens.read_token(delivery_runtime.settings.secret_key.get_secret_value(), token)
            for _, token, _ in links} == {message_id}
    for url, _, _ in links:
        assert url.replace("&", "&amp;") in block_html or url in block_html


async def test_rating_link_in_a_delivered_reply_records_once_after_confirmation(
    delivery_runtime: Runtime, delivery_api: httpx.AsyncClient, smtp_server: SmtpTestServer
) -> None:
    tenant = await rated_tenant(delivery_runtime, smtp_server)
    message_id = await reply_with_rating(delivery_runtime, tenant)

    async def delivered() -> bool:
        async with unit_of_work(delivery_runtime) as session:
            return (await session.get(Message, message_id)).status == MessageStatus.sent

    await eventually(delivered, timeout=30)
    mail = email.message_from_bytes(received_from(smtp_server, tenant.sender_email)[0].content, policy=policy.default)
    text = mail.get_body(("plain",)).get_content()
    assert "Rate <our> service" in text
    link = re.search(r"(/rate/\S+\?score=4)", text).group(1)

    # Opening the link (what a mail scanner does too) records nothing.
    page = await delivery_api.get(link)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert 'value="4" required checked' in page.text and "Rate &lt;our&gt; service" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer"
    assert await ratings_of(delivery_runtime, message_id) == []

    recorded = await delivery_api.post(link.split("?")[0], data={"score": "4"})
    assert recorded.status_code == 200
    assert "Thank you &lt;3 — we read every rating &amp; improve." in recorded.text
    assert [(r.score, r.agent_id, r.campaign_id) for r in await ratings_of(delivery_runtime, message_id)] == [
        (4, tenant.admin_id, tenant.campaign_id)]

    again = await delivery_api.post(link.split("?")[0], data={"score": "1"})
    assert again.status_code == 409 and "Already rated" in again.text
    reopened = await delivery_api.get(link)
    assert reopened.status_code == 200 and "Already rated (4 of 5)" in reopened.text
    assert [r.score for r in await ratings_of(delivery_runtime, message_id)] == [4]


async def test_tampered_or_foreign_rating_links_are_refused(
    delivery_runtime: Runtime, delivery_api: httpx.AsyncClient, smtp_server: SmtpTestServer
) -> None:
    tenant = await rated_tenant(delivery_runtime, smtp_server)
    message_id = await reply_with_rating(delivery_runtime, tenant, queue=False)
    path = link_path(delivery_runtime, message_id)
    token = path.rsplit("/", 1)[1]
    other_id = uuid.uuid4()
    tampered = [
        f"/rate/{other_id.hex}.{token.split('.')[1]}",  # someone else's message with this signature
        f"/rate/{token[:-2]}{'AA' if not token.endswith('AA') else 'BB'}",  # signature changed
        f"/rate/{token.split('.')[0]}",  # no signature
        f"/rate/{token.upper()}",
        "/rate/" + "9" * 5000,
    ]
    for bad in tampered:
        assert (await delivery_api.get(bad)).status_code == 404, bad
        response = await delivery_api.post(bad, data={"score": "5"})
        assert response.status_code == 404 and "not valid" in response.text, bad
    # A link signed with another installation's key.
    foreign = tokens.make_token("another-installation-secret-key-of-enough-length", message_id)
    assert (await delivery_api.post(f"/rate/{foreign}", data={"score": "5"})).status_code == 404
    # A customer's own (inbound) message cannot be rated, even with a valid signature.
    _, inbound_id, _ = await make_conversation(delivery_runtime, tenant)
    assert (await delivery_api.post(link_path(delivery_runtime, inbound_id), data={"score": "5"})).status_code == 404
    assert await ratings_of(delivery_runtime, message_id) == []


@pytest.mark.parametrize("score", ["0", "6", "x", "", "10", "٣"])
async def test_rating_outside_one_to_five_is_refused_naming_the_score(
    delivery_runtime: Runtime, delivery_api: httpx.AsyncClient, smtp_server: SmtpTestServer, score: str
) -> None:
    tenant = await rated_tenant(delivery_runtime, smtp_server)
    message_id = await reply_with_rating(delivery_runtime, tenant, queue=False)
    response = await delivery_api.post(link_path(delivery_runtime, message_id), data={"score": score})
    assert response.status_code == 400 and "score: choose a rating from 1 to 5." in response.text
    assert await ratings_of(delivery_runtime, message_id) == []


async def test_summary_averages_per_campaign_and_agent_for_supervisors_only(
    delivery_runtime: Runtime, delivery_api: httpx.AsyncClient, smtp_server: SmtpTestServer
) -> None:
    tenant = await rated_tenant(delivery_runtime, smtp_server)
    admin = await login_headers(delivery_api, tenant.admin_email, PASSWORD)
    users = {}
    for role in ("agent", "supervisor"):
        address = f"{role}-{uuid.uuid4().hex[:8]}@example.test"
        created = await delivery_api.post("/api/users", headers=admin, json={
            "email": address, "name": f"{role.title()} Person", "role": role, "password": PASSWORD})
        assert created.status_code == 201, created.text
        users[role] = (uuid.UUID(created.json()["id"]), await login_headers(delivery_api, address, PASSWORD))
    agent_id, agent_headers = users["agent"]
    _, supervisor_headers = users["supervisor"]

    for author, score in ((agent_id, 5), (agent_id, 4), (tenant.admin_id, 2)):
        message_id = await reply_with_rating(delivery_runtime, tenant, author_id=author, queue=False)
        assert (await delivery_api.post(link_path(delivery_runtime, message_id),
                                        data={"score": str(score)})).status_code == 200

    summary = await delivery_api.get("/api/ratings/summary", headers=supervisor_headers)
    assert summary.status_code == 200, summary.text
    body = summary.json()
    assert body["count"] == 3 and body["average"] == pytest.approx(3.67, abs=0.01)
    assert body["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}
    assert [(c["campaign_id"], c["count"], c["average"]) for c in body["campaigns"]] == [
        (str(tenant.campaign_id), 3, pytest.approx(3.67, abs=0.01))]
    by_agent = {a["agent_id"]: (a["agent_name"], a["count"], a["average"]) for a in body["agents"]}
    assert by_agent == {str(agent_id): ("Agent Person", 2, 4.5), str(tenant.admin_id): ("Admin", 1, 2.0)}

    only_agent = (await delivery_api.get("/api/ratings/summary", headers=supervisor_headers,
                                         params={"agent": str(agent_id), "campaign": str(tenant.campaign_id)})).json()
    assert (only_agent["count"], only_agent["average"]) == (2, 4.5)
    future = (await delivery_api.get("/api/ratings/summary", headers=supervisor_headers,
                                     params={"since": "2999-01-01T00:00:00Z"})).json()
    assert (future["count"], future["average"], future["campaigns"]) == (0, None, [])

    assert (await delivery_api.get("/api/ratings/summary", headers=agent_headers)).status_code == 403
    foreign = await delivery_api.get("/api/ratings/summary", headers=supervisor_headers,
                                     params={"campaign": str(uuid.uuid4())})
    assert foreign.status_code == 404 and foreign.json()["error"]["fields"][0]["field"] == "campaign"
    bad = await delivery_api.get("/api/ratings/summary", headers=supervisor_headers, params={"since": "yesterday"})
    assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "since"


async def test_ratings_of_another_company_are_not_in_the_summary(
    delivery_runtime: Runtime, delivery_api: httpx.AsyncClient, smtp_server: SmtpTestServer
) -> None:
    ours = await rated_tenant(delivery_runtime, smtp_server)
    theirs = await rated_tenant(delivery_runtime, smtp_server)
    message_id = await reply_with_rating(delivery_runtime, theirs, queue=False)
    assert (await delivery_api.post(link_path(delivery_runtime, message_id), data={"score": "1"})).status_code == 200
    headers = await login_headers(delivery_api, ours.admin_email, PASSWORD)
    body = (await delivery_api.get("/api/ratings/summary", headers=headers)).json()
    assert body["count"] == 0 and body["agents"] == []
