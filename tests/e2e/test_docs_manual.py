"""The user manual's screenshots, taken from the real screens by `make docs` (marker `docs`).

Each step checks that the screen shows what the manual says before the picture is taken; a
screen that changed or broke fails the documentation build instead of slipping into it.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Page, expect

from accounting.models import Voucher, VoucherStatus
from accounting.services.demo import DEMO_PASSWORD
from accounting.services.voucher_types import voucher_type_workflow_set
from tests.e2e.docs_capture import VIEWPORT, shoot

pytestmark = pytest.mark.docs


@dataclass(frozen=True)
class Example:
    """What the manual enters for one voucher type: header fields and lines by their labels."""

    code: str
    header: dict[str, str]
    lines: list[dict[str, str]] = field(default_factory=list)


# Labels are those of the baseline configurations (voucher_config/baseline/*.json); parties and
# accounts those of the demo organization.
EXAMPLES = [
    Example(
        "JV",
        {"Reference": "ACC-DEC", "Narration": "Rent accrued for December"},
        [
            {"Account": "5200", "Description": "Rent, December", "Debit": "2500.00"},
            {"Account": "2300", "Description": "Rent, December", "Credit": "2500.00"},
        ],
    ),
    Example(
        "PV",
        {"Paid from": "1120", "Payee": "S003", "Reference": "UTIL-04"},
        [
            {"Account": "5400", "Description": "Electricity, November", "Amount": "412.30"},
            {"Account": "5700", "Description": "Internet, November", "Amount": "60.00"},
        ],
    ),
    Example(
        "RV",
        {"Received into": "1120", "Received from": "C001", "Reference": "RCPT-503"},
        [{"Account": "1200", "Description": "Settles INV-1001", "Amount": "1500.00"}],
    ),
    Example(
        "CV",
        {"Transfer from": "1120", "Reference": "CV-DEC"},
        [{"Account": "1110", "Description": "Petty cash top-up", "Amount": "300.00"}],
    ),
    Example(
        "SV",
        {"Customer": "C002", "Customer order number": "PO-5531", "Our reference": "INV-1003"},
        [
            {
                "Item": "Catering service, November",
                "Account": "4200",
                "Amount": "1800.00",
                "Tax %": "10",
            }
        ],
    ),
    Example(
        "PU",
        {"Supplier": "S002", "Supplier invoice number": "MOP-812"},
        [{"Item": "Printer paper", "Account": "5500", "Amount": "240.00", "Tax %": "10"}],
    ),
    Example(
        "DN",
        {"Supplier": "S001", "Original invoice": "ACME-4411", "Reason": "Goods returned"},
        [
            {
                "Item": "Damaged cartons returned",
                "Account": "5100",
                "Amount": "400.00",
                "Tax %": "10",
            }
        ],
    ),
    Example(
        "CN",
        {"Customer": "C001", "Original invoice": "INV-1001", "Reason": "Goods returned"},
        [{"Item": "Returned goods", "Account": "4100", "Amount": "500.00", "Tax %": "10"}],
    ),
]
LOOKUPS = {"Account", "Paid from", "Received into", "Transfer from", "Tax account"}


def sign_in_admin(page: Page, log_in_as) -> None:
    log_in_as(page, "admin", DEMO_PASSWORD)


def fill_field(page: Page, label: str, value: str) -> None:
    field_ = page.get_by_label(label, exact=True)
    if field_.evaluate("element => element.tagName") == "SELECT":
        field_.select_option(label=value)
        return
    field_.fill(value)
    # Account and party fields offer matches as one types; Escape closes them, keeping the value.
    if field_.get_attribute("aria-expanded") is not None:
        field_.press("Escape")
    expect(field_).to_have_value(value)
    field_.blur()  # the screen recalculates on change, which a field fires when it is left


def fill_example(page: Page, example: Example) -> None:
    for label, value in example.header.items():
        fill_field(page, label, value)
    for number, line in enumerate(example.lines, start=1):
        if number > 1 and page.get_by_label(f"Account, line {number}").count() == 0:
            page.get_by_role("button", name="Add line").click()
        for label, value in line.items():
            fill_field(page, f"{label}, line {number}", value)


def totals(page: Page):
    return page.get_by_role("status", name="Totals")


def open_entry(page: Page, code: str) -> None:
    response = page.goto(f"/vouchers/{code}/new/")
    assert response is not None and response.status == 200
    expect(page.locator("#entry")).to_have_attribute("data-entry-channel", "config")
    expect(page.locator("#entry")).to_have_attribute("data-voucher-type", code)
    page.wait_for_function("() => window.htmx !== undefined")


def test_getting_started(page, demo_books, log_in_as):
    page.set_viewport_size(VIEWPORT)
    page.goto("/login/")
    shoot(page, "login", page.get_by_label("Username"), page.get_by_label("Password"))
    sign_in_admin(page, log_in_as)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Demo Trading Ltd")
    shoot(page, "home", page.get_by_role("link", name="New voucher"), page.get_by_text("posted"))
    page.get_by_role("link", name="New voucher").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New voucher")
    shoot(page, "entry-menu", page.get_by_role("link", name=re.compile(r"PV\s+Payment")))


@pytest.mark.parametrize("example", EXAMPLES, ids=[example.code for example in EXAMPLES])
def test_entering_each_voucher_type(page, demo_books, log_in_as, example):
    page.set_viewport_size(VIEWPORT)
    sign_in_admin(page, log_in_as)
    open_entry(page, example.code)
    fill_example(page, example)
    expect(totals(page)).to_contain_text("Balanced")
    page.get_by_role("button", name="Preview", exact=True).click()
    preview = page.get_by_role("region", name="Ledger preview")
    expect(preview).to_contain_text("Balanced; these lines would post as shown.")
    shoot(page, f"entry-{example.code.lower()}", totals(page), preview, full_page=True)

    page.get_by_role("button", name="Post", exact=True).click()
    expect(page).to_have_url(re.compile(r"/vouchers/\d+/$"))
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(re.compile(rf"{example.code}-\d{{4}}-\d{{5}}"))
    expect(heading).to_contain_text("Posted")
    voucher = Voucher.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))
    assert voucher.status == VoucherStatus.POSTED
    assert voucher.voucher_type.code == example.code
    shoot(
        page,
        f"posted-{example.code.lower()}",
        heading,
        page.get_by_role("table", name="Ledger entries"),
        full_page=True,
    )


def test_preview_and_posting(page, demo_books, log_in_as, browser_problems):
    browser_problems.allow(r"status of 422")  # the refused post, shown on purpose
    page.set_viewport_size(VIEWPORT)
    sign_in_admin(page, log_in_as)
    open_entry(page, "JV")
    fill_example(
        page,
        Example(
            "JV",
            {"Reference": "ACC-DEC", "Narration": "Rent accrued for December"},
            [
                {"Account": "5200", "Description": "Rent, December", "Debit": "2500.00"},
                {"Account": "2300", "Description": "Rent, December", "Credit": "2050.00"},
            ],
        ),
    )
    expect(totals(page)).to_contain_text("Not balanced: difference 450.00")
    page.get_by_role("button", name="Preview", exact=True).click()
    preview = page.get_by_role("region", name="Ledger preview")
    expect(preview).to_contain_text("Posting would be refused")
    expect(preview).to_contain_text("is not balanced")
    shoot(page, "preview-problem", totals(page), preview, full_page=True)

    page.get_by_role("button", name="Post", exact=True).click()
    alert = page.locator("#entry [role=alert]").filter(has_text="not balanced").first
    expect(alert).to_be_visible()
    assert not Voucher.objects.filter(reference="ACC-DEC").exists()
    shoot(page, "post-refused", alert, full_page=True)

    fill_field(page, "Credit, line 2", "2500.00")
    expect(totals(page)).to_contain_text("Balanced")
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(preview).to_contain_text("Balanced; these lines would post as shown.")
    shoot(page, "preview-balanced", totals(page), preview, full_page=True)
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Posted")


def test_drafts_and_approval(page, context, demo_books, log_in_as):
    page.set_viewport_size(VIEWPORT)
    voucher_type_workflow_set(
        voucher_type=demo_books.voucher_types.get(code="JV"), requires_approval=True
    )
    log_in_as(page, "clerk", DEMO_PASSWORD)
    open_entry(page, "JV")
    fill_example(page, EXAMPLES[0])
    page.get_by_role("button", name="Save draft").click()
    expect(page).to_have_url(re.compile(r"/vouchers/\d+/edit/$"))
    saved = page.locator("#entry [role=status].notice-success")
    expect(saved).to_contain_text("saved")
    shoot(page, "draft-saved", saved, page.get_by_role("button", name="Submit for approval"))

    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Submitted")
    voucher = Voucher.objects.get(reference="ACC-DEC")
    assert voucher.status == VoucherStatus.SUBMITTED
    shoot(page, "submitted", page.get_by_role("heading", level=1))

    context.clear_cookies()
    sign_in_admin(page, log_in_as)
    page.goto(f"/vouchers/{voucher.pk}/edit/")
    approve = page.get_by_role("button", name="Approve")
    shoot(page, "approve", approve, page.get_by_role("heading", level=1))
    approve.click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Approved")
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.APPROVED
    expect(page.get_by_role("button", name="Post", exact=True)).to_be_visible()
    shoot(page, "approved", heading, page.get_by_role("button", name="Post", exact=True))

    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Posted")
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.POSTED


def test_reversing(page, demo_books, log_in_as):
    page.set_viewport_size(VIEWPORT)
    sign_in_admin(page, log_in_as)
    original = Voucher.objects.filter(
        organization=demo_books, voucher_type__code="PV", status=VoucherStatus.POSTED
    ).latest("date")
    page.goto(f"/vouchers/{original.pk}/")
    page.get_by_role("link", name="Reverse…").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Reverse payment voucher")
    page.get_by_label("Reason").fill("Entered twice: the bill was already paid")
    shoot(
        page,
        "reverse-form",
        page.get_by_label("Reason"),
        page.get_by_role("button", name="Post the reversal"),
    )
    page.get_by_role("button", name="Post the reversal").click()
    original.refresh_from_db()
    assert original.status == VoucherStatus.REVERSED
    expect(page.get_by_role("heading", level=1)).to_contain_text("Posted")
    expect(page.get_by_text(original.number).first).to_be_visible()
    shoot(page, "reversed", page.get_by_role("heading", level=1), full_page=True)


def test_voucher_list_and_reports(page, demo_books, log_in_as):
    page.set_viewport_size(VIEWPORT)
    sign_in_admin(page, log_in_as)
    page.get_by_role("link", name="Vouchers", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vouchers")
    table = page.get_by_role("table")
    expect(table).to_contain_text("PV-")
    shoot(page, "voucher-list", table, full_page=True)

    page.get_by_label("Type").select_option(label="PV Payment")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("table")).not_to_contain_text("RV-")
    expect(page.get_by_role("table")).to_contain_text("PV-")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    number = [column.lower() for column in rows[0]].index("number")
    assert rows[1:] and all(row[number].startswith("PV-") for row in rows[1:])
    shoot(page, "voucher-list-filtered", page.get_by_role("table"), full_page=True)

    page.get_by_role("link", name="Trial balance").first.click()
    report = page.get_by_role("table")
    expect(report).to_contain_text("Total")
    expect(page.get_by_role("link", name="Download CSV")).to_be_visible()
    shoot(page, "trial-balance", report, full_page=True)

    page.get_by_role("link", name="For a period…").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("period")
    shoot(page, "period-trial-balance", page.get_by_role("heading", level=1), full_page=True)

    page.get_by_role("link", name="Account ledger").first.click()
    page.get_by_label("Account").select_option(label="1120 Main bank account")
    page.get_by_role("button", name="Show").click()
    ledger = page.get_by_role("table")
    expect(ledger).to_contain_text("Balance")
    shoot(page, "account-ledger", ledger, full_page=True)


def test_keyboard_card(page, demo_books, log_in_as):
    page.set_viewport_size(VIEWPORT)
    sign_in_admin(page, log_in_as)
    open_entry(page, "PV")
    page.get_by_label("Reference").focus()
    page.keyboard.press("F1")
    card = page.get_by_role("dialog", name="Keys")
    expect(card).to_be_visible()
    expect(card.locator("[data-key='Control+S']")).to_contain_text("Save")
    shoot(page, "key-card", card)
