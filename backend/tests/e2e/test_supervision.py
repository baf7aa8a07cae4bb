"""Supervision in the browser: customers' mail fetched from Dovecot fills a campaign's queue, the router gives one
to the agent, and the supervisor's page shows the numbers, then follows the agent's break and close live. Also
the admin screens for break reasons and incoming mail (mailbox health, quarantine)."""

from __future__ import annotations

import time
import uuid
from email.message import EmailMessage
from email.utils import make_msgid

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import SMTP_PASSWORD, SMTP_USER, api_client, screenshot, sign_in
from tests.e2e.test_admin_screens import open_screen, unique
from tests.e2e.test_agent_flow import deliver

pytestmark = pytest.mark.e2e
PASSWORD = "supervision-pass-1"


def customer_mail(to: str, sender: str, subject: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.org")
    message.set_content("Hello, I am waiting for an answer.")
    return message.as_bytes()


def wait_for(check, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout}s (last: {result!r})")
        time.sleep(0.5)


def campaign_row(client: httpx.Client, campaign_id: str) -> dict:
    board = client.get("/api/supervision/campaigns").raise_for_status().json()
    return next(row for row in board["campaigns"] if row["campaign_id"] == campaign_id)


def create_user(client: httpx.Client, name: str, role: str) -> dict:
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.test"
    user = client.post("/api/users", json={"email": email, "name": name, "role": role, "password": PASSWORD})
    user.raise_for_status()
    return {**user.json(), "email": email}


def browser_page(browser: Browser, backend, email: str) -> Page:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, backend, email, PASSWORD)
    return page


def test_supervisor_sees_the_queue_service_level_and_agent_states_change_live(
    admin_page, browser, backend, smtp_server, dovecot, mailbox_user
):
    # The admin adds a break reason on its screen.
    reason = unique("Lunch")
    open_screen(admin_page, "Break reasons")
    admin_page.get_by_role("textbox", name="New break reason").fill(reason)
    admin_page.get_by_role("button", name="Add", exact=True).click()
    expect(admin_page.get_by_test_id(f"reason-{reason}")).to_be_visible()
    screenshot(admin_page, "break-reasons")

    title, server_name = unique("Returns"), unique("Returns mailbox")
    agent_name, supervisor_name = unique("Sam Agent"), unique("Sue Supervisor")
    with api_client(backend) as admin:
        server = admin.post("/api/email-servers", json={
            "name": server_name, "sender_email": mailbox_user.address, "smtp_host": "localhost",
            "smtp_port": smtp_server.port, "smtp_username": SMTP_USER, "smtp_password": SMTP_PASSWORD,
            "incoming_protocol": "imap", "incoming_host": "localhost", "incoming_port": dovecot.imap_port,
            "incoming_security": "starttls", "incoming_username": mailbox_user.address,
            "incoming_password": mailbox_user.password}).raise_for_status().json()
        agent = create_user(admin, agent_name, "agent")
        supervisor = create_user(admin, supervisor_name, "supervisor")
        campaign = admin.post("/api/campaigns", json={
            "title": title, "email_server_id": server["id"], "strategy": "linear",
            "max_interactions_per_agent": 1}).raise_for_status().json()
        admin.put(f"/api/campaigns/{campaign['id']}/members",
                  json={"members": [{"user_id": agent["id"], "weight": 1, "position": 0}]}).raise_for_status()
        reason_id = next(r["id"] for r in admin.get("/api/agents/break-reasons").json() if r["name"] == reason)

    # Three customers write; nobody is available, so all three wait in the queue.
    customers = [f"customer{n}-{uuid.uuid4().hex[:4]}@example.org" for n in range(3)]
    for customer in customers:
        deliver(dovecot, mailbox_user.address, customer_mail(mailbox_user.address, customer, unique("Return")))
    with api_client(backend, supervisor["email"], PASSWORD) as watching, \
            api_client(backend, agent["email"], PASSWORD) as working:
        wait_for(lambda: campaign_row(watching, campaign["id"])["queued"] == 3)
        # The agent becomes available: the router gives them one (their capacity), within the service level.
        working.put("/api/agents/me/presence", json={"state": "available"}).raise_for_status()
        wait_for(lambda: campaign_row(watching, campaign["id"])["in_progress"] == 1)

        page = browser_page(browser, backend, supervisor["email"])
        open_screen(page, "Supervision")
        row = page.get_by_test_id(f"campaign-{title}")
        expect(row.get_by_test_id("queued")).to_have_text("2")
        expect(row.get_by_test_id("backlog")).to_have_text("0")
        expect(row.get_by_test_id("in-progress")).to_have_text("1")
        expect(row.get_by_test_id("closed-today")).to_have_text("0")
        expect(row.get_by_test_id("service-level")).to_contain_text("100 %")
        expect(row.get_by_test_id("service-level")).to_contain_text("1 of 1 within 3 min")
        expect(row.get_by_test_id("agents-logged-in")).to_have_text("1 / 1")
        expect(row.get_by_test_id("longest-wait")).not_to_have_text("—")
        agent_row = page.get_by_test_id(f"agent-{agent_name}")
        expect(agent_row.get_by_test_id("status")).to_have_text("Busy")
        expect(agent_row.get_by_test_id("load")).to_have_text("1 / 1")
        expect(agent_row).to_contain_text(title)
        waiting = page.get_by_role("table", name="Waiting customers")
        expect(waiting.locator("tbody tr")).to_have_count(2)
        assigned_customer = next(c for c in customers if waiting.get_by_text(c).count() == 0)
        screenshot(page, "supervision")

        # The agent takes a break while still holding the interaction: the page follows without reloading.
        working.put("/api/agents/me/presence", json={"state": "break", "break_reason_id": reason_id}).raise_for_status()
        expect(agent_row.get_by_test_id("status")).to_have_text("Busy on break")
        expect(agent_row.get_by_test_id("break-reason")).to_have_text(reason)
        expect(row.get_by_test_id("agents-logged-in")).to_have_text("1 / 1")

        # ...and closes it: one closed today, nothing in progress, the agent free on break; the others still wait.
        [held] = working.get("/api/agents/me/tray").raise_for_status().json()["items"]
        assert held["customer_email"] == assigned_customer
        working.post(f"/api/interactions/{held['id']}/close",
                     json={"expected_version": held["version"], "disposition": "Refund issued"}).raise_for_status()
        expect(row.get_by_test_id("closed-today")).to_have_text("1")
        expect(row.get_by_test_id("in-progress")).to_have_text("0")
        expect(row.get_by_test_id("queued")).to_have_text("2")
        expect(agent_row.get_by_test_id("status")).to_have_text("Free on break")
        expect(agent_row.get_by_test_id("load")).to_have_text("0 / 1")
        expect(page.get_by_test_id("count-free_on_break")).to_have_text("Free on break: 1")
        screenshot(page, "supervision-live")

        # Supervisors have no administration screens.
        navigation = page.get_by_label("Main navigation")
        expect(navigation.get_by_role("link", name="Break reasons")).to_have_count(0)
        page.context.close()

    # The admin sees the mailbox receiving, and an empty quarantine.
    open_screen(admin_page, "Incoming mail")
    mailbox = admin_page.get_by_test_id(f"mailbox-{server_name}")
    expect(mailbox).to_contain_text("Receiving")
    expect(mailbox).to_contain_text("INBOX")
    expect(admin_page.get_by_text("No message in quarantine.")).to_be_visible()
    screenshot(admin_page, "incoming-mail")

    # Retiring the reason keeps it listed but no longer offered (and other tests' agents may break without one).
    open_screen(admin_page, "Break reasons")
    admin_page.get_by_label(f"Offer “{reason}”").click(force=True)
    expect(admin_page.get_by_test_id(f"reason-{reason}")).to_contain_text("retired")
