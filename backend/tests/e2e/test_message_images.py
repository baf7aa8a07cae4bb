"""Images in a customer's email, in the real conversation view: the inline (cid:) logo shows inside the
sandboxed frame, and the remote image is not requested from its server until the agent clicks "Show them"."""

from __future__ import annotations

import re
import ssl
import struct
import threading
import uuid
import zlib
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import api_client, screenshot, sign_in
from tests.e2e.test_admin_screens import choose, unique
from tests.e2e.test_agent_flow import AGENT_PASSWORD, deliver

pytestmark = pytest.mark.e2e


def png(width: int, height: int) -> bytes:
    """A valid RGB PNG of that size (the browser must decode it to report a natural width)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xd0\x40\x20" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


class ImageServer:
    """An https server on 127.0.0.1 standing in for a sender's image host; it counts what it is asked for."""

    def __init__(self, certificates) -> None:
        self.requests: list[str] = []
        image = png(120, 40)
        requests = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # the http.server interface names it so
                requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(image)))
                self.end_headers()
                self.wfile.write(image)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certificates.cert_file, certificates.key_file)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def image_server(certificates) -> Iterator[ImageServer]:
    server = ImageServer(certificates)
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def set_up_agent(backend, smtp_server, dovecot, mailbox_user) -> str:
    """A receiving server on the test mailbox, a campaign on it and an agent in it (the admin screens are tested
    elsewhere, so this goes through the API). Returns the agent's email."""
    agent_email = f"ivy-{uuid.uuid4().hex[:6]}@example.test"
    with api_client(backend) as client:
        server = client.post("/api/email-servers", json={
            "name": unique("Images desk"), "sender_email": mailbox_user.address, "smtp_host": "localhost",
            "smtp_port": smtp_server.port, "incoming_protocol": "imap", "incoming_host": "localhost",
            "incoming_port": dovecot.imap_port, "incoming_security": "starttls",
            "incoming_username": mailbox_user.address, "incoming_password": mailbox_user.password})
        assert server.status_code == 201, server.text
        agent = client.post("/api/users", json={"email": agent_email, "name": unique("Ivy Agent"), "role": "agent",
                                                "password": AGENT_PASSWORD})
        assert agent.status_code == 201, agent.text
        campaign = client.post("/api/campaigns", json={"title": unique("Invoices"), "strategy": "leastrecent",
                                                       "email_server_id": server.json()["id"]})
        assert campaign.status_code == 201, campaign.text
        members = client.put(f"/api/campaigns/{campaign.json()['id']}/members",
                             json={"members": [{"user_id": agent.json()["id"], "weight": 1, "position": 0}]})
        assert members.status_code == 200, members.text
    return agent_email


def mail_with_images(to: str, subject: str, remote_url: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Carla Customer <carla@example.org>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.org")
    message.set_content("Our logo and the product photo.")
    message.add_alternative(f'<p>Our logo: <img src="cid:logo@example.org" alt="logo"></p>'
                            f'<p>The product: <img src="{remote_url}" alt="product"></p>', subtype="html")
    message.get_payload()[1].add_related(png(48, 16), maintype="image", subtype="png", cid="<logo@example.org>",
                                         disposition="inline", filename="logo.png")
    return message.as_bytes()


def test_inline_images_show_and_remote_images_load_only_after_the_agent_asks(
    browser: Browser, backend, smtp_server, dovecot, mailbox_user, image_server
):
    agent_email = set_up_agent(backend, smtp_server, dovecot, mailbox_user)
    # The image server's certificate comes from the suite's private CA, which this browser does not know.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, ignore_https_errors=True)
    agent = context.new_page()
    agent.set_default_timeout(15_000)
    sign_in(agent, backend, agent_email, AGENT_PASSWORD)
    choose(agent, "My status", "Available")

    subject = unique("Invoice with pictures")
    deliver(dovecot, mailbox_user.address, mail_with_images(mailbox_user.address, subject,
                                                            f"{image_server.url}/product.png"))
    agent.get_by_role("button", name=f"Open {subject} from carla@example.org").click(timeout=45_000)

    frame = agent.frame_locator('iframe[title="Message from carla@example.org"]')
    # The inline logo was downloaded with the agent's token and decoded inside the sandboxed frame.
    expect(frame.get_by_alt_text("logo")).to_have_js_property("naturalWidth", 48)
    expect(frame.get_by_alt_text("logo")).to_have_attribute("src", re.compile(r"^data:image/png;base64,"))
    product = frame.get_by_alt_text("product")
    expect(product).to_have_js_property("naturalWidth", 0)
    assert product.get_attribute("src") is None
    notice = agent.get_by_test_id("remote-images")
    expect(notice).to_contain_text("This message has remote images")
    agent.wait_for_timeout(500)
    assert image_server.requests == []  # nothing was asked of the sender's server yet
    screenshot(agent, "workspace-remote-images-blocked")

    notice.get_by_role("button", name="Show them").click()
    expect(product).to_have_js_property("naturalWidth", 120)
    expect(product).to_have_attribute("src", f"{image_server.url}/product.png")
    expect(frame.get_by_alt_text("logo")).to_have_js_property("naturalWidth", 48)
    expect(notice).to_have_count(0)
    assert image_server.requests == ["/product.png"]
    screenshot(agent, "workspace-remote-images-shown")
    context.close()

