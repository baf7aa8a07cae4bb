"""The administration screens in headless Chromium against `postdesk run`, with real local mail servers."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import SMTP_PASSWORD, SMTP_USER, api_client, screenshot

pytestmark = pytest.mark.e2e


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:6]}"


def open_screen(page: Page, label: str) -> None:
    page.get_by_label("Main navigation").get_by_role("link", name=label).click()
    expect(page.get_by_role("heading", name=label, level=2)).to_be_visible()


def picker(page: Page, label: str):
    """A Mantine Select or MultiSelect input by its label (a combobox or a textbox, depending on its state)."""
    return page.get_by_role("combobox", name=label, exact=True).or_(page.get_by_role("textbox", name=label, exact=True))


def choose(page: Page, label: str, option: str) -> None:
    """Pick an option of a Mantine Select by its label."""
    picker(page, label).first.click()
    page.get_by_role("option", name=option, exact=True).click()


def test_admin_sets_up_an_email_server_and_sees_each_leg_of_the_connection_test(
    admin_page, smtp_server, dovecot, mailbox_user
):
    page = admin_page
    name = unique("Support mailbox")
    open_screen(page, "Email servers")
    page.get_by_role("link", name="New email server").click()

    # Only the fields of the chosen type and protocol are shown.
    page.locator("label", has_text="SendGrid").click()
    expect(page.get_by_label("SendGrid API token")).to_be_visible()
    expect(page.get_by_role("textbox", name="SMTP server")).to_have_count(0)
    page.locator("label", has_text="SMTP").first.click()
    expect(page.get_by_role("textbox", name="SMTP server")).to_be_visible()
    expect(page.get_by_role("textbox", name="IMAP server")).to_have_count(0)

    # The API's required-field rules answer before any request.
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.get_by_text("The SMTP server address is required.")).to_be_visible()
    expect(page.get_by_role("textbox", name="SMTP server")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "email-server-form-errors")

    page.get_by_role("textbox", name="Name", exact=True).fill(name)
    page.get_by_role("textbox", name="Sender email").fill("support@example.test")
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

    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_text("Connection test passed")).to_be_visible(timeout=30_000)
    results = page.get_by_role("list", name="Connection test results")
    expect(results.get_by_text("outgoing ok")).to_be_visible()
    expect(results.get_by_text("incoming ok")).to_be_visible()
    screenshot(page, "email-server-form")

    page.get_by_role("button", name="Create", exact=True).click()
    row = page.get_by_test_id(f"server-{name}")
    expect(row).to_be_visible()
    expect(row.get_by_text("Not tested", exact=True)).to_be_visible()
    page.get_by_role("button", name=f"Test connection of {name}").click()
    expect(row.get_by_text("Connected", exact=True)).to_be_visible(timeout=30_000)
    screenshot(page, "email-servers")


def test_a_failing_server_shows_red_and_which_leg_failed(admin_page, backend, smtp_server):
    name = unique("Wrong password")
    with api_client(backend) as client:
        client.post("/api/email-servers", json={
            "name": name, "sender_email": "desk@example.test", "smtp_host": "localhost", "smtp_port": smtp_server.port,
            "smtp_username": SMTP_USER, "smtp_password": "not the password"}).raise_for_status()
    page = admin_page
    open_screen(page, "Email servers")
    page.get_by_role("button", name=f"Test connection of {name}").click()
    row = page.get_by_test_id(f"server-{name}")
    expect(row.get_by_text("Failing", exact=True)).to_be_visible(timeout=30_000)
    expect(row.get_by_text("outgoing failed")).to_be_visible()


def test_the_api_answer_appears_under_the_field_it_is_about(admin_page, backend):
    name = unique("Taken")
    with api_client(backend) as client:
        client.post("/api/email-servers", json={"name": name, "sender_email": "a@example.test",
                                                "smtp_host": "localhost"}).raise_for_status()
    page = admin_page
    open_screen(page, "Email servers")
    page.get_by_role("link", name="New email server").click()
    page.get_by_role("textbox", name="Name", exact=True).fill(name)
    page.get_by_role("textbox", name="Sender email").fill("b@example.test")
    page.get_by_role("textbox", name="SMTP server").fill("localhost")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("An email server with this name already exists.")
    expect(page.get_by_role("textbox", name="Name", exact=True)).to_have_attribute("aria-invalid", "true")


def test_deleting_a_server_asks_for_its_name_and_lists_what_uses_it(admin_page, backend):
    name, title = unique("Shared server"), unique("Billing")
    with api_client(backend) as client:
        server = client.post("/api/email-servers", json={"name": name, "sender_email": "a@example.test",
                                                         "smtp_host": "localhost"}).json()
        client.post("/api/campaigns", json={"title": title, "email_server_id": server["id"],
                                            "receive_emails": False}).raise_for_status()
    page = admin_page
    open_screen(page, "Email servers")
    page.get_by_role("button", name=f"Delete {name}").click()
    dialog = page.get_by_role("dialog")
    delete = dialog.get_by_role("button", name="Delete")
    expect(delete).to_be_disabled()
    dialog.get_by_role("textbox", name="Type the email server's name to confirm").fill(name)
    delete.click()
    expect(dialog.get_by_role("alert")).to_contain_text(f"campaign: {title}")
    screenshot(page, "email-server-delete-refused")


def test_admin_builds_a_campaign_with_a_template_and_members(admin_page, backend):
    title, taken, template_name = unique("Customer care"), unique("Existing"), unique("Greeting")
    server_name = unique("Care mailbox")
    with api_client(backend) as client:
        client.post("/api/email-servers", json={
            "name": server_name, "sender_email": "care@example.test", "smtp_host": "localhost",
            "incoming_protocol": "imap", "incoming_host": "localhost", "incoming_username": "care@example.test",
            "incoming_password": "unused here"}).raise_for_status()
        client.post("/api/campaigns", json={"title": taken, "receive_emails": False}).raise_for_status()
        agent = client.post("/api/users", json={"email": f"agent-{uuid.uuid4().hex[:6]}@example.test",
                                                "name": unique("Agent"), "role": "agent",
                                                "password": "agent-password-1"}).json()
    page = admin_page
    open_screen(page, "Campaigns")
    page.get_by_role("link", name="New campaign").click()
    for section in ("General", "Email", "Service & routing", "Schedules", "Automation", "Qualification", "Flags"):
        expect(page.get_by_role("region", name=section)).to_be_visible()

    title_box = page.get_by_role("textbox", name="Campaign title")
    title_box.fill('The "best" queue')
    page.get_by_role("button", name="Create campaign").click()
    expect(page.get_by_text("A campaign title cannot contain quotation marks.")).to_be_visible()

    # The API's conflict lands under the title and marks its section.
    title_box.fill(taken)
    page.get_by_role("button", name="Create campaign").click()
    expect(page.get_by_text("A campaign with this title already exists.").first).to_be_visible()
    expect(page.get_by_role("region", name="General").get_by_text("needs attention")).to_be_visible()

    title_box.fill(title)
    choose(page, "Email server", f"{server_name} (care@example.test)")
    page.get_by_label("Allow free-format emails").uncheck()
    page.get_by_role("button", name="Add opening hours").click()
    screenshot(page, "campaign-form")
    page.get_by_role("button", name="Create campaign").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    expect(page.get_by_text("no free-format emails")).to_be_visible()

    page.get_by_role("link", name="New template for this campaign").click()
    page.get_by_role("textbox", name="Name", exact=True).fill(template_name)
    page.get_by_role("textbox", name="Subject").fill("Re: ${subject}")
    page.get_by_role("textbox", name="HTML body").fill("<p>Hello ${first_name}, thank you for writing.</p>")
    variables = page.get_by_label("Variables used")
    expect(variables.get_by_role("textbox", name="subject")).to_be_visible()
    expect(variables.get_by_role("textbox", name="first_name")).to_be_visible()
    page.get_by_role("button", name="Create template").click()
    expect(page.get_by_role("heading", name=f"Template “{template_name}”")).to_be_visible()
    page.get_by_role("textbox", name="first_name").fill("Ana")
    preview = page.frame_locator('iframe[title="Template preview"]')
    expect(preview.get_by_text("Hello Ana, thank you for writing.")).to_be_visible()
    screenshot(page, "template-editor")

    open_screen(page, "Campaigns")
    page.get_by_role("textbox", name="Search campaigns").fill(title)
    page.get_by_role("link", name=title).click()
    templates = page.get_by_role("table", name="Campaign templates")
    expect(templates.get_by_role("link", name=template_name)).to_be_visible()
    expect(templates.get_by_text("Re: ${subject}")).to_be_visible()
    screenshot(page, "campaign-details")

    page.get_by_role("link", name="Members").click()
    choose(page, "Campaigns", title)
    page.keyboard.press("Escape")
    choose(page, "Agents", f"{agent['name']} (agent)")
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Add to campaigns").click()
    memberships = page.get_by_role("table", name="Memberships")
    expect(memberships.get_by_role("row", name=agent["name"]).get_by_text("✓ member")).to_be_visible()
    screenshot(page, "campaign-members")
    page.get_by_role("button", name="Remove from campaigns").click()
    expect(memberships.get_by_role("row", name=agent["name"]).get_by_text("—")).to_be_visible()


def test_email_groups_blacklist_and_people_screens(admin_page):
    page = admin_page
    group = unique("Night shift")
    open_screen(page, "Email groups")
    page.get_by_role("button", name="New email group").click()
    page.get_by_role("dialog").get_by_role("textbox", name="Name").fill(group)
    page.get_by_role("dialog").get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name=group)).to_be_visible()
    contact = page.get_by_role("form", name="Add contact")
    contact.get_by_role("textbox", name="Email address").fill("not an address")
    contact.get_by_role("button", name="Add").click()
    expect(contact.get_by_role("textbox", name="Email address")).to_have_attribute("aria-invalid", "true")
    contact.get_by_role("textbox", name="Email address").fill("lead@example.test")
    contact.get_by_role("textbox", name="Contact name").fill("Shift lead")
    contact.get_by_role("button", name="Add").click()
    expect(page.get_by_role("table", name="Contacts").get_by_text("lead@example.test")).to_be_visible()
    screenshot(page, "email-group")

    open_screen(page, "Blacklist")
    page.get_by_role("button", name="Import").click()
    dialog = page.get_by_role("dialog")
    domain = f"spam-{uuid.uuid4().hex[:6]}.example"
    dialog.get_by_role("textbox", name="CSV").fill(f"value,reason\n{domain},spam_report\nnot an address,manual\n")
    dialog.get_by_role("button", name="Import").click()
    expect(dialog.get_by_role("status")).to_contain_text("1 added")
    expect(dialog.get_by_role("table", name="Refused rows")).to_contain_text("Row")
    screenshot(page, "blacklist-import")
    dialog.get_by_role("button", name="Close").click()
    page.get_by_role("textbox", name="Search the blacklist").fill(domain)
    expect(page.get_by_role("table", name="Blacklist").get_by_text(domain)).to_be_visible()
    screenshot(page, "blacklist")

    open_screen(page, "Users & teams")
    expect(page.get_by_role("table", name="Users").get_by_text("admin@example.test")).to_be_visible()
    page.get_by_role("button", name="New user").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("textbox", name="Email").fill(f"new-{uuid.uuid4().hex[:6]}@example.test")
    dialog.get_by_role("textbox", name="Name").fill("Short Password")
    dialog.get_by_role("textbox", name="Password").fill("short")
    dialog.get_by_role("button", name="Create user").click()
    expect(dialog.get_by_text("Use at least 10 characters.")).to_be_visible()
    expect(dialog.get_by_role("textbox", name="Password")).to_have_attribute("aria-invalid", "true")
    dialog.get_by_role("button", name="Cancel").click()
    screenshot(page, "users")
    page.get_by_role("tab", name="Teams").click()
    expect(page.get_by_role("button", name="New team")).to_be_visible()
    screenshot(page, "teams")


def test_channel_filters_route_a_pasted_message_to_the_matching_campaign(admin_page, backend):
    name, billing = unique("Shared inbox"), unique("Billing")
    with api_client(backend) as client:
        server = client.post("/api/email-servers", json={
            "name": name, "sender_email": "desk@example.test", "smtp_host": "localhost"}).json()
        client.post("/api/campaigns", json={"title": billing, "email_server_id": server["id"],
                                            "receive_emails": False}).raise_for_status()
    page = admin_page
    open_screen(page, "Email servers")
    page.get_by_role("link", name=name).click()
    filters = page.get_by_role("region", name="Channel filters")
    form = filters.get_by_role("form", name="Add a filter")
    form.get_by_role("button", name="Add filter").click()
    expect(form.get_by_text("Choose the campaign that receives matching mail.")).to_be_visible()
    form.get_by_role("textbox", name="Filter name").fill("Invoices")
    choose(page, "Field", "Subject")
    choose(page, "Match", "contains")
    form.get_by_role("textbox", name="Value").fill("invoice")
    choose(page, "Deliver to campaign", billing)
    form.get_by_role("button", name="Add filter").click()
    expect(filters.get_by_role("table", name="Filters").get_by_text("Invoices")).to_be_visible()

    filters.get_by_role("button", name="Test filters").click()
    result = filters.get_by_role("status")
    expect(result).to_contain_text(f"Goes to “{billing}”")
    expect(result).to_contain_text("Matched by the filter “Invoices”.")
    screenshot(page, "channel-filters")
