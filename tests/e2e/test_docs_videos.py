"""The manual's video tutorials of the entry workflows, recorded from the real screens by
`make docs`: a payment entered and posted by keyboard, a preview that finds an error that is
then fixed, and a reversal. Each step is checked on the screen and becomes a chapter."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounting.models import Voucher, VoucherStatus
from accounting.services.demo import DEMO_PASSWORD
from tests.e2e.docs_capture import Recording, ffmpeg_available

pytestmark = pytest.mark.docs

TYPING_DELAY_MS = 60  # slow enough to follow


@pytest.fixture(autouse=True)
def needs_ffmpeg():
    if not ffmpeg_available():
        pytest.fail("ffmpeg is needed for the manual's videos (apt-get install ffmpeg)")


def totals(page: Page):
    return page.get_by_role("status", name="Totals")


def type_in(page: Page, text: str) -> None:
    page.keyboard.type(text, delay=TYPING_DELAY_MS)


def open_entry(page: Page, code: str) -> None:
    page.goto(f"/vouchers/{code}/new/")
    expect(page.locator("#entry")).to_have_attribute("data-entry-channel", "config")
    page.wait_for_function("() => window.htmx !== undefined")


def test_payment_entered_and_posted_by_keyboard(new_context, demo_books, log_in_as):
    recording = Recording("payment-by-keyboard", new_context)
    page = recording.page
    log_in_as(page, "admin", DEMO_PASSWORD)

    recording.chapter("Open a new payment")
    open_entry(page, "PV")
    expect(totals(page)).to_contain_text("No amounts entered yet.")
    recording.pause()

    recording.chapter("The header: bank account, payee, reference")
    page.get_by_label("Paid from").focus()
    page.keyboard.press("Control+A")
    type_in(page, "1120")
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Payee")).to_be_focused()
    type_in(page, "S003")
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Reference")).to_be_focused()
    type_in(page, "UTIL-04")
    recording.pause()

    recording.chapter("The lines: Tab from cell to cell")
    page.get_by_label("Account, line 1").focus()
    type_in(page, "5400")
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Description, line 1")).to_be_focused()
    type_in(page, "Electricity, November")
    page.keyboard.press("Tab")
    type_in(page, "412.30")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Account, line 2")).to_be_focused()
    type_in(page, "5700")
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    type_in(page, "Internet, November")
    page.keyboard.press("Tab")
    type_in(page, "60.00")
    page.keyboard.press("Tab")
    expect(totals(page)).to_contain_text("Balanced")
    expect(totals(page)).to_contain_text("472.30")
    recording.pause()

    recording.chapter("F1 lists every key")
    page.keyboard.press("F1")
    card = page.get_by_role("dialog", name="Keys")
    expect(card).to_be_visible()
    recording.pause(1500)
    page.keyboard.press("Escape")
    expect(card).to_be_hidden()

    recording.chapter("Ctrl+S saves, Ctrl+Enter posts")
    page.get_by_label("Reference").focus()
    page.keyboard.press("Control+S")
    expect(page).to_have_url(re.compile(r"/vouchers/\d+/edit/$"))
    expect(page.locator("#entry [role=status].notice-success")).to_contain_text("saved")
    recording.pause()
    page.get_by_label("Reference").focus()
    page.keyboard.press("Control+Enter")
    expect(page).to_have_url(re.compile(r"/vouchers/\d+/$"))
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Posted")
    voucher = Voucher.objects.get(reference="UTIL-04")
    assert voucher.status == VoucherStatus.POSTED
    expect(heading).to_contain_text(voucher.number)
    recording.finish()


def test_preview_finds_an_error_that_is_fixed(new_context, demo_books, log_in_as, browser_problems):
    browser_problems.allow(r"status of 422")  # the refused post, shown on purpose
    recording = Recording("preview-and-fix", new_context)
    page = recording.page
    log_in_as(page, "admin", DEMO_PASSWORD)

    recording.chapter("A journal with a typing error")
    open_entry(page, "JV")
    page.get_by_label("Reference").fill("ACC-DEC")
    for number, (account, side, amount) in enumerate(
        [("5200", "Debit", "2500.00"), ("2300", "Credit", "2050.00")], start=1
    ):
        page.get_by_label(f"Account, line {number}").focus()
        type_in(page, account)
        page.keyboard.press("Escape")
        page.get_by_label(f"Description, line {number}").fill("Rent, December")
        page.get_by_label(f"{side}, line {number}").focus()
        type_in(page, amount)
        page.keyboard.press("Tab")
    expect(totals(page)).to_contain_text("Not balanced: difference 450.00")
    recording.pause()

    recording.chapter("Preview shows what posting would refuse")
    page.get_by_role("button", name="Preview", exact=True).click()
    preview = page.get_by_role("region", name="Ledger preview")
    expect(preview).to_contain_text("Posting would be refused")
    expect(preview).to_contain_text("is not balanced")
    recording.pause(1500)

    recording.chapter("Posting anyway is refused; nothing is written")
    page.get_by_role("button", name="Post", exact=True).click()
    expect(
        page.locator("#entry [role=alert]").filter(has_text="not balanced").first
    ).to_be_visible()
    assert not Voucher.objects.filter(reference="ACC-DEC").exists()
    recording.pause(1500)

    recording.chapter("Fix the amount; the totals follow")
    credit = page.get_by_label("Credit, line 2")
    credit.focus()
    page.keyboard.press("Control+A")
    type_in(page, "2500.00")
    page.keyboard.press("Tab")
    expect(totals(page)).to_contain_text("Balanced")
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(preview).to_contain_text("Balanced; these lines would post as shown.")
    recording.pause(1500)

    recording.chapter("Post")
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Posted")
    assert Voucher.objects.get(reference="ACC-DEC").status == VoucherStatus.POSTED
    recording.finish()


def test_reversing_a_posted_voucher(new_context, demo_books, log_in_as):
    original = Voucher.objects.filter(
        organization=demo_books, voucher_type__code="PV", status=VoucherStatus.POSTED
    ).latest("date")
    recording = Recording("reverse", new_context)
    page = recording.page
    log_in_as(page, "admin", DEMO_PASSWORD)

    recording.chapter("Find the voucher in the list")
    page.get_by_role("link", name="Vouchers", exact=True).first.click()
    page.get_by_label("Number contains").fill(original.number)
    page.get_by_role("button", name="Filter").click()
    link = page.get_by_role("link", name=original.number)
    expect(link).to_be_visible()
    recording.pause()

    recording.chapter("Open it and choose Reverse")
    link.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(original.number)
    recording.pause()
    page.get_by_role("link", name="Reverse…").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Reverse")
    recording.pause()

    recording.chapter("Give the reason and post the reversal")
    page.get_by_label("Reason").focus()
    type_in(page, "Entered twice")
    page.get_by_role("button", name="Post the reversal").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Posted")
    original.refresh_from_db()
    assert original.status == VoucherStatus.REVERSED
    recording.pause()

    recording.chapter("The original is marked reversed")
    page.goto(f"/vouchers/{original.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Reversed")
    recording.finish()
