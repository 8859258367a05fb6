"""Entering, saving, approving and posting vouchers through the configuration-driven screen."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal

import pytest

from accounting.models import (
    AccountingPeriod,
    EntryChannel,
    LedgerEntry,
    Party,
    Role,
    Voucher,
    VoucherLine,
    VoucherStatus,
)
from accounting.reports import trial_balance
from accounting.services.drafts import voucher_draft_create
from accounting.services.inputs import LineInput, VoucherInput
from tests.factories import Books
from tests.voucher_config.test_entry_helpers import (
    HX,
    ON,
    TYPES,
    config_for,
    edit_url,
    entry_data,
    new_url,
    seed,
)
from voucher_config.services import config_update

D = Decimal

# What each baseline type's first example posts, as net debit (+) or credit (-) per account.
EXPECTED_BALANCES = {
    "JV": {"5200": D("1500.00"), "2300": D("-1500.00")},
    "PV": {"5200": D("1200.00"), "5400": D("85.50"), "1120": D("-1285.50")},
    "RV": {"1120": D("640.00"), "1200": D("-640.00")},
    "CV": {"1110": D("300.00"), "1120": D("-300.00")},
    "SV": {"1200": D("1215.00"), "4200": D("-1033.33"), "2200": D("-181.67")},
    "PU": {"5100": D("1033.33"), "1400": D("181.67"), "2100": D("-1215.00")},
    "DN": {"2100": D("1215.00"), "5100": D("-1033.33"), "1400": D("-181.67")},
    "CN": {"4100": D("1033.33"), "2200": D("181.67"), "1200": D("-1215.00")},
}


@pytest.fixture
def accountant(books, client):
    seed(books)
    user = books.member(Role.ACCOUNTANT)
    client.force_login(user)
    return user


def balances(books) -> dict[str, Decimal]:
    report = trial_balance(organization=books.organization, as_of=date(2026, 12, 31))
    return {row.code: row.debit - row.credit for row in report.rows}


@pytest.mark.parametrize("type_code", TYPES)
def test_each_baseline_type_is_entered_saved_posted_and_in_the_trial_balance(
    type_code, books, client, accountant
):
    page = client.get(new_url(type_code))
    assert page.status_code == 200
    assert 'data-entry-channel="config"' in page.content.decode()

    saved = client.post(new_url(type_code), entry_data(books, type_code), headers=HX)
    assert saved.status_code == 200, saved.content.decode()
    voucher = Voucher.objects.get(organization=books.organization)
    assert saved["HX-Push-Url"] == edit_url(voucher.pk)
    assert voucher.status == VoucherStatus.DRAFT
    assert voucher.entry_channel == EntryChannel.CONFIG
    config = config_for(books, type_code)
    assert (voucher.config_version, voucher.config_hash) == (config.version, config.definition_hash)
    assert not LedgerEntry.objects.exists()

    posted = client.post(
        edit_url(voucher.pk), entry_data(books, type_code, action="post"), headers=HX
    )
    assert posted.status_code == 200, posted.content.decode()
    assert posted["HX-Redirect"] == f"/vouchers/{voucher.pk}/"
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.POSTED
    assert voucher.number.startswith(f"{type_code}-")
    assert balances(books) == EXPECTED_BALANCES[type_code]


def test_saving_without_javascript_redirects_to_the_draft_and_posting_to_the_voucher(
    books, client, accountant
):
    saved = client.post(new_url("PV"), entry_data(books, "PV"))
    voucher = Voucher.objects.get()
    assert saved.status_code == 302
    assert saved["Location"] == edit_url(voucher.pk)

    reopened = client.get(edit_url(voucher.pk))
    html = reopened.content.decode()
    assert 'value="1200.00"' in html and 'value="85.50"' in html
    assert 'value="1285.50"' not in html  # the bank line is made by the rule, not entered

    posted = client.post(edit_url(voucher.pk), entry_data(books, "PV", action="post"))
    assert posted.status_code == 302
    assert posted["Location"] == f"/vouchers/{voucher.pk}/"
    assert client.get(posted["Location"]).status_code == 200


def test_posting_a_new_entry_directly_saves_and_posts_in_one_step(books, client, accountant):
    response = client.post(new_url("SV"), entry_data(books, "SV", action="post"), headers=HX)
    voucher = Voucher.objects.get()
    assert response["HX-Redirect"] == f"/vouchers/{voucher.pk}/"
    assert voucher.status == VoucherStatus.POSTED
    assert voucher.ledger_entries.count() == 4


def test_reopening_a_draft_shows_values_from_data_and_line_data(books, client, accountant):
    data = entry_data(
        books,
        "PV",
        header={
            "cheque_number": "000123",
            "cheque_date": "2026-03-20",
            "party": "EXAMPLE-SUPPLIER",
        },
    )
    client.post(new_url("PV"), data)
    voucher = Voucher.objects.get()
    assert voucher.data["cheque_number"] == "000123"
    html = client.get(edit_url(voucher.pk)).content.decode()
    assert 'name="cheque_number" value="000123"' in html
    assert 'name="cheque_date" value="2026-03-20"' in html
    assert 'name="party" value="EXAMPLE-SUPPLIER"' in html
    assert 'name="lines-1-amount" value="85.50"' in html
    assert 'name="lines-2-account"' not in html  # two entered lines; the counterpart is not one


def test_saving_an_edited_draft_replaces_its_lines(books, client, accountant):
    client.post(new_url("JV"), entry_data(books, "JV"))
    voucher = Voucher.objects.get()
    lines = [
        {"account": "5300", "debit": "700.00"},
        {"account": "5400", "debit": "300.00"},
        {"account": "1120", "credit": "1000.00"},
    ]
    response = client.post(edit_url(voucher.pk), entry_data(books, "JV", lines=lines))
    assert response.status_code == 302
    assert [
        (line.account.code, line.debit, line.credit)
        for line in VoucherLine.objects.filter(voucher=voucher).order_by("order")
    ] == [
        ("5300", D("700.00"), D("0.00")),
        ("5400", D("300.00"), D("0.00")),
        ("1120", D("0.00"), D("1000.00")),
    ]


def test_invalid_data_rerenders_with_errors_at_the_field_and_saves_nothing(
    books, client, accountant
):
    data = entry_data(
        books,
        "PV",
        header={"bank_account": "5200"},  # an expense account, not bank or cash
        lines=[{"account": "9999", "amount": "10.00"}, {"account": "5200", "amount": "-4"}],
    )
    response = client.post(new_url("PV"), data, headers=HX)
    html = response.content.decode()
    assert response.status_code == 422
    assert "<html" not in html
    assert Voucher.objects.count() == 0
    assert "Account 5200 is not allowed here; choose one of the bank or cash accounts" in html
    assert 'id="id_bank_account"' in html and 'aria-invalid="true"' in html
    assert "Account: Account 9999 does not exist" in html
    assert "Amount: Ensure this value is greater than or equal to 0.01." in html
    # The user's values are kept.
    assert 'name="lines-0-account" value="9999"' in html


def test_invalid_data_without_javascript_rerenders_the_whole_page(books, client, accountant):
    response = client.post(new_url("JV"), entry_data(books, "JV", header={"date": "31/02/2026"}))
    assert response.status_code == 422
    assert "<html" in response.content.decode()
    assert "Enter a valid date." in response.content.decode()
    assert not Voucher.objects.exists()


def test_an_unbalanced_journal_is_saved_as_a_draft_but_not_posted(books, client, accountant):
    lines = [{"account": "5200", "debit": "100.00"}, {"account": "1120", "credit": "99.99"}]
    client.post(new_url("JV"), entry_data(books, "JV", lines=lines))
    voucher = Voucher.objects.get()
    assert voucher.status == VoucherStatus.DRAFT

    response = client.post(
        edit_url(voucher.pk), entry_data(books, "JV", lines=lines, action="post")
    )
    assert response.status_code == 422
    assert "The voucher is not balanced: debits 100.00 ≠ credits 99.99" in response.content.decode()


def test_failed_post_of_an_edited_draft_leaves_the_draft_exactly_as_it_was(
    books, client, accountant
):
    client.post(new_url("PV"), entry_data(books, "PV"))
    voucher = Voucher.objects.get()
    before = (
        voucher.updated_at,
        voucher.data,
        list(voucher.lines.values_list("id", "account_id", "debit", "credit", "data")),
        voucher.history.count(),
    )
    AccountingPeriod.objects.filter(fiscal_year__organization=books.organization).update(
        is_closed=True
    )
    changed = entry_data(books, "PV", action="post", lines=[{"account": "5600", "amount": "42.00"}])
    response = client.post(edit_url(voucher.pk), changed, headers=HX)

    html = response.content.decode()
    assert response.status_code == 422
    assert "is in closed period" in html
    assert 'name="lines-0-account" value="5600"' in html  # what the user typed is still there
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.DRAFT
    assert (
        voucher.updated_at,
        voucher.data,
        list(voucher.lines.values_list("id", "account_id", "debit", "credit", "data")),
        voucher.history.count(),
    ) == before
    assert not LedgerEntry.objects.exists()


def test_a_line_with_both_sides_is_refused_at_that_line(books, client, accountant):
    lines = [
        {"account": "5200", "debit": "100.00", "credit": "100.00"},
        {"account": "1120", "credit": "100.00"},
    ]
    response = client.post(new_url("JV"), entry_data(books, "JV", lines=lines))
    html = response.content.decode()
    assert response.status_code == 422
    errors = html[html.index('id="line-0-errors"') :]
    assert (
        "Enter either a debit or a credit on a line, not both." in errors[: errors.index("</td>")]
    )
    assert 'id="line-0" class="line has-errors"' in html
    assert not Voucher.objects.exists()


def test_header_field_added_through_the_admin_service_appears_and_is_stored(
    books, client, accountant
):
    config = config_for(books, "PV")
    definition = copy.deepcopy(config.definition)
    definition["header_fields"].append(
        {"key": "project_code", "label": "Project code", "type": "text", "max_length": 12}
    )
    definition["layout"]["header_sections"][0]["fields"].append("project_code")
    config_update(config=config, definition=definition, reason="add project code")

    page = client.get(new_url("PV")).content.decode()
    assert '<label for="id_project_code">Project code</label>' in page

    client.post(new_url("PV"), entry_data(books, "PV", header={"project_code": "P-77"}))
    voucher = Voucher.objects.get()
    assert voucher.data["project_code"] == "P-77"
    assert voucher.config_version == 2
    assert 'name="project_code" value="P-77"' in client.get(edit_url(voucher.pk)).content.decode()


def test_config_changed_while_the_form_was_open_is_explained_and_values_kept(
    books, client, accountant
):
    config = config_for(books, "PV")
    opened_with = config.version
    definition = copy.deepcopy(config.definition)
    definition["header_fields"].append(
        {
            "key": "project_code",
            "label": "Project code",
            "type": "text",
            "required": True,
            "default": "GENERAL",
        }
    )
    config_update(config=config, definition=definition)

    data = entry_data(books, "PV", version=opened_with, header={"reference": "INV-55"})
    response = client.post(new_url("PV"), data, headers=HX)

    html = response.content.decode()
    assert response.status_code == 409
    assert not Voucher.objects.exists()
    assert "version 1 became version 2 (added Project code)" in html
    assert "Nothing was saved" in html
    assert 'name="config_version" value="2"' in html
    assert 'name="reference" value="INV-55"' in html
    assert 'name="lines-0-amount" value="1200.00"' in html
    assert 'name="project_code" value="GENERAL"' in html

    again = client.post(new_url("PV"), entry_data(books, "PV"), headers=HX)
    assert again.status_code == 200
    assert Voucher.objects.get().config_version == 2


def test_a_draft_reopens_with_the_version_it_was_entered_with(books, client, accountant):
    client.post(new_url("PV"), entry_data(books, "PV"))
    voucher = Voucher.objects.get()
    config = config_for(books, "PV")
    definition = copy.deepcopy(config.definition)
    definition["header_fields"][0]["label"] = "Value date"
    config_update(config=config, definition=definition)

    html = client.get(edit_url(voucher.pk)).content.decode()
    assert '<label for="id_date">Date</label>' in html
    assert 'name="config_version" value="1"' in html

    # Posting it unchanged posts what was saved, under the version it was entered with.
    response = client.post(edit_url(voucher.pk), entry_data(books, "PV", action="post", version=1))
    assert response.status_code == 302
    voucher.refresh_from_db()
    assert (voucher.status, voucher.config_version) == (VoucherStatus.POSTED, 1)


def test_editing_an_old_draft_moves_it_to_the_current_version_after_explaining(
    books, client, accountant
):
    client.post(new_url("PV"), entry_data(books, "PV"))
    voucher = Voucher.objects.get()
    config = config_for(books, "PV")
    definition = copy.deepcopy(config.definition)
    definition["header_fields"][0]["label"] = "Value date"
    config_update(config=config, definition=definition)

    edited = entry_data(books, "PV", version=1, header={"reference": "changed"})
    response = client.post(edit_url(voucher.pk), edited)
    assert response.status_code == 409
    assert "changed Value date" in response.content.decode()
    voucher.refresh_from_db()
    assert voucher.reference == "PV-EX"

    response = client.post(edit_url(voucher.pk), {**edited, "config_version": "2"})
    assert response.status_code == 302
    voucher.refresh_from_db()
    assert (voucher.reference, voucher.config_version) == ("changed", 2)


# --- workflow and roles ----------------------------------------------------------------------


def require_approval(books, type_code="PV", approver="accountant", poster="accountant"):
    config = config_for(books, type_code)
    definition = copy.deepcopy(config.definition)
    definition["workflow"] = {
        "requires_approval": True,
        "approver_role": approver,
        "poster_role": poster,
    }
    return config_update(config=config, definition=definition)


def test_approval_workflow_submit_approve_post(books, client):
    seed(books)
    require_approval(books)
    clerk, accountant = books.member(Role.CLERK), books.member(Role.ACCOUNTANT)

    client.force_login(clerk)
    page = client.get(new_url("PV")).content.decode()
    assert ">Submit for approval</button>" in page and ">Post</button>" not in page
    client.post(new_url("PV"), entry_data(books, "PV", action="submit"))
    voucher = Voucher.objects.get()
    assert (voucher.status, voucher.requires_approval) == (VoucherStatus.SUBMITTED, True)
    assert voucher.submitted_by == clerk

    # The clerk may not approve, and the Approve button is not offered.
    assert ">Approve</button>" not in client.get(edit_url(voucher.pk)).content.decode()
    refused = client.post(
        edit_url(voucher.pk), entry_data(books, "PV", action="approve"), headers=HX
    )
    assert refused.status_code == 403
    assert refused["X-Entry-Refused"] == "1"
    assert "you need the Accountant role" in refused.content.decode()

    client.force_login(accountant)
    assert ">Approve</button>" in client.get(edit_url(voucher.pk)).content.decode()
    approved = client.post(edit_url(voucher.pk), entry_data(books, "PV", action="approve"))
    assert approved.status_code == 302
    voucher.refresh_from_db()
    assert (voucher.status, voucher.approved_by) == (VoucherStatus.APPROVED, accountant)

    page = client.get(edit_url(voucher.pk)).content.decode()
    assert '<fieldset class="entry-body" disabled>' in page
    assert ">Post</button>" in page and ">Save draft</button>" not in page
    posted = client.post(edit_url(voucher.pk), entry_data(books, "PV", action="post"))
    assert posted.status_code == 302
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.POSTED


def test_an_approved_voucher_is_posted_from_its_read_only_page_as_approved(books, client):
    # The read-only page's disabled fieldset sends none of the voucher's fields: the post acts on
    # what was approved, not on what the browser sent.
    seed(books)
    require_approval(books)
    clerk, accountant = books.member(Role.CLERK), books.member(Role.ACCOUNTANT)
    client.force_login(clerk)
    client.post(new_url("PV"), entry_data(books, "PV", action="submit"))
    voucher = Voucher.objects.get()
    client.force_login(accountant)
    client.post(edit_url(voucher.pk), entry_data(books, "PV", action="approve"))
    approved_lines = list(voucher.lines.values_list("account__code", "debit", "credit"))

    posted = client.post(edit_url(voucher.pk), {"action": "post"}, headers=HX)

    assert posted.status_code == 200, posted.content.decode()[:500]
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.POSTED
    assert list(voucher.lines.values_list("account__code", "debit", "credit")) == approved_lines


def test_a_voucher_needing_approval_cannot_be_posted_from_draft(books, client, accountant):
    require_approval(books)
    response = client.post(new_url("PV"), entry_data(books, "PV", action="post"))
    assert response.status_code == 422
    assert "needs approval before it can be posted" in response.content.decode()
    assert not Voucher.objects.exists()


def test_approving_a_changed_voucher_is_refused_and_changes_nothing(books, client):
    seed(books)
    require_approval(books)
    client.force_login(books.member(Role.CLERK))
    client.post(new_url("PV"), entry_data(books, "PV", action="submit"))
    voucher = Voucher.objects.get()

    client.force_login(books.member(Role.ACCOUNTANT))
    changed = entry_data(books, "PV", action="approve", header={"reference": "sneaky"})
    response = client.post(edit_url(voucher.pk), changed)
    assert response.status_code == 422
    assert "An approval covers what was submitted" in response.content.decode()
    voucher.refresh_from_db()
    assert (voucher.status, voucher.reference) == (VoucherStatus.SUBMITTED, "PV-EX")


def test_editing_a_submitted_voucher_sends_it_back_to_draft(books, client, accountant):
    require_approval(books)
    client.post(new_url("PV"), entry_data(books, "PV", action="submit"))
    voucher = Voucher.objects.get()
    client.post(edit_url(voucher.pk), entry_data(books, "PV", header={"reference": "fixed"}))
    voucher.refresh_from_db()
    assert (voucher.status, voucher.reference) == (VoucherStatus.DRAFT, "fixed")


def test_viewer_cannot_open_or_save_an_entry(books, client):
    seed(books)
    client.force_login(books.member(Role.VIEWER))
    assert client.get(new_url("PV")).status_code == 403
    assert client.post(new_url("PV"), entry_data(books, "PV")).status_code == 403
    assert client.get("/vouchers/new/").status_code == 403
    assert not Voucher.objects.exists()


def test_clerk_cannot_post_when_the_poster_role_is_accountant(books, client):
    seed(books)
    client.force_login(books.member(Role.CLERK))
    page = client.get(new_url("PV")).content.decode()
    assert ">Post</button>" not in page
    assert "Posting a Payment voucher needs the Accountant role" in page

    response = client.post(new_url("PV"), entry_data(books, "PV", action="post"), headers=HX)
    assert response.status_code == 403
    assert not Voucher.objects.exists()
    # Saving a draft is the clerk's job.
    assert client.post(new_url("PV"), entry_data(books, "PV")).status_code == 302


def test_poster_role_from_the_configuration_lets_a_clerk_post(books, client):
    seed(books)
    config = config_for(books, "PV")
    definition = copy.deepcopy(config.definition)
    definition["workflow"]["poster_role"] = "clerk"
    config_update(config=config, definition=definition)
    client.force_login(books.member(Role.CLERK))
    response = client.post(new_url("PV"), entry_data(books, "PV", action="post"))
    assert response.status_code == 302
    assert Voucher.objects.get().status == VoucherStatus.POSTED


# --- organizations ---------------------------------------------------------------------------


def test_another_organizations_voucher_cannot_be_opened_or_saved(books, other_books, client):
    seed(books)
    seed(other_books)
    theirs = voucher_draft_create(
        organization=other_books.organization,
        voucher_input=VoucherInput(
            voucher_type=other_books.types["JV"],
            date=date(2026, 3, 1),
            lines=[
                LineInput(account_id=other_books.account("5200").pk, debit=D("5")),
                LineInput(account_id=other_books.account("1120").pk, credit=D("5")),
            ],
            entry_channel=EntryChannel.CONFIG,
            config_version=1,
        ),
    )
    client.force_login(books.member(Role.ACCOUNTANT))
    assert client.get(edit_url(theirs.pk)).status_code == 404
    assert client.post(edit_url(theirs.pk), entry_data(books, "JV")).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == VoucherStatus.DRAFT


def test_another_organizations_account_codes_are_not_accepted(books, client, accountant):
    rival = Books(slug="rival")
    rival_only = rival.account("5200").__class__.objects.create(
        organization=rival.organization, code="7777", name="Rival only", account_type="expense"
    )
    data = entry_data(books, "PV", lines=[{"account": rival_only.code, "amount": "5.00"}])
    response = client.post(new_url("PV"), data)
    assert response.status_code == 422
    assert "Account 7777 does not exist" in response.content.decode()
    assert not Voucher.objects.exists()


def test_unknown_voucher_type_is_404(books, client, accountant):
    assert client.get(new_url("ZZ")).status_code == 404


def test_an_inactive_configuration_falls_back_to_the_legacy_form(books, client, accountant):
    config = config_for(books, "PV")
    config_update(config=config, definition=config.definition, is_active=False)
    response = client.get(new_url("PV"))
    assert response.status_code == 200
    assert 'data-entry-channel="legacy"' in response.content.decode()
    menu = client.get("/vouchers/new/").content.decode()
    assert "/vouchers/PV/new/" in menu and "/vouchers/JV/new/" in menu


def test_a_posted_voucher_opens_its_detail_page_not_the_form(books, client, accountant):
    client.post(new_url("JV"), entry_data(books, "JV", action="post"))
    voucher = Voucher.objects.get()
    response = client.get(edit_url(voucher.pk))
    assert response.status_code == 302
    assert response["Location"] == f"/vouchers/{voucher.pk}/"


def test_the_party_of_an_invoice_must_be_in_the_configured_role(books, client, accountant):
    data = entry_data(books, "SV", header={"party": "EXAMPLE-SUPPLIER"})
    response = client.post(new_url("SV"), data)
    assert response.status_code == 422
    assert "Example supplier is not a customer." in response.content.decode()
    assert Party.objects.filter(code="EXAMPLE-SUPPLIER").exists()
    assert ON in data.values()


def test_grouped_amounts_are_read_the_ledgers_way_and_misplaced_commas_refused_at_the_field(
    books, client, accountant
):
    bad = [{"account": "5200", "amount": "1,2,3"}, {"account": "5400", "amount": "10.00"}]
    refused = client.post(new_url("PV"), entry_data(books, "PV", lines=bad), headers=HX)

    html = refused.content.decode()
    assert refused.status_code == 422
    assert "Amount: &#x27;1,2,3&#x27; has commas in the wrong places" in html
    assert not Voucher.objects.exists()

    good = [{"account": "5200", "amount": "2,340.50"}, {"account": "5400", "amount": "2,34,050.50"}]
    client.post(new_url("PV"), entry_data(books, "PV", lines=good, action="post"))

    voucher = Voucher.objects.get()
    assert voucher.status == VoucherStatus.POSTED
    assert sorted(line.debit for line in voucher.lines.all() if line.debit) == [
        D("2340.50"),
        D("234050.50"),
    ]
