"""The entry screen's staples in a real browser: amounts with separators in both screens, the
rollback round trip of a draft, the posted balance beside a field, dates in the organization's
format, and no accessibility violations."""

from __future__ import annotations

import copy
import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect
from waffle.testutils import override_flag

from accounting.models import DateFormat, EntryChannel, Voucher, VoucherStatus
from rollout.routing import FLAG_NAME
from tests.factories import post
from voucher_config.models import VoucherTypeConfig
from voucher_config.services import config_update

NEW_PV = "/vouchers/PV/new/"
NOTE = "approved by phone"


def open_config(page: Page, url: str = NEW_PV) -> None:
    response = page.goto(url)
    assert response.status == 200, f"{url} answered {response.status}"
    expect(page.locator("#entry")).to_have_attribute("data-entry-channel", "config")
    page.wait_for_function("() => window.htmx !== undefined")


def open_legacy(page: Page, url: str = NEW_PV) -> None:
    response = page.goto(url)
    assert response.status == 200, f"{url} answered {response.status}"
    expect(page.locator("[data-entry-channel]")).to_have_attribute("data-entry-channel", "legacy")


def with_approval_note(books) -> None:
    """The payment type gains a field of its own, one the legacy screen does not show."""
    config = VoucherTypeConfig.objects.get(organization=books.organization, voucher_type__code="PV")
    definition = copy.deepcopy(config.definition)
    definition["header_fields"].insert(
        -1, {"key": "approval_note", "label": "Approval note", "type": "text", "max_length": 60}
    )
    definition["layout"]["header_sections"][-1]["fields"].insert(0, "approval_note")
    config_update(config=config, definition=definition)


@pytest.mark.browser
def test_an_amount_with_thousands_separators_is_taken_by_both_screens(
    page, seeded_books, accountant, log_in
):
    log_in(page, accountant)
    with override_flag(FLAG_NAME, active=True):
        open_config(page)
        page.get_by_label("Account, line 1").fill("5200")
        page.get_by_label("Amount, line 1").fill("2,340.50")
        page.get_by_label("Description, line 1").focus()
        expect(page.locator("#line-0-errors")).to_be_empty()
        totals = page.get_by_role("status", name="Totals")
        expect(totals.locator("div", has_text="Debits")).to_contain_text("2,340.50")
        page.keyboard.press("Control+S")
        expect(page).to_have_url(re.compile(r"/vouchers/\d+/edit/$"))
    config_draft = Voucher.objects.get(organization=seeded_books.organization)
    assert config_draft.lines.get(account__code="5200").debit == Decimal("2340.50")

    with override_flag(FLAG_NAME, active=False):
        open_legacy(page)
        page.get_by_label("Account, line 1").select_option("5200")
        page.get_by_label("Amount, line 1").fill("2,340.50")
        page.get_by_role("button", name="Save draft").click()
        expect(page).to_have_url(re.compile(r"/vouchers/\d+/$"))
        expect(page.get_by_role("status")).to_contain_text("is saved")
    legacy_draft = Voucher.objects.exclude(pk=config_draft.pk).get()
    assert legacy_draft.entry_channel == EntryChannel.LEGACY
    assert legacy_draft.lines.get(account__code="5200").debit == Decimal("2340.50")


@pytest.mark.browser
def test_a_draft_goes_to_the_legacy_screen_and_back_keeping_its_own_field(
    page, seeded_books, accountant, log_in
):
    with_approval_note(seeded_books)
    log_in(page, accountant)
    with override_flag(FLAG_NAME, active=True):
        open_config(page)
        page.get_by_label("Approval note").fill(NOTE)
        page.get_by_label("Account, line 1").fill("5200")
        page.get_by_label("Amount, line 1").fill("1,200.00")
        page.keyboard.press("Control+S")
        expect(page).to_have_url(re.compile(r"/vouchers/\d+/edit/$"))
    draft = Voucher.objects.get(organization=seeded_books.organization)
    assert draft.data["approval_note"] == NOTE
    detail = f"/vouchers/{draft.pk}/"

    with override_flag(FLAG_NAME, active=False):
        page.goto(detail)
        page.get_by_role("link", name="Edit draft").click()
        expect(page.locator("[data-entry-channel]")).to_have_attribute(
            "data-entry-channel", "legacy"
        )
        expect(page.get_by_label("Amount, line 1")).to_have_value("1200.00")
        page.get_by_label("Narration").fill("changed in the legacy screen")
        page.get_by_role("button", name="Save draft").click()
        expect(page).to_have_url(re.compile(rf"/vouchers/{draft.pk}/$"))
        expect(page.get_by_role("status")).to_contain_text("is saved")
    draft.refresh_from_db()
    assert draft.entry_channel == EntryChannel.LEGACY
    assert draft.narration == "changed in the legacy screen"
    assert draft.data["approval_note"] == NOTE

    with override_flag(FLAG_NAME, active=True):
        page.goto(detail)
        page.get_by_role("link", name="Edit draft").click()
        expect(page.locator("#entry")).to_have_attribute("data-entry-channel", "config")
        expect(page.locator("body")).not_to_contain_text("can only be changed there")
        expect(page.get_by_label("Approval note")).to_have_value(NOTE)
        expect(page.get_by_label("Narration")).to_have_value("changed in the legacy screen")
        page.get_by_label("Reference").fill("BACK")
        page.keyboard.press("Control+S")
        expect(page.get_by_role("status").filter(has_text=re.compile(r"is saved"))).to_be_visible()
    draft.refresh_from_db()
    assert (draft.status, draft.reference, draft.entry_channel) == (
        VoucherStatus.DRAFT,
        "BACK",
        EntryChannel.CONFIG,
    )
    assert draft.data["approval_note"] == NOTE


@pytest.mark.browser
def test_the_posted_balance_shows_beside_the_account_and_party_chosen(
    page, seeded_books, accountant, log_in
):
    books = seeded_books
    post(books, ("1120", "12340.00", ""), ("3100", "", "12340.00"), on=date(2026, 3, 1))
    post(books, ("5200", "40.00", ""), ("1120", "", "40.00"), on=date(2026, 3, 20))
    log_in(page, accountant)
    with override_flag(FLAG_NAME, active=True):
        open_config(page)
        expect(page.locator("#entry")).to_have_attribute("data-balance-url", re.compile("balance"))
        page.get_by_label("Date", exact=True).fill("2026-03-15")
        paid_from = page.get_by_label("Paid from")
        paid_from.focus()
        page.keyboard.press("Control+A")
        page.keyboard.type("1120")
        expect(page.get_by_role("option", name="1120 Main bank account")).to_be_visible()
        page.keyboard.press("Enter")
        balance = page.locator(f"#{paid_from.get_attribute('id')}-balance")
        expect(balance).to_have_text("Balance on 2026-03-15: 12,340.00 Dr")
        # Its field names it for a screen reader.
        described = paid_from.get_attribute("aria-describedby") or ""
        assert balance.get_attribute("id") in described.split()

        # A later voucher date asks again.
        page.get_by_label("Date", exact=True).fill("2026-03-31")
        page.get_by_label("Date", exact=True).dispatch_event("change")
        expect(balance).to_have_text("Balance on 2026-03-31: 12,300.00 Dr")

        # A line's account, typed fast and left with Tab.
        account = page.get_by_label("Account, line 1")
        account.focus()
        page.keyboard.type("5200", delay=0)
        page.keyboard.press("Tab")
        line_balance = page.locator(f"#{account.get_attribute('id')}-balance")
        expect(line_balance).to_have_text("Balance on 2026-03-31: 40.00 Dr")

        # Typing over the account takes its balance away until the new one is chosen.
        account.focus()
        page.keyboard.press("Control+A")
        page.keyboard.type("54")
        expect(line_balance).to_have_text("")
        page.keyboard.press("Escape")


@pytest.mark.browser
def test_the_date_is_typed_and_shown_in_the_organization_format(
    page, seeded_books, accountant, log_in
):
    organization = seeded_books.organization
    organization.date_format = DateFormat.DAY_MONTH_YEAR
    organization.save()
    log_in(page, accountant)
    with override_flag(FLAG_NAME, active=True):
        open_config(page)
        field = page.get_by_label("Date", exact=True)
        expect(field).to_have_attribute("placeholder", "DD/MM/YYYY")
        expect(field).to_have_value(re.compile(r"^\d{2}/\d{2}/\d{4}$"))
        page.keyboard.press("Control+A")
        page.keyboard.type("15/03/2026")
        page.keyboard.press("Alt+ArrowDown")
        expect(page.locator("input.date-picker")).to_have_value("2026-03-15")
        # The calendar writes back in the organization's format.
        page.locator("input.date-picker").evaluate(
            "(picker) => { picker.value = '2026-03-16';"
            " picker.dispatchEvent(new Event('change', {bubbles: true})); }"
        )
        expect(field).to_have_value("16/03/2026")
        cheque_date = page.get_by_label("Cheque date")
        cheque_date.fill("2026-03-14")  # ISO is taken too
        page.get_by_label("Account, line 1").fill("5200")
        page.get_by_label("Amount, line 1").fill("10")
        page.keyboard.press("Control+S")
        expect(page).to_have_url(re.compile(r"/vouchers/\d+/edit/$"))
        expect(page.get_by_role("heading", level=1)).to_contain_text("of 16/03/2026")
        expect(field).to_have_value("16/03/2026")
        expect(cheque_date).to_have_value("14/03/2026")
    voucher = Voucher.objects.get(organization=organization)
    assert voucher.date == date(2026, 3, 16)
    assert voucher.data["cheque_date"] == "2026-03-14"

    with override_flag(FLAG_NAME, active=False):
        open_legacy(page, f"/vouchers/{voucher.pk}/edit/")
        legacy_date = page.locator('input[name="date"]')
        expect(legacy_date).to_have_attribute("type", "text")
        expect(legacy_date).to_have_attribute("placeholder", "DD/MM/YYYY")
        expect(legacy_date).to_have_value("16/03/2026")


AXE = Path(settings.BASE_DIR) / "static" / "vendor" / "axe-core" / "axe.min.js"


@pytest.mark.browser
@pytest.mark.skipif(not AXE.exists(), reason="axe-core is not vendored")
def test_the_entry_page_has_no_accessibility_violations(page, seeded_books, accountant, log_in):
    log_in(page, accountant)
    with override_flag(FLAG_NAME, active=True):
        open_config(page)
        page.get_by_label("Account, line 1").fill("5200")
        page.get_by_label("Amount, line 1").fill("10")
        page.get_by_role("button", name="Preview").click()
        expect(page.get_by_role("region", name="Ledger preview")).to_contain_text("5200")
        # Loaded outside the page's Content-Security-Policy, as the browser's own tools are.
        page.evaluate(AXE.read_text())
        result = page.evaluate(
            "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
            " return JSON.stringify(r.violations.map((v) => ({id: v.id, help: v.help,"
            " nodes: v.nodes.map((n) => n.target.join(' '))}))); }"
        )
    violations = json.loads(result)
    assert violations == [], json.dumps(violations, indent=2)
