"""Trial balance and account ledger: figures, CSV downloads, the command, and query counts."""

import csv
import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounting.csv_export import spreadsheet_safe
from accounting.models import Account
from accounting.reports import AccountOfAnotherOrganization, account_ledger, trial_balance
from accounting.services.drafts import voucher_draft_create
from accounting.services.posting import voucher_reverse
from tests.factories import post, sign_in

D = Decimal


@pytest.fixture
def posted_books(books):
    """Five posted vouchers, one later one, a draft, and an account that nets to zero."""
    post(books, ("1120", "10000.00", ""), ("3100", "", "10000.00"), on=date(2026, 1, 2))
    post(
        books,
        ("5200", "1200.00", ""),
        ("1120", "", "1200.00"),
        type_code="PV",
        on=date(2026, 2, 1),
        narration="February rent",
    )
    post(
        books,
        ("1200", "2300.00", ""),
        ("4100", "", "2000.00"),
        ("2200", "", "300.00"),
        type_code="SV",
        on=date(2026, 3, 10),
    )
    post(
        books,
        ("1120", "1000.00", ""),
        ("1200", "", "1000.00"),
        type_code="RV",
        on=date(2026, 3, 20),
    )
    post(
        books, ("1130", "500.00", ""), ("1120", "", "500.00"), type_code="CV", on=date(2026, 3, 25)
    )
    post(
        books, ("1120", "500.00", ""), ("1130", "", "500.00"), type_code="CV", on=date(2026, 3, 28)
    )
    # After the as-of date used below, so left out of it.
    post(books, ("5400", "75.50", ""), ("1110", "", "75.50"), type_code="PV", on=date(2026, 4, 2))
    # A draft is not in the ledger.
    voucher_draft_create(
        organization=books.organization,
        voucher_input=books.entry(("5300", "999.00", ""), ("1120", "", "999.00")),
    )
    return books


EXPECTED_MARCH = [
    # code, debit, credit — worked out by hand from the vouchers above
    ("1120", D("9800.00"), D("0.00")),  # 10000 − 1200 + 1000 − 500 + 500
    ("1200", D("1300.00"), D("0.00")),  # 2300 − 1000
    ("2200", D("0.00"), D("300.00")),
    ("3100", D("0.00"), D("10000.00")),
    ("4100", D("0.00"), D("2000.00")),
    ("5200", D("1200.00"), D("0.00")),
]


def test_trial_balance_matches_hand_computed_figures(posted_books):
    report = trial_balance(organization=posted_books.organization, as_of=date(2026, 3, 31))

    assert [(row.code, row.debit, row.credit) for row in report.rows] == EXPECTED_MARCH
    assert report.total_debit == D("12300.00")
    assert report.total_credit == D("12300.00")
    assert report.is_balanced
    rent = next(row for row in report.rows if row.code == "5200")
    assert (rent.name, rent.account_type) == ("Rent", "expense")


def test_trial_balance_leaves_out_accounts_that_net_to_zero_and_later_entries(posted_books):
    report = trial_balance(organization=posted_books.organization, as_of=date(2026, 3, 31))
    codes = {row.code for row in report.rows}
    assert "1130" not in codes  # in and out again
    assert not codes & {"5400", "1110"}  # posted in April
    assert "5300" not in codes  # only a draft

    april = trial_balance(organization=posted_books.organization, as_of=date(2026, 4, 30))
    assert {row.code: row.debit for row in april.rows}["5400"] == D("75.50")
    assert {row.code: row.credit for row in april.rows}["1110"] == D("75.50")
    assert april.total_debit == april.total_credit == D("12375.50")


def test_trial_balance_is_empty_before_anything_is_posted(posted_books):
    report = trial_balance(organization=posted_books.organization, as_of=date(2026, 1, 1))
    assert report.rows == []
    assert report.total_debit == report.total_credit == D("0.00")


def test_reversed_voucher_and_its_reversal_cancel_out(books):
    original = post(books, ("5600", "320.00", ""), ("1120", "", "320.00"))
    voucher_reverse(reason="Entered in error", voucher=original, user=None)
    report = trial_balance(organization=books.organization, as_of=date(2026, 12, 31))
    assert report.rows == []


def test_trial_balance_is_one_query_whatever_the_number_of_accounts(
    posted_books, django_assert_num_queries
):
    with django_assert_num_queries(1):
        trial_balance(organization=posted_books.organization, as_of=date(2026, 12, 31))


def test_account_ledger_has_opening_running_and_closing_balances(posted_books):
    ledger = account_ledger(
        organization=posted_books.organization,
        account=posted_books.account("1120"),
        start=date(2026, 2, 1),
        end=date(2026, 3, 31),
    )

    assert ledger.opening_balance == D("10000.00")
    assert (ledger.opening_amount, ledger.opening_side) == (D("10000.00"), "Dr")
    assert [
        (row.date, row.voucher_number, row.debit, row.credit, row.balance) for row in ledger.rows
    ] == [
        (date(2026, 2, 1), "PV-2026-00001", D("0.00"), D("1200.00"), D("8800.00")),
        (date(2026, 3, 20), "RV-2026-00001", D("1000.00"), D("0.00"), D("9800.00")),
        (date(2026, 3, 25), "CV-2026-00001", D("0.00"), D("500.00"), D("9300.00")),
        (date(2026, 3, 28), "CV-2026-00002", D("500.00"), D("0.00"), D("9800.00")),
    ]
    assert ledger.rows[0].description == "February rent"  # the narration when the line has none
    assert (ledger.total_debit, ledger.total_credit) == (D("1500.00"), D("1700.00"))
    assert ledger.closing_balance == D("9800.00")
    assert (ledger.closing_amount, ledger.closing_side) == (D("9800.00"), "Dr")


def test_account_ledger_of_a_credit_account_shows_credit_balances(posted_books):
    ledger = account_ledger(
        organization=posted_books.organization,
        account=posted_books.account("4100"),
        start=date(2026, 1, 1),
        end=date(2026, 12, 31),
    )
    assert ledger.opening_balance == D("0.00")
    assert ledger.opening_side == ""
    assert [(row.balance_amount, row.balance_side) for row in ledger.rows] == [(D("2000.00"), "Cr")]
    assert ledger.closing_side == "Cr"


def test_account_ledger_refuses_an_account_of_another_organization(books, other_books):
    with pytest.raises(AccountOfAnotherOrganization):
        account_ledger(
            organization=books.organization,
            account=other_books.account("1120"),
            start=date(2026, 1, 1),
            end=date(2026, 12, 31),
        )


def test_account_ledger_takes_two_queries(posted_books, django_assert_num_queries):
    with django_assert_num_queries(2):
        account_ledger(
            organization=posted_books.organization,
            account=posted_books.account("1120"),
            start=date(2026, 2, 1),
            end=date(2026, 12, 31),
        )


def _csv(response):
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_trial_balance_csv_download(posted_books, client):
    sign_in(client, posted_books)
    response = client.get(reverse("trial-balance"), {"as_of": "2026-03-31", "format": "csv"})

    assert response.status_code == 200
    assert "trial-balance-acme-2026-03-31.csv" in response["Content-Disposition"]
    rows = _csv(response)
    assert rows[0] == ["code", "name", "debit", "credit"]
    assert rows[1:] == [
        ["1120", "Main bank account", "9800.00", "0.00"],
        ["1200", "Accounts receivable", "1300.00", "0.00"],
        ["2200", "Output tax payable", "0.00", "300.00"],
        ["3100", "Owner's capital", "0.00", "10000.00"],
        ["4100", "Sales", "0.00", "2000.00"],
        ["5200", "Rent", "1200.00", "0.00"],
        ["", "Total", "12300.00", "12300.00"],
    ]


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab", "'\tTab"),
        ("\rReturn", "'\rReturn"),
        ("-inf", "'-inf"),
        ("-1e3", "'-1e3"),
        ("-", "'-"),
        ("-12.50", "-12.50"),
        ("-10000", "-10000"),
        ("12.50", "12.50"),
        ("Rent", "Rent"),
        ("", ""),
    ],
)
def test_a_formula_is_neutralised_and_a_number_left_as_it_is(cell, written):
    assert spreadsheet_safe(cell) == written


@pytest.fixture
def formula_books(books):
    """An account named like a formula, and a credit balance on another, in the ledger."""
    account = books.account("5500")
    account.name = "=HYPERLINK(1)"
    account.save()
    post(
        books, ("5500", "10.00", ""), ("1110", "", "12.50"), ("5200", "2.50", ""), narration="@cmd"
    )
    return books


def test_a_formula_in_an_account_name_is_neutralised_in_every_export(formula_books, client):
    sign_in(client, formula_books)
    as_of = {"as_of": "2026-12-31"}
    web = _csv(client.get(reverse("trial-balance"), {**as_of, "format": "csv"}))
    out = io.StringIO()
    call_command("trial_balance", "--org", "acme", "--as-of", "2026-12-31", stdout=out)
    command = list(csv.reader(io.StringIO(out.getvalue())))
    ledger = _csv(
        client.get(
            reverse("account-ledger"),
            {"account": formula_books.account("1110").pk, "format": "csv"},
        )
    )

    assert web == command
    assert ["5500", "'=HYPERLINK(1)", "10.00", "0.00"] in web
    assert ["1110", "Petty cash", "0.00", "12.50"] in web
    assert ledger[2][1:] == ["JV-2026-00001", "'@cmd", "0.00", "12.50", "-12.50"]
    assert ledger[-2][3:] == ["0.00", "12.50", ""]
    assert ledger[-1][3:] == ["", "", "-12.50"]


def test_an_account_code_with_a_newline_still_downloads_its_ledger(books, client):
    account = books.account("1110")
    Account.objects.filter(pk=account.pk).update(code="11\n10=")  # a row saved before codes
    post(books, ("5200", "5.00", ""), ("1110", "", "5.00"))  # were checked
    sign_in(client, books)

    params = {"account": account.pk, "start": "2026-01-01", "end": "2026-12-31", "format": "csv"}
    response = client.get(reverse("account-ledger"), params)

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="ledger-acme-11-10-2026-01-01-2026-12-31.csv"'
    )
    assert _csv(response)[2][5] == "-5.00"


def test_trial_balance_page_shows_rows_and_totals(posted_books, client):
    sign_in(client, posted_books)
    response = client.get(reverse("trial-balance"), {"as_of": "2026-03-31"})

    assert response.status_code == 200
    report = response.context["report"]
    assert [(row.code, row.debit, row.credit) for row in report.rows] == EXPECTED_MARCH
    html = response.content.decode()
    assert "12,300.00" in html  # the totals row
    assert "Owner&#x27;s capital" in html
    assert "?as_of=2026-03-31&amp;format=csv" in html
    assert "out of balance" not in html


def test_trial_balance_page_defaults_to_today_and_reports_a_bad_date(books, client):
    sign_in(client, books)
    response = client.get(reverse("trial-balance"), {"as_of": "31/02/2026"})
    assert response.status_code == 200
    assert response.context["form"].errors["as_of"]
    assert response.context["report"].as_of is not None

    response = client.get(reverse("trial-balance"))
    assert response.status_code == 200
    assert response.context["report"].rows == []


def test_account_ledger_page_and_csv(posted_books, client):
    sign_in(client, posted_books)
    params = {
        "account": posted_books.account("1120").pk,
        "start": "2026-02-01",
        "end": "2026-03-31",
    }
    response = client.get(reverse("account-ledger"), params)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Opening balance" in html
    assert "10,000.00 Dr" in html
    assert "8,800.00 Dr" in html
    assert "PV-2026-00001" in html

    rows = _csv(client.get(reverse("account-ledger"), {**params, "format": "csv"}))
    assert rows[0] == ["date", "voucher", "description", "debit", "credit", "balance"]
    assert rows[1] == ["2026-02-01", "", "Opening balance", "", "", "10000.00"]
    assert rows[2] == ["2026-02-01", "PV-2026-00001", "February rent", "0.00", "1200.00", "8800.00"]
    assert rows[-2] == ["", "", "Total for the period", "1500.00", "1700.00", ""]
    assert rows[-1] == ["2026-03-31", "", "Closing balance", "", "", "9800.00"]
    assert len(rows) == 8


def test_account_ledger_page_defaults_the_period_and_checks_its_order(posted_books, client):
    sign_in(client, posted_books)
    response = client.get(reverse("account-ledger"))
    assert response.status_code == 200
    assert response.context["ledger"] is None
    assert "Choose an account" in response.content.decode()

    account = posted_books.account("1120").pk
    response = client.get(reverse("account-ledger"), {"account": account})
    ledger = response.context["ledger"]
    assert ledger is not None
    assert ledger.start <= ledger.end

    response = client.get(
        reverse("account-ledger"), {"account": account, "start": "2026-05-01", "end": "2026-04-01"}
    )
    assert response.context["ledger"] is None
    assert response.context["form"].errors["end"]


def test_account_ledger_offers_only_posting_accounts(books, client):
    sign_in(client, books)
    response = client.get(reverse("account-ledger"))
    choices = {account.code for account in response.context["form"].fields["account"].queryset}
    assert "1120" in choices
    assert "1100" not in choices  # a group
    assert "1000" not in choices


def test_trial_balance_command_csv(posted_books):
    out = io.StringIO()
    call_command("trial_balance", "--org", "acme", "--as-of", "2026-03-31", stdout=out)

    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == ["code", "name", "debit", "credit"]
    assert [(code, D(dr), D(cr)) for code, _name, dr, cr in rows[1:-1]] == EXPECTED_MARCH
    assert rows[-1] == ["", "Total", "12300.00", "12300.00"]


def test_trial_balance_command_json(posted_books):
    out = io.StringIO()
    call_command(
        "trial_balance", "--org", "acme", "--as-of", "2026-03-31", "--format", "json", stdout=out
    )

    payload = json.loads(out.getvalue())
    assert payload["organization"] == "acme"
    assert payload["as_of"] == "2026-03-31"
    assert [(r["code"], D(r["debit"]), D(r["credit"])) for r in payload["rows"]] == EXPECTED_MARCH
    assert payload["rows"][0] == {
        "code": "1120",
        "name": "Main bank account",
        "account_type": "asset",
        "debit": "9800.00",
        "credit": "0.00",
    }
    assert payload["totals"] == {"debit": "12300.00", "credit": "12300.00"}


def test_trial_balance_command_defaults_to_today(books):
    out = io.StringIO()
    call_command("trial_balance", "--org", "acme", stdout=out)
    assert out.getvalue() == "code,name,debit,credit\n,Total,0.00,0.00\n"


def test_trial_balance_command_refuses_unknown_organization_and_bad_date(books):
    with pytest.raises(CommandError, match=r"No organization 'nope'\. Known slugs: acme"):
        call_command("trial_balance", "--org", "nope", "--as-of", "2026-03-31")
    with pytest.raises(CommandError, match="not a date"):
        call_command("trial_balance", "--org", "acme", "--as-of", "2026-13-45")


def _many_accounts_posted(books, count):
    codes = ["5100", "5200", "5300", "5400", "5500", "5600", "5700", "5800", "5900", "5910"]
    for number in range(count):
        post(
            books,
            (codes[number % len(codes)], f"{number + 1}.00", ""),
            ("1120", "", f"{number + 1}.00"),
        )


def test_trial_balance_page_queries_do_not_grow_with_rows(
    books, client, django_assert_max_num_queries
):
    sign_in(client, books)
    _many_accounts_posted(books, 2)
    with django_assert_max_num_queries(8):
        small = client.get(reverse("trial-balance"), {"as_of": "2026-12-31"})
    _many_accounts_posted(books, 30)
    with django_assert_max_num_queries(8):
        large = client.get(reverse("trial-balance"), {"as_of": "2026-12-31"})
    assert len(small.context["report"].rows) == 3
    assert len(large.context["report"].rows) == 11


def test_account_ledger_page_queries_do_not_grow_with_rows(
    books, client, django_assert_max_num_queries
):
    sign_in(client, books)
    _many_accounts_posted(books, 40)
    with django_assert_max_num_queries(10):
        response = client.get(
            reverse("account-ledger"), {"account": books.account("1120").pk, "start": "2026-01-01"}
        )
    assert len(response.context["ledger"].rows) == 40
