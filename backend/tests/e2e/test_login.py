"""Signing in through the real login page, in headless Chromium, against `postdesk run`."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_NAME, ADMIN_PASSWORD, screenshot, sign_in

pytestmark = pytest.mark.e2e

ADMIN_NAVIGATION = ("Workspace", "Supervision", "Email servers", "Campaigns", "Templates", "Email groups",
                    "Blacklist", "Users & teams")


def test_admin_signs_in_and_sees_the_admin_navigation(page, backend):
    page.goto(backend.url)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    screenshot(page, "login")

    sign_in(page, backend)
    navigation = page.get_by_label("Main navigation")
    for label in ADMIN_NAVIGATION:
        expect(navigation.get_by_role("link", name=label)).to_be_visible()
    expect(page.get_by_test_id("user-name")).to_have_text(ADMIN_NAME)
    screenshot(page, "shell-admin")

    navigation.get_by_role("link", name="System status").click()
    expect(page.get_by_text("Mode: embedded")).to_be_visible()
    expect(page.get_by_role("table", name="Workers").get_by_text("in-process")).to_be_visible()
    screenshot(page, "system-status")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_wrong_password_shows_the_api_message(page, backend):
    sign_in(page, backend, ADMIN_EMAIL, "not the password")
    expect(page.get_by_role("alert")).to_contain_text("Incorrect email or password.")
    expect(page.get_by_role("button", name="Sign in")).to_be_enabled()
    screenshot(page, "login-error")


def test_repeated_failures_show_the_wait_time(page, start_backend):
    with start_backend(POSTDESK_LOGIN_MAX_ATTEMPTS="2") as throttled:
        for _ in range(2):
            sign_in(page, throttled, ADMIN_EMAIL, "not the password")
            expect(page.get_by_role("alert")).to_contain_text("Incorrect email or password.")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("Too many login attempts, try again in")
        screenshot(page, "login-throttled")


def test_keyboard_alone_signs_in(page, backend):
    page.goto(backend.url)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.keyboard.press("Tab")
    page.keyboard.type(ADMIN_EMAIL)
    page.keyboard.press("Tab")
    page.keyboard.type(ADMIN_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("user-name")).to_have_text(ADMIN_NAME)


def test_stale_token_goes_back_to_sign_in(admin_page, backend):
    admin_page.evaluate("sessionStorage.setItem('postdesk.token', 'no-longer-valid')")
    admin_page.goto(f"{backend.url}/campaigns")
    expect(admin_page.get_by_role("button", name="Sign in")).to_be_visible()


def test_account_load_failure_offers_a_retry(page, backend):
    failing = {"left": 2}  # the query client retries once before showing the error

    def fail_while_left(route):
        if failing["left"]:
            failing["left"] -= 1
            route.fulfill(status=503, content_type="application/json",
                          body='{"error": {"code": "unavailable", "message": "Database is restarting.", "fields": []}}')
        else:
            route.continue_()

    page.route("**/api/auth/me", fail_while_left)
    sign_in(page, backend)
    expect(page.get_by_role("alert")).to_contain_text("Database is restarting.")
    page.get_by_role("button", name="Try again").click()
    expect(page.get_by_test_id("user-name")).to_have_text(ADMIN_NAME)


def test_narrow_screen_opens_navigation_from_the_burger(admin_page):
    admin_page.set_viewport_size({"width": 390, "height": 800})
    campaigns = admin_page.get_by_label("Main navigation").locator("a", has_text="Campaigns")
    expect(campaigns).not_to_be_in_viewport()
    admin_page.get_by_role("button", name="Open navigation").click()
    expect(campaigns).to_be_in_viewport()
    screenshot(admin_page, "shell-admin-narrow-navigation")
    campaigns.click()
    expect(admin_page.get_by_role("heading", name="Campaigns")).to_be_visible()
    expect(campaigns).not_to_be_in_viewport()
    screenshot(admin_page, "shell-admin-narrow")


def test_spa_routes_load_directly_and_api_paths_stay_json(page, backend):
    response = page.request.get(f"{backend.url}/campaigns")
    assert response.ok and "<div id=\"root\">" in response.text()
    api_response = page.request.get(f"{backend.url}/api/nothing-here")
    assert api_response.status == 404 and api_response.json()["error"]["code"] == "not_found"
