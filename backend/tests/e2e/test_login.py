"""Signing in through the real login page, in headless Chromium, against `postdesk run`."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_EMAIL, screenshot, sign_in

pytestmark = pytest.mark.e2e


def test_admin_signs_in_and_sees_the_admin_navigation(page, backend):
    page.goto(backend.url)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    screenshot(page, "login")

    sign_in(page, backend)
    navigation = page.get_by_label("Main navigation")
    for label in ("Workspace", "Supervision", "Email servers", "Campaigns", "Templates", "Users & teams"):
        expect(navigation.get_by_role("link", name=label)).to_be_visible()
    expect(page.get_by_test_id("user-name")).to_have_text("Administrator")
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
    screenshot(page, "login-error")


def test_spa_routes_load_directly_and_api_paths_stay_json(page, backend):
    response = page.request.get(f"{backend.url}/campaigns")
    assert response.ok and "<div id=\"root\">" in response.text()
    api_response = page.request.get(f"{backend.url}/api/nothing-here")
    assert api_response.status == 404 and api_response.json()["error"]["code"] == "not_found"
