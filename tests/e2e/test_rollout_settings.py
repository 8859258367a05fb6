"""The rollout page in a real browser: an organization's administrator moves its members to the
configuration screen, confirming first, and another organization's members stay on legacy."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Page, expect
from waffle.models import Flag

from accounting.models import Role
from rollout.routing import FLAG_NAME
from tests.factories import Books
from voucher_config.services import seed_organization

NEW_PV = "/vouchers/PV/new/"
SCREENSHOT = os.environ.get("ROLLOUT_PAGE_SCREENSHOT")  # a path, to look at the page


def entry_channel(page: Page) -> str:
    response = page.goto(NEW_PV)
    assert response.status == 200
    return page.locator("[data-entry-channel]").get_attribute("data-entry-channel")


@pytest.mark.browser
def test_an_administrator_moves_the_organization_to_the_configuration_screen(
    context, page, seeded_books, accountant, log_in, browser_problems
):
    Flag.objects.get_or_create(name=FLAG_NAME, defaults={"everyone": None})
    rival = Books(slug="rival", year=2026)
    seed_organization(organization=rival.organization)
    rival_clerk = rival.member(Role.CLERK)
    admin = seeded_books.member(Role.ADMIN, username="boss")

    log_in(page, admin)
    page.get_by_role("link", name="Rollout settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rollout of the configuration screen")
    expect(page.locator("#on-config")).to_have_text("0 of 2 users")
    if SCREENSHOT:
        page.screenshot(path=SCREENSHOT, full_page=True)
    page.get_by_label("Configuration screen for everyone").check()
    page.get_by_label("Reason").first.fill("pilot in Acme")
    page.get_by_role("button", name="Review the change").click()
    expect(page.locator("#moves")).to_have_text(
        "2 of 2 users will move to the configuration screen."
    )
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status").first).to_contain_text("Rollout changed.")
    expect(page.locator("#on-config")).to_have_text("2 of 2 users")

    # One browser at a time (the live server answers one request at a time): signed out between.
    context.clear_cookies()
    log_in(page, accountant)
    assert entry_channel(page) == "config"
    context.clear_cookies()
    log_in(page, rival_clerk)
    assert entry_channel(page) == "legacy"
    browser_problems.assert_none()
