"""The legacy entry pages: each voucher type entered, saved and posted through plain forms."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounting.entry_pages import SCREEN_FIELD, screen_mark
from accounting.models import (
    EntryChannel,
    LedgerEntry,
    Role,
    Voucher,
    VoucherLine,
    VoucherStatus,
)
from accounting.services.drafts import voucher_draft_create
from accounting.services.organizations import period_set_closed
from legacy_entry.screen_forms import LegacyForms
from legacy_entry.vouchers import legacy_initial
from tests import factories

ON = "2026-03-15"
D = Decimal


def sign_in(client, books, role=Role.ACCOUNTANT):
    return factories.sign_in(client, books, role)


def marked(data):
    """Form data as the legacy form posts it: with the signed mark of the screen that drew it."""
    return {**data, SCREEN_FIELD: screen_mark(EntryChannel.LEGACY)}


def form_data(type_code, header, lines, action):
    data = LegacyForms.raw_data(type_code=type_code, header={"date": ON, **header}, lines=lines)
    return marked({**data, "action": action})


def new_url(type_code):
    return reverse("legacy-entry-new", args=[type_code])


def edit_url(voucher):
    return reverse("legacy-entry-edit", args=[voucher.pk])


# The legacy form posts to the routed entry URLs, whatever address drew it.
def post_new_url(type_code):
    return reverse("entry-new", args=[type_code])


def post_edit_url(voucher):
    return reverse("entry-edit", args=[voucher.pk])


def ledger_of(voucher):
    return [
        (entry.account.code, entry.debit, entry.credit, entry.description)
        for entry in voucher.ledger_entries.select_related("account").order_by("line_order")
    ]


def stored_lines(voucher):
    return list(
        VoucherLine.objects.filter(voucher=voucher)
        .order_by("order")
        .values_list("account__code", "debit", "credit", "description", "party_id", "data")
    )


# What each type is entered with, and the ledger lines it must post (worked out by hand).
CASES = {
    "JV": (
        {"reference": "ACC-01", "narration": "Rent accrual"},
        [
            {"account": "5200", "debit": "1500.00", "description": "March rent"},
            {"account": "2300", "credit": "1500.00"},
        ],
        [("5200", D("1500.00"), D("0.00"), "March rent"), ("2300", D("0.00"), D("1500.00"), "")],
    ),
    "PV": (
        {"bank_account": "1120", "party": "S001", "narration": "March bills"},
        [
            {"account": "5200", "amount": "1200.00", "description": "Office rent"},
            {"account": "5400", "amount": "85.50", "description": "Electricity"},
        ],
        [
            ("5200", D("1200.00"), D("0.00"), "Office rent"),
            ("5400", D("85.50"), D("0.00"), "Electricity"),
            ("1120", D("0.00"), D("1285.50"), "March bills"),
        ],
    ),
    "RV": (
        {"bank_account": "1130", "party": "C001"},
        [
            {"account": "1200", "amount": "640.00", "description": "Invoice settled"},
            {"account": "4300", "amount": "12.34", "description": "Interest"},
        ],
        [
            ("1200", D("0.00"), D("640.00"), "Invoice settled"),
            ("4300", D("0.00"), D("12.34"), "Interest"),
            ("1130", D("652.34"), D("0.00"), ""),
        ],
    ),
    "CV": (
        {"bank_account": "1120", "narration": "Float"},
        [{"account": "1110", "amount": "200.00", "description": "Petty cash top-up"}],
        [
            ("1110", D("200.00"), D("0.00"), "Petty cash top-up"),
            ("1120", D("0.00"), D("200.00"), "Float"),
        ],
    ),
    "SV": (
        {"party": "C001"},
        [
            {"description": "Consulting", "account": "4200", "amount": "1000.00", "tax_rate": "18"},
            # 33.33 × 5% = 1.6665 → 1.67 and 0.10 × 5% = 0.005 → 0.01, each half-up.
            {"description": "Materials", "account": "4100", "amount": "33.33", "tax_rate": "5"},
            {"description": "Postage", "account": "4100", "amount": "0.10", "tax_rate": "5"},
        ],
        [
            ("1200", D("1215.11"), D("0.00"), "Northwind Traders"),
            ("4200", D("0.00"), D("1000.00"), "Consulting"),
            ("4100", D("0.00"), D("33.33"), "Materials"),
            ("4100", D("0.00"), D("0.10"), "Postage"),
            ("2200", D("0.00"), D("181.68"), "Tax"),
        ],
    ),
    "PU": (
        {"party": "S001", "supplier_invoice": "INV-7731", "narration": "March stock"},
        [
            {"description": "Stock", "account": "5100", "amount": "1000.00", "tax_rate": "18"},
            {"description": "Printer", "account": "1500", "amount": "250.00", "tax_rate": "5"},
        ],
        [
            ("2100", D("0.00"), D("1442.50"), "March stock"),
            ("5100", D("1000.00"), D("0.00"), "Stock"),
            ("1500", D("250.00"), D("0.00"), "Printer"),
            ("1400", D("192.50"), D("0.00"), "Tax"),
        ],
    ),
    "DN": (
        {"party": "S001", "reason": "price"},
        [{"description": "Overcharge", "account": "5100", "amount": "100.00", "tax_rate": "18"}],
        [
            ("2100", D("118.00"), D("0.00"), "Acme Supplies"),
            ("5100", D("0.00"), D("100.00"), "Overcharge"),
            ("1400", D("0.00"), D("18.00"), "Tax"),
        ],
    ),
    "CN": (
        {"party": "C001", "original_invoice": "SV-2026-00001"},
        [{"description": "Returned", "account": "4100", "amount": "50.00", "tax_rate": "5"}],
        [
            ("1200", D("0.00"), D("52.50"), "Northwind Traders"),
            ("4100", D("50.00"), D("0.00"), "Returned"),
            ("2200", D("2.50"), D("0.00"), "Tax"),
        ],
    ),
}


@pytest.mark.parametrize("type_code", list(CASES))
def test_entry_page_is_a_plain_legacy_form(client, books, parties, type_code):
    sign_in(client, books, Role.CLERK)

    response = client.get(new_url(type_code))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-entry-channel="legacy"' in html
    page = html[html.index('data-entry-channel="legacy"') :]
    assert not re.search(r"\shx-(get|post|target|swap|trigger)=", page)
    assert '<label for="id_date"' in page
    assert 'aria-label="Account, line 1"' in page and 'aria-label="Account, line 2"' in page
    assert 'name="lines-TOTAL_FORMS" value="2"' in page
    for action in ["add_line", "save", "submit"]:
        assert f'name="action" value="{action}"' in page
    assert 'value="post"' not in page  # posting is an accountant's
    # Every visible input of the header has a label pointing at it.
    for field_id in re.findall(r'<(?:input|select|textarea)[^>]*\sid="(id_[a-z_]+)"', page):
        assert f'<label for="{field_id}"' in page, field_id


@pytest.mark.parametrize("type_code", list(CASES))
def test_each_type_saves_a_draft_then_posts_the_expected_ledger_lines(
    client, books, parties, type_code
):
    user = sign_in(client, books)
    header, lines, expected = CASES[type_code]

    saved = client.post(post_new_url(type_code), form_data(type_code, header, lines, "save"))

    draft = Voucher.objects.get()
    assert saved.status_code == 302
    assert saved["Location"] == reverse("voucher-detail", args=[draft.pk])
    assert (draft.status, draft.entry_channel, draft.created_by) == (
        VoucherStatus.DRAFT,
        EntryChannel.LEGACY,
        user,
    )
    assert not LedgerEntry.objects.exists()

    editing = client.get(edit_url(draft))
    assert editing.status_code == 200
    assert 'data-entry-channel="legacy"' in editing.content.decode()

    posted = client.post(post_edit_url(draft), form_data(type_code, header, lines, "post"))

    assert posted.status_code == 302
    assert posted["Location"] == reverse("voucher-detail", args=[draft.pk])
    draft.refresh_from_db()
    assert draft.status == VoucherStatus.POSTED
    assert draft.number == f"{type_code}-2026-00001"
    assert draft.entry_channel == EntryChannel.LEGACY
    assert ledger_of(draft) == expected


def test_sales_invoice_posts_18_and_5_percent_tax_in_one_step(client, books, parties):
    sign_in(client, books)
    header, lines, expected = CASES["SV"]

    response = client.post(post_new_url("sv"), form_data("SV", header, lines, "post"))

    voucher = Voucher.objects.get()
    assert response.status_code == 302
    assert voucher.status == VoucherStatus.POSTED
    assert ledger_of(voucher) == expected
    assert sum(e.debit for e in voucher.ledger_entries.all()) == D("1215.11")
    assert sum(e.credit for e in voucher.ledger_entries.all()) == D("1215.11")
    assert voucher.ledger_entries.get(line_order=1).party == parties["customer"]
    assert voucher.data == {"due_date": None, "customer_po": "", "tax_account": "2200"}


def test_invalid_input_rerenders_with_the_errors_at_their_fields_and_saves_nothing(
    client, books, parties
):
    sign_in(client, books)
    data = form_data(
        "PV",
        {"bank_account": "5200"},
        [{"account": "5400", "amount": "abc"}, {"account": "5200", "amount": "10.00"}],
        "post",
    )

    response = client.post(post_new_url("PV"), data)

    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-entry-channel="legacy"' in html
    bank_error = re.search(
        r'<ul class="errorlist" id="id_bank_account_error">(.*?)</ul>', html, re.S
    )
    assert bank_error and "Account 5200 cannot be used here" in bank_error.group(1)
    assert re.search(r'<select name="bank_account"[^>]*aria-invalid="true"', html)
    amount_error = re.search(
        r'<ul class="errorlist" id="id_lines-0-amount_error">(.*?)</ul>', html, re.S
    )
    assert amount_error and "&#x27;abc&#x27; is not a number" in amount_error.group(1)
    assert 'aria-describedby="id_lines-0-amount_error"' in html
    assert 'value="abc"' in html  # what was typed is kept
    assert not Voucher.objects.exists()


def test_grouped_amounts_are_read_the_ledgers_way_and_misplaced_commas_refused_at_the_field(
    client, books, parties
):
    sign_in(client, books)
    bad = [{"account": "5400", "amount": "1,2,3"}, {"account": "5200", "amount": "10.00"}]

    refused = client.post(post_new_url("PV"), form_data("PV", {}, bad, "post"))

    assert refused.status_code == 422
    amount_error = re.search(
        r'<ul class="errorlist" id="id_lines-0-amount_error">(.*?)</ul>',
        refused.content.decode(),
        re.S,
    )
    assert amount_error and "&#x27;1,2,3&#x27; has commas in the wrong places" in amount_error[1]
    assert not Voucher.objects.exists()

    good = [{"account": "5400", "amount": "2,340.50"}, {"account": "5200", "amount": "1,00,000"}]
    posted = client.post(post_new_url("PV"), form_data("PV", {}, good, "post"))

    assert posted.status_code == 302
    voucher = Voucher.objects.get()
    assert voucher.status == VoucherStatus.POSTED
    assert [(e.debit, e.credit) for e in voucher.ledger_entries.order_by("line_order")] == [
        (D("2340.50"), D("0.00")),
        (D("100000.00"), D("0.00")),
        (D("0.00"), D("102340.50")),
    ]


def test_failed_post_leaves_the_draft_as_it_was(client, books, parties):
    sign_in(client, books)
    header, lines, _ = CASES["JV"]
    client.post(post_new_url("JV"), form_data("JV", header, lines, "save"))
    draft = Voucher.objects.get()
    before = (stored_lines(draft), draft.date, draft.narration, draft.updated_at)
    period_set_closed(period=books.fiscal_year.periods.get(number=4), closed=True)

    changed = [{"account": "5300", "debit": "99.00"}, {"account": "2300", "credit": "99.00"}]
    response = client.post(
        post_edit_url(draft),
        form_data("JV", {"date": "2026-04-10", "narration": "Changed"}, changed, "post"),
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert "Nothing was posted" in html
    date_error = re.search(r'<ul class="errorlist" id="id_date_error">(.*?)</ul>', html, re.S)
    assert date_error and "is in closed period" in date_error.group(1)
    draft.refresh_from_db()
    assert draft.status == VoucherStatus.DRAFT
    assert (stored_lines(draft), draft.date, draft.narration, draft.updated_at) == before
    assert not LedgerEntry.objects.exists()


def test_unbalanced_journal_saves_as_a_draft_but_does_not_post(client, books):
    sign_in(client, books)
    lines = [{"account": "5200", "debit": "100.00"}, {"account": "2300", "credit": "99.99"}]

    refused = client.post(post_new_url("JV"), form_data("JV", {}, lines, "post"))

    assert refused.status_code == 422
    assert "is not balanced: debits 100.00 ≠ credits 99.99" in refused.content.decode()
    assert not Voucher.objects.exists()

    saved = client.post(post_new_url("JV"), form_data("JV", {}, lines, "save"))
    assert saved.status_code == 302
    assert Voucher.objects.get().status == VoucherStatus.DRAFT


def test_another_organizations_draft_is_not_found(client, books, other_books):
    sign_in(client, books)
    theirs = voucher_draft_create(
        organization=other_books.organization,
        voucher_input=other_books.entry(("5200", "10", ""), ("2300", "", "10")),
    )
    header, lines, _ = CASES["JV"]

    assert client.get(edit_url(theirs)).status_code == 404
    assert (
        client.post(post_edit_url(theirs), form_data("JV", header, lines, "post")).status_code
        == 404
    )
    theirs.refresh_from_db()
    assert theirs.status == VoucherStatus.DRAFT


def test_a_viewer_may_not_open_or_save_an_entry(client, books):
    sign_in(client, books, Role.VIEWER)
    draft = voucher_draft_create(
        organization=books.organization,
        voucher_input=books.entry(("5200", "10", ""), ("2300", "", "10")),
    )
    header, lines, _ = CASES["JV"]

    assert client.get(new_url("JV")).status_code == 403
    assert (
        client.post(post_new_url("JV"), form_data("JV", header, lines, "save")).status_code == 403
    )
    assert client.get(edit_url(draft)).status_code == 403
    assert Voucher.objects.count() == 1


def test_a_clerk_saves_and_submits_but_may_not_post_or_approve(client, books):
    sign_in(client, books, Role.CLERK)
    header, lines, _ = CASES["JV"]

    page = client.get(new_url("JV")).content.decode()
    assert 'value="post"' not in page
    refused = client.post(post_new_url("JV"), form_data("JV", header, lines, "post"))

    assert refused.status_code == 403
    assert "To post a journal voucher you need the Accountant role" in refused.content.decode()
    assert not Voucher.objects.exists()

    submitted = client.post(post_new_url("JV"), form_data("JV", header, lines, "submit"))
    voucher = Voucher.objects.get()
    assert submitted.status_code == 302
    assert voucher.status == VoucherStatus.SUBMITTED
    assert client.post(post_edit_url(voucher), marked({"action": "approve"})).status_code == 403


def test_submitted_voucher_is_approved_then_posted_as_it_stands(client, books, parties):
    header, lines, expected = CASES["PV"]
    sign_in(client, books, Role.CLERK)
    client.post(post_new_url("PV"), form_data("PV", header, lines, "submit"))
    voucher = Voucher.objects.get()
    client.logout()
    sign_in(client, books, Role.ACCOUNTANT)

    page = client.get(edit_url(voucher)).content.decode()
    assert 'name="action" value="approve"' in page
    assert 'name="action" value="post"' not in page
    approved = client.post(post_edit_url(voucher), form_data("PV", header, lines, "approve"))

    assert approved.status_code == 302
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.APPROVED
    page = client.get(edit_url(voucher)).content.decode()
    assert 'name="action" value="save"' not in page
    assert re.search(r'<select name="bank_account"[^>]*disabled', page)

    posted = client.post(post_edit_url(voucher), marked({"action": "post"}))

    assert posted.status_code == 302
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.POSTED
    assert ledger_of(voucher) == expected


def test_add_line_shows_one_more_line_keeps_the_values_and_saves_nothing(client, books):
    sign_in(client, books)
    lines = [{"account": "5200", "debit": "12.50", "description": "Taxi"}, {}]

    response = client.post(
        post_new_url("JV"), form_data("JV", {"narration": "Travel"}, lines, "add_line")
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="lines-TOTAL_FORMS" value="3"' in html
    assert 'aria-label="Account, line 3"' in html
    assert 'value="Taxi"' in html and 'value="12.50"' in html
    assert '<option value="5200" selected>' in html
    assert "Travel</textarea>" in html
    assert "errorlist" not in html
    assert not Voucher.objects.exists()


def test_config_entered_draft_opens_in_the_legacy_form_and_posts_the_same_lines(
    client, books, parties
):
    from voucher_config.posting_rules import EnteredVoucher, voucher_input

    definition = json.loads(
        (Path(settings.BASE_DIR) / "voucher_config" / "baseline" / "pv.json").read_text()
    )
    accounts = books.accounts
    entry = EnteredVoucher(
        header={
            "date": date(2026, 3, 15),
            "bank_account": accounts["1130"],
            "party": parties["supplier"],
            "reference": "CFG-1",
            "cheque_number": "",
            "cheque_date": None,
            "narration": "Entered on the new screen",
        },
        lines=[
            {"account": accounts["5200"], "description": "Rent", "amount": D("100.00")},
            {"account": accounts["5400"], "description": "Power", "amount": D("50.50")},
        ],
    )
    made, _ = voucher_input(
        definition=definition,
        entered=entry,
        voucher_type=books.types["PV"],
        version=1,
        config_hash="abc",
    )
    draft = voucher_draft_create(organization=books.organization, voucher_input=made)
    assert draft.entry_channel == EntryChannel.CONFIG
    assert VoucherLine.objects.get(voucher=draft, order=3).data == {"generated": "counterpart"}
    config_lines = stored_lines(draft)
    sign_in(client, books)

    page = client.get(edit_url(draft)).content.decode()

    assert 'data-entry-channel="legacy"' in page
    bank = re.search(r'<select name="bank_account".*?</select>', page, re.S)
    assert bank and '<option value="1130" selected>' in bank.group(0)
    assert 'value="Rent"' in page and 'value="Power"' in page
    assert 'value="100.00"' in page and 'value="50.50"' in page
    assert 'value="150.50"' not in page  # the generated bank line is not an entered line
    assert 'name="lines-TOTAL_FORMS" value="3"' in page  # two lines and one blank

    header, lines = legacy_initial(voucher=draft)
    data = {
        **LegacyForms.raw_data(type_code="PV", header={**header, "date": ON}, lines=lines),
        "action": "post",
    }
    posted = client.post(post_edit_url(draft), marked(data))

    assert posted.status_code == 302
    draft.refresh_from_db()
    assert draft.status == VoucherStatus.POSTED
    # The entry was what the configuration screen stored: the post acted on it unchanged.
    assert draft.entry_channel == EntryChannel.CONFIG
    assert stored_lines(draft) == config_lines
    assert ledger_of(draft) == [
        ("5200", D("100.00"), D("0.00"), "Rent"),
        ("5400", D("50.50"), D("0.00"), "Power"),
        ("1130", D("0.00"), D("150.50"), "Entered on the new screen"),
    ]


def test_bank_account_falls_back_to_the_vouchers_data(client, books):
    made = books.entry(("5200", "10.00", ""), type_code="PV")
    made.data = {"bank_account": "1110"}
    draft = voucher_draft_create(organization=books.organization, voucher_input=made)

    header, lines = legacy_initial(voucher=draft)

    assert header["bank_account"] == "1110"
    assert lines == [{"account": "5200", "description": "", "amount": "10.00"}]


def test_posted_voucher_cannot_be_edited(client, books):
    sign_in(client, books)
    header, lines, _ = CASES["JV"]
    client.post(post_new_url("JV"), form_data("JV", header, lines, "post"))
    voucher = Voucher.objects.get()

    response = client.get(edit_url(voucher))

    assert response.status_code == 302
    assert response["Location"] == reverse("voucher-detail", args=[voucher.pk])
    refused = client.post(post_edit_url(voucher), form_data("JV", header, lines, "save"))
    assert refused.status_code == 302
    assert voucher.ledger_entries.count() == 2


def test_unknown_or_inactive_voucher_type_is_not_found(client, books):
    sign_in(client, books)
    books.types["CN"].is_active = False
    books.types["CN"].save()

    assert client.get(new_url("XX")).status_code == 404
    assert client.get(new_url("CN")).status_code == 404


def test_the_page_tells_whoever_serves_it_what_it_did(rf, books, parties):
    from django.contrib.messages.storage.fallback import FallbackStorage

    from legacy_entry.views import legacy_entry_page

    user = books.member(Role.ACCOUNTANT)
    header, lines, _ = CASES["PV"]

    def call(data):
        heard = []
        request = rf.post("/vouchers/PV/new/", data)
        request.user = user
        request.organization = books.organization
        request.membership = user.memberships.get()
        request.session = {}
        request._messages = FallbackStorage(request)
        response = legacy_entry_page(
            request, voucher_type=books.types["PV"], voucher=None, on_outcome=heard.append
        )
        return heard, response

    heard, response = call(form_data("PV", header, lines, "post"))
    assert response.status_code == 302
    assert [(o.created, o.posted, o.failed_reason) for o in heard] == [(True, True, "")]

    period_set_closed(period=books.fiscal_year.periods.get(number=3), closed=True)
    heard, response = call(form_data("PV", header, lines, "post"))
    assert response.status_code == 422
    assert [(o.created, o.posted, o.failed_reason) for o in heard] == [
        (False, False, "closed_period")
    ]


def test_page_and_posting_cost_the_same_queries_for_many_lines(
    client, books, django_assert_max_num_queries
):
    sign_in(client, books)
    client.get(new_url("SV"))  # the first page of the day also marks the user active
    # Session, user, membership, voucher type, organization; the accounts and parties once per
    # choice list (8); then the rollout's per-minute form-load row (a savepoint, an UPDATE, an
    # INSERT when the minute is new).
    with django_assert_max_num_queries(14):
        assert client.get(new_url("SV")).status_code == 200

    counts = []
    for many in (2, 2, 60):  # the first post of a minute writes new metric rows: not counted
        lines = [{"account": "5200", "debit": "1.00"} for _ in range(many)]
        lines.append({"account": "2300", "credit": f"{many}.00"})
        with CaptureQueriesContext(connection) as queries:
            response = client.post(post_new_url("JV"), form_data("JV", {}, lines, "post"))
        assert response.status_code == 302
        counts.append(len(queries))
    assert counts[1] == counts[2]
    assert LedgerEntry.objects.count() == 3 + 3 + 61
