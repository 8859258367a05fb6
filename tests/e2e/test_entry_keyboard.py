"""The configuration-driven entry screen in a real browser: keyboard, search, lost session, no JS."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Locator, Page, expect
from waffle.testutils import override_flag

from accounting.models import AccountType, Voucher, VoucherStatus
from rollout.routing import FLAG_NAME
from tests.factories import AccountFactory, Books

NEW_PV = "/vouchers/PV/new/"
RELOAD_MESSAGE = re.compile(r"session or security token has expired.*Reload the page")


@pytest.fixture(autouse=True)
def config_ui(transactional_db):
    with override_flag(FLAG_NAME, active=True):
        yield


def open_new_payment(page: Page) -> None:
    response = page.goto(NEW_PV)
    assert response.status == 200, f"{NEW_PV} answered {response.status}"
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator("#entry")).to_have_attribute("data-entry-channel", "config")
    # The vendored htmx came from the live server's static files and runs under that policy.
    page.wait_for_function("() => window.htmx !== undefined && htmx.version.startsWith('2')")


def totals(page: Page) -> Locator:
    return page.get_by_role("status", name="Totals")


@pytest.mark.browser
def test_a_payment_is_entered_saved_and_posted_with_the_keyboard_alone(
    page, seeded_books, accountant, log_in, browser_problems
):
    log_in(page, accountant)
    open_new_payment(page)
    expect(totals(page)).to_contain_text("No amounts entered yet.")

    paid_from = page.get_by_label("Paid from")
    paid_from.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("1120")
    page.keyboard.press("Escape")  # closes the suggestions, keeps what was typed
    page.keyboard.press("Tab")
    expect(page.get_by_label("Payee")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Reference")).to_be_focused()
    page.keyboard.type("NOV-RENT")

    # Tab walks the grid cell by cell, and on into the next line.
    page.get_by_label("Account, line 1").focus()
    page.keyboard.type("5200")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Description, line 1")).to_be_focused()
    page.keyboard.type("Office rent")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Amount, line 1")).to_be_focused()
    page.keyboard.type("1200")
    page.keyboard.press("Tab")  # Remove line is no Tab stop (Ctrl+Delete)
    expect(page.get_by_label("Account, line 2")).to_be_focused()
    expect(totals(page)).to_contain_text("1,200.00")

    page.keyboard.type("5400")
    page.keyboard.press("Tab")
    page.keyboard.type("Electricity")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Amount, line 2")).to_be_focused()
    page.keyboard.type("85.50")

    # Enter in the last line adds a line and puts the focus in it; so does Alt+N.
    page.keyboard.press("Enter")
    expect(page.get_by_label("Account, line 3")).to_be_focused()
    page.keyboard.press("Alt+N")
    expect(page.get_by_label("Account, line 4")).to_be_focused()
    expect(page.locator("#line-rows > tr.line")).to_have_count(4)

    # The totals followed the amounts: the bank line balances the two expense lines.
    expect(totals(page)).to_contain_text("Balanced")
    expect(totals(page).locator("div", has_text="Debits")).to_contain_text("1,285.50")
    expect(totals(page).locator("div", has_text="Difference")).to_contain_text("0.00")

    page.keyboard.press("Control+S")
    expect(page).to_have_url(re.compile(r"/vouchers/\d+/edit/$"))
    expect(page.locator("#entry [role=status].notice-success")).to_contain_text("saved")
    voucher = Voucher.objects.get(organization=seeded_books.organization)
    assert voucher.status == VoucherStatus.DRAFT
    assert page.url.endswith(f"/vouchers/{voucher.pk}/edit/")
    assert voucher.reference == "NOV-RENT"
    lines = {(line.account.code, line.debit, line.credit) for line in voucher.lines.all()}
    assert lines == {
        ("5200", Decimal("1200.00"), Decimal("0")),
        ("5400", Decimal("85.50"), Decimal("0")),
        ("1120", Decimal("0"), Decimal("1285.50")),
    }

    page.keyboard.press("Control+Enter")
    expect(page).to_have_url(re.compile(rf"/vouchers/{voucher.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("PV-2026-00001")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Posted")
    voucher.refresh_from_db()
    assert (voucher.status, voucher.number) == (VoucherStatus.POSTED, "PV-2026-00001")
    browser_problems.assert_none()


@pytest.mark.browser
def test_account_search_suggests_only_this_organizations_accounts(
    page, accountant, log_in, browser_problems
):
    rival = Books(slug="rival")
    AccountFactory(
        organization=rival.organization,
        code="5990",
        name="Rival warehouse rent",
        account_type=AccountType.EXPENSE,
    )
    log_in(page, accountant)
    open_new_payment(page)

    account = page.get_by_label("Account, line 1")
    account.focus()
    page.keyboard.type("rent")
    suggestions = page.get_by_role("listbox", name="Matches")
    expect(suggestions).to_be_visible()
    expect(account).to_have_attribute("aria-expanded", "true")
    rent = suggestions.get_by_role("option", name="5200 Rent", exact=True)
    expect(rent).to_be_visible()
    expect(suggestions).not_to_contain_text("Rival warehouse rent")
    expect(suggestions.get_by_role("option").filter(has_text="5990")).to_have_count(0)

    rent.click()
    expect(account).to_have_value("5200")
    expect(page.locator("#id_lines-0-account-name")).to_have_text("Rent")
    expect(suggestions).to_be_hidden()
    expect(account).to_be_focused()
    browser_problems.assert_none()


@pytest.mark.browser
@pytest.mark.parametrize("how", ["cookies cleared", "logged out in another tab"])
def test_a_lost_session_asks_to_reload_instead_of_swapping_in_the_login_page(
    how, context, page, accountant, log_in, browser_problems
):
    log_in(page, accountant)
    open_new_payment(page)
    page.get_by_label("Description, line 1").fill("typed before the session ended")

    if how == "cookies cleared":
        context.clear_cookies()  # no session, no CSRF cookie: the server answers 403
        expected = [r"status of 403", r"Response Status Error Code 403 from /vouchers/PV/entry/"]
    else:
        other = context.new_page()
        other.goto("/")
        other.get_by_role("button", name=re.compile(r"^Log out")).click()
        expect(other.get_by_role("heading", name="Log in")).to_be_visible()
        other.close()
        expected = []  # the partial is redirected to the login page, which answers 200

    page.get_by_role("button", name="Add line").click()

    alert = page.locator("#entry-alert")
    expect(alert).to_be_visible()
    expect(alert).to_have_text(RELOAD_MESSAGE)
    # Nothing was swapped in: the form and what was typed are still there, no login form.
    expect(page.get_by_label("Description, line 1")).to_have_value("typed before the session ended")
    expect(page.locator("#line-rows > tr.line")).to_have_count(2)
    expect(page.get_by_label("Password")).to_have_count(0)
    expect(page).to_have_url(re.compile(re.escape(NEW_PV) + "$"))
    browser_problems.assert_none(expected=expected)


@pytest.mark.browser
def test_without_javascript_the_entry_page_saves_a_draft_with_a_plain_post(
    new_context, accountant, log_in, browser_problems
):
    page = new_context(java_script_enabled=False).new_page()
    log_in(page, accountant)
    page.goto(NEW_PV)
    expect(page.locator("#entry")).to_have_attribute("data-entry-channel", "config")
    page.get_by_label("Reference").fill("NO-JS")
    page.get_by_label("Account, line 1").fill("5200")
    page.get_by_label("Description, line 1").fill("Office rent")
    page.get_by_label("Amount, line 1").fill("1200.00")
    page.get_by_role("button", name="Save draft").click()

    # A full page load: the redirect to the draft, with the saved notice and the values.
    expect(page).to_have_url(re.compile(r"/vouchers/\d+/edit/$"))
    expect(page.get_by_role("status").filter(has_text="saved")).to_be_visible()
    expect(page.locator("#entry")).to_have_attribute("data-entry-channel", "config")
    expect(page.get_by_label("Amount, line 1")).to_have_value("1200.00")
    voucher = Voucher.objects.get()
    assert page.url.endswith(f"/vouchers/{voucher.pk}/edit/")
    assert (voucher.status, voucher.reference) == (VoucherStatus.DRAFT, "NO-JS")
    browser_problems.assert_none()
