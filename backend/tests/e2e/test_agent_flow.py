"""The done-when flow of issue 7, all through the real pages: an admin sets up a server, a campaign with a
template and an agent; a customer's email lands in the mailbox; the agent sees it appear, replies with the
template, and the reply reaches the SMTP server threaded under the customer's message. Also: a script in a
customer's HTML never runs."""

from __future__ import annotations

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from email import message_from_bytes
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import SMTP_PASSWORD, SMTP_USER, screenshot, sign_in
from tests.e2e.test_admin_screens import choose, open_screen, unique

pytestmark = pytest.mark.e2e
AGENT_PASSWORD = "agent-password-1"


def customer_mail(to: str, subject: str, html: str) -> tuple[bytes, str]:
    message = EmailMessage()
    message["From"] = "Carla Customer <carla@example.org>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id = make_msgid(domain="example.org")
    message.set_content("My order has not arrived.")
    message.add_alternative(html, subtype="html")
    return message.as_bytes(), message_id


def set_up_campaign_as_admin(page: Page, smtp_server, dovecot, mailbox_user) -> dict[str, str]:
    names = {"server": unique("Helpdesk"), "campaign": unique("Orders"), "template": unique("Order answer"),
             "agent": unique("Alex Agent"), "agent_email": f"alex-{uuid.uuid4().hex[:6]}@example.test"}
    open_screen(page, "Email servers")
    page.get_by_role("link", name="New email server").click()
    page.get_by_role("textbox", name="Name", exact=True).fill(names["server"])
    page.get_by_role("textbox", name="Sender email").fill(mailbox_user.address)
    page.get_by_role("textbox", name="SMTP server").fill("localhost")
    page.get_by_role("textbox", name="SMTP port").fill(str(smtp_server.port))
    page.get_by_role("textbox", name="SMTP user name").fill(SMTP_USER)
    page.get_by_label("SMTP password").fill(SMTP_PASSWORD)
    page.locator("label", has_text="IMAP").click()
    page.get_by_role("textbox", name="IMAP server").fill("localhost")
    choose(page, "IMAP security", "STARTTLS")
    page.get_by_role("textbox", name="IMAP port").fill(str(dovecot.imap_port))
    page.get_by_role("textbox", name="IMAP user name").fill(mailbox_user.address)
    page.get_by_label("IMAP password").fill(mailbox_user.password)
    page.get_by_role("button", name="Create and test").click()
    expect(page.get_by_test_id(f"server-{names['server']}").get_by_text("Connected", exact=True)).to_be_visible(
        timeout=30_000)

    open_screen(page, "Users & teams")
    page.get_by_role("button", name="New user").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("textbox", name="Email").fill(names["agent_email"])
    dialog.get_by_role("textbox", name="Name").fill(names["agent"])
    dialog.get_by_role("textbox", name="Password").fill(AGENT_PASSWORD)
    dialog.get_by_role("button", name="Create user").click()
    expect(page.get_by_role("table", name="Users").get_by_text(names["agent_email"])).to_be_visible()

    open_screen(page, "Campaigns")
    page.get_by_role("link", name="New campaign").click()
    page.get_by_role("textbox", name="Campaign title").fill(names["campaign"])
    choose(page, "Email server", f"{names['server']} ({mailbox_user.address})")
    choose(page, "Routing strategy", "Least recently served agent")
    page.get_by_label("Allow free-format emails").uncheck()
    page.get_by_role("button", name="Create campaign").click()
    expect(page.get_by_role("heading", name=names["campaign"])).to_be_visible()

    page.get_by_role("link", name="New template for this campaign").click()
    page.get_by_role("textbox", name="Name", exact=True).fill(names["template"])
    page.get_by_role("textbox", name="Subject").fill("Re: your order")
    page.get_by_role("textbox", name="HTML body").fill("<p>Hello, your parcel left our warehouse today.</p>")
    page.get_by_role("button", name="Create template").click()
    expect(page.get_by_role("heading", name=f"Template “{names['template']}”")).to_be_visible()

    open_screen(page, "Campaigns")
    page.get_by_role("tab", name="Members").click()
    choose(page, "Campaigns", names["campaign"])
    page.keyboard.press("Escape")
    choose(page, "Agents", f"{names['agent']} (agent)")
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Add to campaigns").click()
    expect(page.get_by_role("table", name="Memberships").get_by_text("✓ member")).to_be_visible()
    return names


def agent_page(browser: Browser, backend, email: str) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, backend, email, AGENT_PASSWORD)
    expect(page.get_by_role("heading", name="Workspace")).to_be_visible()
    choose(page, "My status", "Available")
    expect(page.get_by_text("Available", exact=True).first).to_be_visible()
    return page


def deliver(dovecot, mailbox: str, raw: bytes) -> None:
    """Put the customer's mail into the mailbox (Playwright's sync API owns this thread's event loop)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, dovecot.deliver(mailbox, raw)).result()


def wait_for_mail(smtp_server, count: int, timeout: float = 30) -> list:
    deadline = time.monotonic() + timeout
    while len(smtp_server.received) < count and time.monotonic() < deadline:
        time.sleep(0.25)
    return list(smtp_server.received)


def test_customer_mail_reaches_the_agent_who_replies_with_a_template_threaded(
    admin_page, browser, backend, smtp_server, dovecot, mailbox_user
):
    names = set_up_campaign_as_admin(admin_page, smtp_server, dovecot, mailbox_user)
    agent = agent_page(browser, backend, names["agent_email"])
    expect(agent.get_by_text("Your tray is empty.")).to_be_visible()

    subject = unique("Where is my parcel")
    raw, customer_message_id = customer_mail(mailbox_user.address, subject, "<p>My order <b>4711</b> has not arrived.</p>")
    deliver(dovecot, mailbox_user.address, raw)

    # It appears without reloading the page: routed to the available member, announced by the event stream.
    item = agent.get_by_role("button", name=f"Open {subject} from carla@example.org")
    expect(item).to_be_visible(timeout=45_000)
    screenshot(agent, "workspace-tray")
    item.click()
    frame = agent.frame_locator('iframe[title="Message from carla@example.org"]')
    expect(frame.get_by_text("has not arrived")).to_be_visible()

    agent.get_by_role("button", name="Reply", exact=True).click()
    composer = agent.get_by_role("form", name="Reply")
    expect(composer.get_by_text("This campaign allows template-based emails only.")).to_be_visible()
    choose(agent, "Template", f"{names['template']} — Re: your order")
    screenshot(agent, "workspace-composer")
    composer.get_by_role("button", name="Send").click()
    expect(agent.get_by_text("Reply sent.")).to_be_visible()

    [reply] = wait_for_mail(smtp_server, 1)
    assert reply.recipients == ("carla@example.org",)
    sent = message_from_bytes(reply.content)
    assert sent["In-Reply-To"] == customer_message_id
    assert customer_message_id in sent["References"]
    assert "parcel left our warehouse" in reply.content.decode(errors="replace")
    expect(agent.get_by_label("Messages", exact=True).get_by_test_id("message")).to_have_count(2)
    screenshot(agent, "workspace-conversation")
    agent.context.close()


def test_a_script_in_a_customer_email_does_not_run(admin_page, browser, backend, smtp_server, dovecot, mailbox_user):
    names = set_up_campaign_as_admin(admin_page, smtp_server, dovecot, mailbox_user)
    agent = agent_page(browser, backend, names["agent_email"])
    subject = unique("Scripted")
    html = ('<p id="greeting">Hello</p><script>top.document.title = "PWNED"; document.body.innerHTML = "RAN";</script>'
            '<img src="x" onerror="top.document.title = \'PWNED\'">'
            '<img src="https://tracker.example/pixel.gif" alt="tracker">')
    raw, _ = customer_mail(mailbox_user.address, subject, html)
    deliver(dovecot, mailbox_user.address, raw)
    agent.get_by_role("button", name=f"Open {subject} from carla@example.org").click(timeout=45_000)
    frame_element = agent.locator('iframe[title="Message from carla@example.org"]')
    expect(frame_element).to_have_attribute("sandbox", "")
    frame = agent.frame_locator('iframe[title="Message from carla@example.org"]')
    expect(frame.get_by_text("Hello")).to_be_visible()
    expect(frame.get_by_text("RAN")).to_have_count(0)
    # The API drops remote images (tracking pixels) when it stores the mail; nothing remote is loaded.
    expect(frame.locator('img[src*="tracker.example"]')).to_have_count(0)
    agent.wait_for_timeout(500)
    assert agent.title() == "Postdesk"
    screenshot(agent, "workspace-script-blocked")
    agent.context.close()
