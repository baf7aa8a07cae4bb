"""End-to-end fixtures: the real `postdesk run` in a subprocess and Debian's Chromium via Playwright.

Later e2e tests reuse: `backend` (one server for the session), `start_backend` (a server of their own with
extra settings), `browser`, `page` (a fresh browser context per test), `admin_page` (already signed in),
`sign_in` and `screenshot`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from postdesk.settings import REPO_ROOT
from tests.conftest import free_port
from tests.support.certs import TestCertificates
from tests.support.fixtures import (  # noqa: F401 - fixtures are found by name
    SMTP_PASSWORD,
    SMTP_USER,
    MailboxUser,
    _smtp_server,
    dovecot,
    mailbox_user,
    smtp_server,
)

CHROMIUM = os.environ.get("POSTDESK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(os.environ.get("POSTDESK_SCREENSHOTS", REPO_ROOT / "var" / "screenshots"))
FRONTEND_DIST = Path(os.environ.get("POSTDESK_FRONTEND_DIST", REPO_ROOT / "frontend" / "dist"))
ADMIN_EMAIL = "admin@example.test"
ADMIN_PASSWORD = "e2e-admin-password"
ADMIN_NAME = "Administrator"


class Backend:
    def __init__(self, url: str, data_dir: Path, log: Path) -> None:
        self.url, self.data_dir, self.log = url, data_dir, log


@contextmanager
def run_backend(data_dir: Path, **settings: str) -> Iterator[Backend]:
    """`postdesk run` exactly as `make run` starts it, on a free port, in embedded mode under `data_dir`."""
    if not (FRONTEND_DIST / "index.html").exists():
        pytest.fail(f"{FRONTEND_DIST} has no index.html: run `make spa` (make test does)")
    port = free_port()
    log = data_dir / "server.log"
    env = {**os.environ, "POSTDESK_DATA_DIR": str(data_dir), "POSTDESK_ADMIN_EMAIL": ADMIN_EMAIL,
           "POSTDESK_ADMIN_PASSWORD": ADMIN_PASSWORD, "POSTDESK_NETWORK_ALLOW": "127.0.0.0/8,::1/128,localhost",
           **settings}
    for name in ("POSTDESK_DATABASE_URL", "POSTDESK_REDIS_URL"):
        env.pop(name, None)
    with open(log, "wb") as log_file:
        process = subprocess.Popen([sys.executable, "-m", "postdesk", "run", "--port", str(port)], env=env,
                                   stdout=log_file, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"postdesk run did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        try:
            yield Backend(url, data_dir, log)
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="session")
def backend(tmp_path_factory: pytest.TempPathFactory, certificates: TestCertificates) -> Iterator[Backend]:
    """One server for the whole e2e session.

    Every browser signs in from 127.0.0.1, and the API throttles failed sign-ins per address, so the shared
    server lifts that limit: a test about wrong passwords must not lock the other tests out.
    Throttling itself is tested on a server of its own (see `start_backend`).
    """
    # The suite's test CA is trusted for mail servers, so connection tests reach the local aiosmtpd and Dovecot.
    with run_backend(tmp_path_factory.mktemp("e2e-data"), POSTDESK_LOGIN_MAX_ATTEMPTS="1000",
                     POSTDESK_MAIL_CA_FILE=str(certificates.ca_file), POSTDESK_MAIL_TIMEOUT_SECONDS="4") as server:
        yield server


@pytest.fixture
def start_backend(tmp_path: Path, certificates: TestCertificates):
    """A server of the test's own, with extra POSTDESK_* settings: `with start_backend(X="1") as server:`."""
    return lambda **settings: run_backend(tmp_path, POSTDESK_MAIL_CA_FILE=str(certificates.ca_file), **settings)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh context (own sessionStorage, so signed out) per test; uncaught script errors fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    # The machine is shared: assertions wait as long as actions do.
    expect.set_options(timeout=15_000)
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    yield page
    context.close()
    assert not script_errors, f"uncaught errors in the page: {script_errors}"


@pytest.fixture
def admin_page(page: Page, backend: Backend) -> Page:
    """A page signed in as the first admin, showing the app shell."""
    sign_in(page, backend)
    expect(page.get_by_test_id("user-name")).to_have_text(ADMIN_NAME)
    return page


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return path


def api_token(backend: Backend, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> str:
    """An access token for arranging data through the API (what the test is not about)."""
    response = httpx.post(f"{backend.url}/api/auth/login", json={"email": email, "password": password}, timeout=10)
    response.raise_for_status()
    return response.json()["access_token"]


def api_client(backend: Backend, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> httpx.Client:
    return httpx.Client(base_url=backend.url, timeout=15,
                        headers={"Authorization": f"Bearer {api_token(backend, email, password)}"})


def sign_in(page: Page, backend: Backend, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> None:
    page.goto(backend.url)
    page.get_by_role("textbox", name="Email").fill(email)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
