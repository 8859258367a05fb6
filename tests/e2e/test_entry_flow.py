"""The entry screen's keyboard flow and what it says about the voucher, in a real browser."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, Route, expect
from waffle.testutils import override_flag

from accounting.models import Voucher, VoucherStatus
from rollout.routing import FLAG_NAME

NEW_PV = "/vouchers/PV/new/"
NEW_JV = "/vouchers/JV/new/"


@pytest.fixture(autouse=True)
def config_ui(transactional_db):
    with override_flag(FLAG_NAME, active=True):
        yield


def open_entry(page: Page, url: str = NEW_PV) -> None:
    response = page.goto(url)
    assert response.status == 200, f"{url} answered {response.status}"
    expect(page.locator("#entry")).to_have_attribute("data-entry-channel", "config")
    page.wait_for_function("() => window.htmx !== undefined")


def totals(page: Page):
    return page.get_by_role("status", name="Totals")


def box(page: Page, selector: str) -> dict[str, float]:
    found = page.locator(selector).bounding_box()
    assert found is not None, f"{selector} is not shown"
    return found


def placed(page: Page, field, *, above: bool = False) -> tuple[float, float]:
    """How far the list is from its field (horizontally, vertically), once the page settled."""
    gaps = (0.0, 0.0)
    for _ in range(20):
        at, near = box(page, "#lookup-results"), field.bounding_box()
        edge = near["y"] - at["height"] if above else near["y"] + near["height"]
        gaps = (abs(at["x"] - near["x"]), abs(at["y"] - edge))
        if max(gaps) <= 8:
            break
        page.wait_for_timeout(100)
    return gaps


@pytest.mark.browser
@pytest.mark.parametrize("width", [1366, 1920])
def test_the_search_list_opens_under_its_field(width, page, accountant, log_in):
    page.set_viewport_size({"width": width, "height": 1200})  # room below every field
    log_in(page, accountant)
    open_entry(page)
    for label in ["Paid from", "Account, line 1", "Payee"]:
        field = page.get_by_label(label, exact=True)
        field.evaluate("(input) => input.scrollIntoView({block: 'center'})")
        field.focus()
        page.keyboard.press("Control+A")
        page.keyboard.type("1" if label != "Payee" else "a")
        expect(page.get_by_role("listbox", name="Matches")).to_be_visible()
        horizontal, vertical = placed(page, field)
        assert horizontal <= 8 and vertical <= 8, (label, horizontal, vertical)
        page.keyboard.press("Escape")
        expect(page.get_by_role("listbox", name="Matches")).to_be_hidden()


@pytest.mark.browser
def test_the_search_list_opens_above_a_field_near_the_bottom_of_the_window(
    page, accountant, log_in
):
    page.set_viewport_size({"width": 1366, "height": 600})
    log_in(page, accountant)
    open_entry(page)
    field = page.get_by_label("Account, line 2")
    # Scroll so that the field sits at the bottom of the window.
    field.evaluate("(input) => window.scrollBy(0, input.getBoundingClientRect().bottom - 590)")
    field.focus()
    page.keyboard.type("5")
    expect(page.get_by_role("listbox", name="Matches")).to_be_visible()
    horizontal, vertical = placed(page, field, above=True)
    assert horizontal <= 8 and vertical <= 8, (horizontal, vertical)
    at = box(page, "#lookup-results")
    assert at["y"] >= 0 and at["x"] + at["width"] <= 1366


@pytest.mark.browser
def test_the_page_opens_in_the_date_and_a_date_is_one_tab_stop(page, accountant, log_in):
    log_in(page, accountant)
    open_entry(page)
    expect(page.get_by_label("Date", exact=True)).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Paid from")).to_be_focused()
    page.get_by_label("Cheque number").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Cheque date")).to_be_focused()
    page.keyboard.type("2026-03-15")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Narration")).to_be_focused()


@pytest.mark.browser
def test_enter_walks_a_three_line_payment_without_the_mouse(page, seeded_books, accountant, log_in):
    log_in(page, accountant)
    open_entry(page)
    keyboard = page.keyboard
    expect(page.get_by_label("Date", exact=True)).to_be_focused()
    keyboard.press("Control+A")
    keyboard.type("2026-03-15")
    keyboard.press("Enter")
    expect(page.get_by_label("Paid from")).to_be_focused()
    keyboard.press("Control+A")
    keyboard.type("1120")
    expect(page.get_by_role("option", name="1120 Main bank account")).to_be_visible()
    keyboard.press("Enter")  # takes the highlighted match and moves on
    expect(page.get_by_label("Paid from")).to_have_value("1120")
    expect(page.get_by_label("Payee")).to_be_focused()
    keyboard.press("Enter")
    expect(page.get_by_label("Reference")).to_be_focused()
    keyboard.type("MAR-BILLS")
    keyboard.press("Enter")
    expect(page.get_by_label("Cheque number")).to_be_focused()
    keyboard.press("Enter")
    expect(page.get_by_label("Cheque date")).to_be_focused()
    keyboard.press("Enter")
    expect(page.get_by_label("Narration")).to_be_focused()
    keyboard.type("March")
    keyboard.press("Shift+Enter")
    keyboard.type("bills")
    keyboard.press("Enter")
    expect(page.get_by_label("Narration")).to_have_value("March\nbills")
    for number, (account, description, amount) in enumerate(
        [
            ("5200", "Office rent", "1200"),
            ("5400", "Electricity", "85.50"),
            ("5700", "Phone", "40"),
        ],
        start=1,
    ):
        expect(page.get_by_label(f"Account, line {number}")).to_be_focused()
        keyboard.type(account)
        keyboard.press("Enter")
        expect(page.get_by_label(f"Description, line {number}")).to_be_focused()
        keyboard.type(description)
        keyboard.press("Enter")
        expect(page.get_by_label(f"Amount, line {number}")).to_be_focused()
        keyboard.type(amount)
        keyboard.press("Enter")  # the last field of the last line adds a line
    expect(page.get_by_label("Account, line 4")).to_be_focused()
    expect(page.locator("#line-rows > tr.line")).to_have_count(4)
    expect(page.locator("#id_lines-0-account-name")).to_have_text("Rent")
    expect(totals(page).locator(".balance-ok")).to_have_text("Balanced")

    keyboard.press("Control+S")
    expect(page).to_have_url(re.compile(r"/vouchers/\d+/edit/$"))
    voucher = Voucher.objects.get(organization=seeded_books.organization)
    assert (voucher.status, voucher.reference, voucher.narration) == (
        VoucherStatus.DRAFT,
        "MAR-BILLS",
        "March\nbills",
    )
    assert {(line.account.code, line.debit, line.credit) for line in voucher.lines.all()} == {
        ("5200", Decimal("1200.00"), Decimal("0")),
        ("5400", Decimal("85.50"), Decimal("0")),
        ("5700", Decimal("40.00"), Decimal("0")),
        ("1120", Decimal("0"), Decimal("1325.50")),
    }


@pytest.mark.browser
def test_tab_never_lands_on_remove_line(page, accountant, log_in):
    log_in(page, accountant)
    open_entry(page)
    page.get_by_label("Account, line 1").focus()
    stops = []
    for _ in range(8):
        page.keyboard.press("Tab")
        stops.append(page.evaluate("document.activeElement.getAttribute('aria-label')"))
    assert stops[:6] == [
        "Description, line 1",
        "Amount, line 1",
        "Account, line 2",
        "Description, line 2",
        "Amount, line 2",
        None,  # Add line
    ]
    expect(page.get_by_role("button", name="Remove line").first).to_have_attribute("tabindex", "-1")


@pytest.mark.browser
def test_a_removed_line_comes_back_with_its_values_by_undo_or_ctrl_z(page, accountant, log_in):
    log_in(page, accountant)
    open_entry(page)
    page.get_by_label("Account, line 1").fill("5200")
    page.get_by_label("Description, line 1").fill("Office rent")
    page.get_by_label("Amount, line 1").fill("1200")
    page.get_by_label("Account, line 2").fill("5400")
    page.get_by_label("Amount, line 2").fill("85.50")
    page.get_by_label("Description, line 1").focus()
    page.keyboard.press("Control+Delete")
    expect(page.locator("#line-rows > tr.line")).to_have_count(1)
    expect(page.get_by_label("Account, line 1")).to_have_value("5400")
    expect(totals(page).locator("div", has_text="Debits")).to_contain_text("85.50")
    notice = page.locator("#entry-undo")
    expect(notice).to_contain_text("Line 1 removed.")
    undo = notice.get_by_role("button", name="Undo")
    undo.focus()
    expect(undo).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#line-rows > tr.line")).to_have_count(2)
    expect(page.get_by_label("Account, line 1")).to_have_value("5200")
    expect(page.get_by_label("Description, line 1")).to_have_value("Office rent")
    expect(page.get_by_label("Amount, line 1")).to_have_value("1200")
    expect(totals(page).locator("div", has_text="Debits")).to_contain_text("1,285.50")
    expect(notice).to_be_hidden()

    page.get_by_label("Amount, line 2").focus()
    page.keyboard.press("Control+Delete")
    expect(page.locator("#line-rows > tr.line")).to_have_count(1)
    page.keyboard.press("Control+Z")  # the focus is in a field not edited since it came there
    expect(page.locator("#line-rows > tr.line")).to_have_count(2)
    expect(page.get_by_label("Amount, line 2")).to_have_value("85.50")
    expect(page.get_by_label("Account, line 2")).to_have_value("5400")


@pytest.mark.browser
@pytest.mark.parametrize(
    ("typed", "code", "name"),
    [
        ("5200", "5200", "Rent"),
        ("rent", "5200", "Rent"),
        ("5200 Rent", "5200", "Rent"),
        ("office supplies", "5500", "Office supplies"),
    ],
)
def test_a_code_or_name_typed_fast_and_left_with_tab_is_resolved(
    typed, code, name, page, accountant, log_in
):
    log_in(page, accountant)
    open_entry(page)
    account = page.get_by_label("Account, line 1")
    account.focus()
    page.keyboard.type(typed, delay=0)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Description, line 1")).to_be_focused()
    expect(account).to_have_value(code)
    expect(page.locator("#id_lines-0-account-name")).to_have_text(name)
    expect(page.locator("#line-0-errors")).to_be_empty()


@pytest.mark.browser
def test_totals_name_the_lines_in_error_and_never_say_balanced_in_green(page, accountant, log_in):
    log_in(page, accountant)
    open_entry(page)
    page.get_by_label("Account, line 1").fill("9999")
    page.get_by_label("Amount, line 1").fill("10")
    page.get_by_label("Amount, line 2").fill("ten")
    page.get_by_label("Account, line 2").fill("5200")
    page.get_by_label("Description, line 2").focus()
    expect(totals(page)).to_contain_text("2 lines have errors: 1, 2")
    expect(totals(page)).not_to_contain_text("No amounts entered yet")
    expect(totals(page).locator(".balance-ok")).to_have_count(0)


def refuse_saves(how: str):
    def answer(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
        elif how == "network":
            route.abort()
        else:
            route.fulfill(status=int(how), body="refused")

    return answer


@pytest.mark.browser
@pytest.mark.parametrize("how", ["500", "400", "network"])
def test_a_failed_save_says_not_saved_until_a_save_succeeds(
    how, page, accountant, log_in, browser_problems
):
    browser_problems.allow(
        r"status of \d+",
        r"HTTP 500",
        r"ERR_FAILED",
        r"Response Status Error",
        r"htmx:(afterRequest|sendError), \[object HTMLDivElement\]",
    )
    log_in(page, accountant)
    open_entry(page)
    unsaved = page.locator("#entry-unsaved")
    not_saved = page.get_by_role("alert").filter(has_text="Not saved")
    expect(unsaved).to_be_hidden()
    page.get_by_label("Account, line 1").fill("5200")
    page.get_by_label("Amount, line 1").fill("100")
    expect(unsaved).to_have_text("Unsaved changes")

    page.route(f"**{NEW_PV}", refuse_saves(how))
    page.keyboard.press("Control+S")
    expect(not_saved).to_be_visible()
    expect(unsaved).to_be_visible()
    page.get_by_label("Description, line 1").fill("still typing")
    expect(not_saved).to_be_visible()
    assert not Voucher.objects.exists()

    page.unroute(f"**{NEW_PV}")
    page.get_by_role("button", name="Save draft").click()
    expect(page).to_have_url(re.compile(r"/vouchers/\d+/edit/$"))
    expect(not_saved).to_be_hidden()
    expect(unsaved).to_be_hidden()
    assert Voucher.objects.get().status == VoucherStatus.DRAFT


@pytest.mark.browser
def test_a_journal_proposes_the_balancing_amount_on_the_side_that_balances(
    page, accountant, log_in
):
    log_in(page, accountant)
    open_entry(page, NEW_JV)
    page.get_by_label("Account, line 1").fill("5200")
    page.get_by_label("Debit, line 1").fill("250")
    page.get_by_label("Account, line 2").fill("1120")
    expect(totals(page).locator("div", has_text="Difference")).to_contain_text("250.00")
    page.get_by_label("Debit, line 2").focus()
    expect(page.get_by_label("Debit, line 2")).to_have_value("")
    page.keyboard.press("Tab")
    credit = page.get_by_label("Credit, line 2")
    expect(credit).to_be_focused()
    expect(credit).to_have_value("250.00")
    assert (
        page.evaluate("document.activeElement.selectionEnd - document.activeElement.selectionStart")
        == 6
    )
    page.keyboard.press("Enter")  # accepts it, and adds a line after the last one
    expect(page.get_by_label("Account, line 3")).to_be_focused()
    expect(totals(page).locator(".balance-ok")).to_have_text("Balanced")


@pytest.mark.browser
def test_the_shortcut_card_lists_every_key_and_each_does_something(page, accountant, log_in):
    log_in(page, accountant)
    open_entry(page)
    page.keyboard.press("F1")
    card = page.get_by_role("dialog", name="Keys")
    expect(card).to_be_visible()
    listed = card.locator("[data-key]").evaluate_all("(rows) => rows.map((r) => r.dataset.key)")
    page.keyboard.press("Escape")
    expect(card).to_be_hidden()

    rows = page.locator("#line-rows > tr.line")
    matches = page.get_by_role("listbox", name="Matches")
    keyboard = page.keyboard

    def enter():
        page.get_by_label("Reference").focus()
        keyboard.press("Enter")
        expect(page.get_by_label("Cheque number")).to_be_focused()

    def shift_enter():
        page.get_by_label("Narration").focus()
        keyboard.type("a")
        keyboard.press("Shift+Enter")
        keyboard.type("b")
        expect(page.get_by_label("Narration")).to_have_value("a\nb")

    def arrows(key):
        def check():
            page.get_by_label("Account, line 1").focus()
            keyboard.press("Control+A")
            keyboard.type("5")
            expect(matches.locator('[aria-selected="true"]')).to_have_count(1)
            first = matches.locator('[aria-selected="true"]').get_attribute("data-code")
            keyboard.press(key)
            expect(matches.locator('[aria-selected="true"]')).not_to_have_attribute(
                "data-code", first or ""
            )
            keyboard.press("Escape")

        return check

    def escape():
        page.get_by_label("Account, line 1").focus()
        keyboard.press("Control+A")
        keyboard.type("5")
        expect(matches).to_be_visible()
        keyboard.press("Escape")
        expect(matches).to_be_hidden()

    def alt_n():
        count = rows.count()
        keyboard.press("Alt+N")
        expect(rows).to_have_count(count + 1)

    def control_delete():
        count = rows.count()
        page.get_by_label("Description, line 1").focus()
        keyboard.press("Control+Delete")
        expect(rows).to_have_count(count - 1)

    def control_z():
        count = rows.count()
        page.get_by_label("Description, line 1").focus()
        keyboard.press("Control+Z")
        expect(rows).to_have_count(count + 1)

    def alt_down():
        page.get_by_label("Date", exact=True).focus()
        keyboard.press("Alt+ArrowDown")
        expect(page.locator("input.date-picker")).to_have_count(1)
        keyboard.press("Escape")
        page.get_by_label("Reference").focus()
        expect(page.locator("input.date-picker")).to_have_count(0)

    def card_key(key):
        def check():
            page.locator("h1").click()
            keyboard.press(key)
            expect(card).to_be_visible()
            keyboard.press("Escape")
            expect(card).to_be_hidden()

        return check

    def control_s():
        page.get_by_label("Account, line 1").fill("5200")
        page.get_by_label("Amount, line 1").fill("10")
        page.get_by_label("Reference").focus()
        keyboard.press("Control+S")
        expect(page).to_have_url(re.compile(r"/vouchers/\d+/edit/$"))
        assert Voucher.objects.get().status == VoucherStatus.DRAFT

    def alt_shift_d():
        saved = Voucher.objects.get()
        page.get_by_label("Reference").focus()
        keyboard.press("Alt+Shift+D")
        expect(page).not_to_have_url(re.compile(rf"/vouchers/{saved.pk}/edit/$"))
        expect(page).to_have_url(re.compile(r"/vouchers/\d+/edit/$"))
        expect(page.get_by_role("status").filter(has_text="is a copy of")).to_be_visible()
        # The copy is a new page: its keys work once its scripts have run.
        page.wait_for_load_state("load")
        page.wait_for_function("() => window.htmx !== undefined")
        copy = Voucher.objects.exclude(pk=saved.pk).get()
        assert copy.status == VoucherStatus.DRAFT
        assert sorted(copy.lines.values_list("account_id", "debit", "credit")) == sorted(
            saved.lines.values_list("account_id", "debit", "credit")
        )

    def control_enter():
        page.get_by_label("Reference").focus()
        with page.expect_response(lambda r: r.request.method == "POST"):
            keyboard.press("Control+Enter")
        expect(page).to_have_url(re.compile(r"/vouchers/\d+/$"), timeout=20_000)
        assert Voucher.objects.latest("pk").status == VoucherStatus.POSTED

    checks = {
        "Enter": enter,
        "Shift+Enter": shift_enter,
        "ArrowDown": arrows("ArrowDown"),
        "ArrowUp": arrows("ArrowUp"),
        "Escape": escape,
        "Alt+N": alt_n,
        "Control+Delete": control_delete,
        "Control+Z": control_z,
        "Alt+ArrowDown": alt_down,
        "?": card_key("?"),
        "F1": card_key("F1"),
        "Control+S": control_s,
        "Alt+Shift+D": alt_shift_d,  # after saving: a voucher not yet saved has no copy
        "Control+Enter": control_enter,  # last: posting leaves the screen
    }
    assert sorted(listed) == sorted(checks)
    for check in checks.values():
        check()
