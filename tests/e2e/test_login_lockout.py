"""A locked login in a real browser: the lockout page shows under the site's strict
Content-Security-Policy, and the right password does not get past it."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PASSWORD


def submit_login(page: Page, username: str, password: str) -> int:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Log in").click()
    return navigation.value.status


@pytest.mark.browser
def test_wrong_passwords_lead_to_the_lockout_page_and_the_right_one_stays_out(
    page, accountant, browser_problems
):
    statuses = [
        submit_login(page, accountant.username, "wrong-password")
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert statuses[-1] == 429
    assert submit_login(page, accountant.username, PASSWORD) == 429

    expect(page.get_by_role("heading", name="Login locked")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(accountant.username)
    expect(page.get_by_text("ask an administrator to unlock")).to_be_visible()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))  # still signed out
    # Chromium logs the 429 itself; anything else (a refused style or script) fails the test.
    browser_problems.assert_none(expected=[r"status of 429 \(Too Many Requests\)"])
