"""A voucher's staples in a real browser: reversing with a date and a reason, cancelling and
deleting a draft from the entry screen, printing, and the voucher list's CSV with its filters."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect
from waffle.testutils import override_flag

from accounting.models import Voucher, VoucherStatus
from rollout.routing import FLAG_NAME
from tests.factories import post


@pytest.fixture(autouse=True)
def config_ui(transactional_db):
    with override_flag(FLAG_NAME, active=True):
        yield


def save_draft(page: Page) -> Voucher:
    page.goto("/vouchers/PV/new/")
    page.wait_for_function("() => window.htmx !== undefined")
    page.get_by_label("Account, line 1").fill("5200")
    page.get_by_label("Amount, line 1").fill("10")
    page.keyboard.press("Control+S")
    expect(page).to_have_url(re.compile(r"/vouchers/\d+/edit/$"))
    return Voucher.objects.latest("pk")


@pytest.mark.browser
def test_a_reversal_asks_for_date_and_reason_and_cannot_itself_be_reversed(
    page, seeded_books, accountant, log_in
):
    original = post(seeded_books, ("5200", "75.00", ""), ("1120", "", "75.00"), on=date(2026, 3, 5))
    log_in(page, accountant)
    page.goto(f"/vouchers/{original.pk}/")
    page.get_by_role("link", name="Reverse…").click()
    reversal_date = page.get_by_label("Reversal date")
    expect(reversal_date).to_have_value("2026-03-05")  # the original's date, its period open
    reversal_date.fill("2026-03-09")
    page.get_by_role("button", name="Post the reversal").click()
    # No reason, no reversal: the browser holds the form back.
    assert page.get_by_label("Reason").evaluate("(field) => field.validity.valueMissing")
    expect(page).to_have_url(re.compile(rf"/vouchers/{original.pk}/reverse/$"))
    assert not Voucher.objects.filter(reversal_of=original).exists()

    page.get_by_label("Reason").fill("entered twice")
    page.get_by_role("button", name="Post the reversal").click()
    expect(page.get_by_role("status")).to_contain_text(f"{original.number} is reversed by")
    reversal = Voucher.objects.get(reversal_of=original)
    assert (reversal.status, reversal.date) == (VoucherStatus.POSTED, date(2026, 3, 9))
    assert "entered twice" in reversal.narration
    expect(page.locator("dt", has_text="Reverses").locator("xpath=..")).to_contain_text(
        original.number
    )
    expect(page.get_by_role("link", name="Reverse…")).to_have_count(0)
    response = page.goto(f"/vouchers/{reversal.pk}/reverse/")
    expect(page.get_by_role("button", name="Post the reversal")).to_have_count(0)
    assert response is not None and response.status == 200
    expect(page.locator("main")).to_contain_text("revers")


@pytest.mark.browser
def test_a_draft_is_cancelled_or_deleted_from_the_entry_screen(page, accountant, log_in):
    log_in(page, accountant)
    cancelled = save_draft(page)
    page.get_by_role("link", name="Cancel voucher…").click()
    page.get_by_role("button", name=re.compile("^Cancel ")).click()
    cancelled.refresh_from_db()
    assert cancelled.status == VoucherStatus.CANCELLED
    assert cancelled.history.filter(status=VoucherStatus.CANCELLED).exists()

    deleted = save_draft(page)
    page.get_by_role("link", name="Delete draft…").click()
    page.get_by_role("button", name=re.compile("^Delete ")).click()
    assert not Voucher.objects.filter(pk=deleted.pk).exists()
    assert Voucher.history.filter(id=deleted.pk, history_type="-").exists()


@pytest.mark.browser
def test_a_printed_voucher_is_the_document_without_the_site(page, seeded_books, accountant, log_in):
    voucher = post(seeded_books, ("5200", "75.00", ""), ("1120", "", "75.00"), on=date(2026, 3, 5))
    log_in(page, accountant)
    page.goto(f"/vouchers/{voucher.pk}/")
    page.emulate_media(media="print")
    expect(page.get_by_role("heading", level=1)).to_contain_text(voucher.number)
    expect(page.locator("table.report").first).to_be_visible()
    expect(page.get_by_role("banner")).to_be_hidden()
    expect(page.get_by_role("link", name="Reverse…")).to_be_hidden()
    expect(page.get_by_role("button", name="Duplicate as a new draft")).to_be_hidden()


@pytest.mark.browser
def test_the_voucher_list_downloads_as_csv_with_its_filters(page, seeded_books, accountant, log_in):
    post(seeded_books, ("5200", "75.00", ""), ("1120", "", "75.00"), on=date(2026, 3, 5))
    post(seeded_books, ("5200", "20.00", ""), ("1120", "", "20.00"), type_code="PV")
    log_in(page, accountant)
    page.goto("/vouchers/")
    page.get_by_label("Type").select_option(value=str(seeded_books.types["PV"].pk))
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.report tbody tr")).to_have_count(1)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert len(rows) == 2  # the header and the one payment the filter keeps
    assert rows[1][2] == "PV" and rows[1][-2:] == ["20.00", "20.00"]


@pytest.mark.browser
def test_the_trial_balances_show_and_download_their_totals(page, seeded_books, accountant, log_in):
    post(seeded_books, ("5200", "75.00", ""), ("1120", "", "75.00"), on=date(2026, 3, 5))
    post(seeded_books, ("5200", "20.00", ""), ("1120", "", "20.00"), on=date(2026, 4, 2))
    log_in(page, accountant)
    page.goto("/reports/trial-balance/?as_of=2026-12-31")
    total = page.locator("tfoot tr")
    expect(total).to_contain_text("Total")
    expect(total).to_contain_text("95.00")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    totals = [row for row in rows if "Total" in row]
    assert len(totals) == 1 and totals[0].count("95.00") == 2, rows

    page.goto("/reports/period-trial-balance/?start=2026-04-01&end=2026-04-30")
    rent = page.locator("tr", has_text="5200")
    # Opening 75.00, April's 20.00 debit, closing 95.00.
    expect(rent).to_contain_text("75.00")
    expect(rent).to_contain_text("20.00")
    expect(rent).to_contain_text("95.00")
    expect(page.get_by_role("rowheader", name=re.compile("^Subtotal")).first).to_be_visible()
