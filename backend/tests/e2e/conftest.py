"""End-to-end fixtures: the real `postdesk run` in a subprocess and Debian's Chromium via Playwright."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from postdesk.settings import REPO_ROOT
from tests.conftest import free_port

CHROMIUM = os.environ.get("POSTDESK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = REPO_ROOT / "var" / "screenshots"
ADMIN_EMAIL = "admin@example.test"
ADMIN_PASSWORD = "e2e-admin-password"


class Backend:
    def __init__(self, url: str, data_dir: Path, log: Path) -> None:
        self.url, self.data_dir, self.log = url, data_dir, log


@pytest.fixture(scope="session")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """`postdesk run` exactly as `make run` starts it, on a free port with its own data directory."""
    if not (REPO_ROOT / "frontend" / "dist" / "index.html").exists():
        pytest.fail("frontend/dist is missing: run `make spa` (make test does)")
    data_dir = tmp_path_factory.mktemp("e2e-data")
    port = free_port()
    log = data_dir / "server.log"
    env = {**os.environ, "POSTDESK_DATA_DIR": str(data_dir), "POSTDESK_ADMIN_EMAIL": ADMIN_EMAIL,
           "POSTDESK_ADMIN_PASSWORD": ADMIN_PASSWORD, "POSTDESK_NETWORK_ALLOW": "127.0.0.0/8,::1/128,localhost"}
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
        yield Backend(url, data_dir, log)
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Page, backend: Backend, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> None:
    page.goto(backend.url)
    page.get_by_role("textbox", name="Email").fill(email)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
