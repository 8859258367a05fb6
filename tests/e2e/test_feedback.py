"""Feedback and announcements in a real browser, by keyboard alone: a user sends feedback from
an entry screen and an administrator of their organization reads it with its channel and voucher
type, while another organization's administrator does not; an announcement is shown once and
dismissed by keyboard; a payment posted by keyboard counts as keyboard only."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from waffle.testutils import override_flag

from accounting.models import Role
from rollout.routing import FLAG_NAME
from support.announcements import announcement_publish
from support.models import AnnouncementDismissal, EntryTiming, Feedback
from tests.factories import Books

NEW_PV = "/vouchers/PV/new/"
MESSAGE = "The party search is slow on the payment screen."


@pytest.fixture(autouse=True)
def config_ui(transactional_db):
    with override_flag(FLAG_NAME, active=True):
        yield


def tab_to(page: Page, selector: str, *, backwards: bool = False, limit: int = 80) -> None:
    """Presses Tab (or Shift+Tab) until the element matching `selector` has the focus."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        if page.evaluate(
            "(s) => document.activeElement && document.activeElement.matches(s)", selector
        ):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{selector} was not reached by {key}")


@pytest.mark.browser
def test_feedback_sent_by_keyboard_reaches_this_organizations_administrator_only(
    page, new_context, seeded_books, accountant, log_in, browser_problems
):
    browser_problems.allow(r"/support/feedback/\d+/.*status of 404")  # the rival's try, below
    log_in(page, accountant)
    page.goto(NEW_PV)
    expect(page.locator("#entry")).to_have_attribute("data-entry-channel", "config")
    page.wait_for_load_state("load")

    tab_to(page, "[data-feedback-open]", backwards=True)
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Send feedback")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Your feedback")).to_be_focused()
    page.keyboard.type(MESSAGE)
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Send")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/vouchers/PV/new/$"))
    expect(page.locator(".messages")).to_contain_text("your feedback was sent")
    feedback = Feedback.objects.get()
    assert (feedback.channel, feedback.voucher_type, feedback.screen) == (
        "config",
        "PV",
        "entry-new",
    )
    assert feedback.load_ms is not None and feedback.load_ms > 0

    # An administrator of the organization reads it, with its channel and voucher type.
    admin_page = new_context().new_page()
    log_in(admin_page, seeded_books.member(Role.ADMIN))
    admin_page.goto("/support/feedback/")
    row = admin_page.locator("table.feedback-list tbody tr", has_text=MESSAGE)
    expect(row).to_have_count(1)
    expect(row.locator(".feedback-channel")).to_have_text("config")
    expect(row.locator(".feedback-type")).to_have_text("PV")
    # Closed here: a context left open keeps its connections, which closing the others awaits.
    admin_page.context.close()

    # Another organization's administrator sees none of it.
    rival = Books(slug="rival", year=2026)
    rival_page = new_context().new_page()
    log_in(rival_page, rival.member(Role.ADMIN))
    rival_page.goto("/support/feedback/")
    expect(rival_page.get_by_role("heading", level=1)).to_have_text("Feedback")
    expect(rival_page.locator("table.feedback-list")).not_to_contain_text(MESSAGE)
    response = rival_page.goto(f"/support/feedback/{feedback.pk}/")
    assert response is not None and response.status == 404
    rival_page.context.close()


@pytest.mark.browser
def test_an_announcement_is_shown_once_and_dismissed_by_keyboard(
    page, seeded_books, accountant, log_in
):
    announcement_publish(
        organization=seeded_books.organization,
        user=None,
        title="The new entry screen",
        message="It is on for you from Monday.",
    )
    log_in(page, accountant)
    page.goto("/")
    notice = page.get_by_role("status").filter(has_text="The new entry screen")
    expect(notice).to_be_visible()

    tab_to(page, ".announcement button")
    page.keyboard.press("Enter")
    expect(page.get_by_text("The new entry screen")).to_have_count(0)
    page.goto("/vouchers/")
    expect(page.get_by_text("It is on for you from Monday.")).to_have_count(0)
    assert AnnouncementDismissal.objects.filter(user=accountant).count() == 1


@pytest.mark.browser
def test_a_payment_posted_by_keyboard_counts_as_keyboard_only(
    page, seeded_books, accountant, log_in
):
    log_in(page, accountant)
    page.goto(NEW_PV)
    expect(page.locator("#entry")).to_have_attribute("data-entry-channel", "config")
    expect(page.locator("input[name=entry_pointer]")).to_have_value("0")
    page.get_by_label("Paid from").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("1120")
    page.keyboard.press("Escape")
    page.get_by_label("Account, line 1").focus()
    page.keyboard.type("5200")
    page.keyboard.press("Tab")
    page.keyboard.type("Office rent")
    page.keyboard.press("Tab")
    page.keyboard.type("100")
    page.keyboard.press("Control+Enter")
    expect(page).to_have_url(re.compile(r"/vouchers/\d+/$"))
    timing = EntryTiming.objects.get()
    assert timing.keyboard_only is True
    assert (timing.channel, timing.voucher_type) == ("config", "PV")
    assert timing.posted_at >= timing.opened_at
