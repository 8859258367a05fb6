"""The voucher list as CSV with its filters, the trial balance's totals row, the trial balance
for a period with group subtotals, and the account ledger's closing balance on its own row."""

import csv
import io
from datetime import date
from decimal import Decimal as D

from django.urls import reverse

from accounting.reports import period_trial_balance
from tests.accounting.test_reports import posted_books  # noqa: F401  (the fixture)
from tests.factories import post, sign_in


def _csv(response):
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_voucher_list_downloads_as_csv_with_its_filters(posted_books, client):  # noqa: F811
    sign_in(client, posted_books)

    rows = _csv(
        client.get(
            reverse("voucher-list"),
            {
                "status": "posted",
                "date_from": "2026-03-01",
                "date_to": "2026-03-31",
                "format": "csv",
            },
        )
    )

    assert rows[0] == [
        "date",
        "number",
        "type",
        "status",
        "reference",
        "party",
        "narration",
        "debit",
        "credit",
    ]
    assert [row[1] for row in rows[1:]] == [
        "CV-2026-00002",
        "CV-2026-00001",
        "RV-2026-00001",
        "SV-2026-00001",
    ]
    assert rows[-1][7:] == ["2300.00", "2300.00"]


def test_the_voucher_list_csv_takes_the_same_queries_for_many_vouchers(
    books, client, django_assert_max_num_queries
):
    sign_in(client, books)
    for _ in range(30):
        post(books, ("5200", "1.00", ""), ("1120", "", "1.00"))
    with django_assert_max_num_queries(6):
        rows = _csv(client.get(reverse("voucher-list"), {"format": "csv"}))
    assert len(rows) == 31


def test_the_voucher_list_offers_the_download_with_the_filters_applied(posted_books, client):  # noqa: F811
    sign_in(client, posted_books)
    html = client.get(reverse("voucher-list"), {"status": "posted"}).content.decode()
    assert "?status=posted&amp;format=csv" in html


def test_the_trial_balance_csv_ends_with_a_totals_row(posted_books, client):  # noqa: F811
    sign_in(client, posted_books)
    rows = _csv(client.get(reverse("trial-balance"), {"as_of": "2026-03-31", "format": "csv"}))
    assert rows[-1] == ["", "Total", "12300.00", "12300.00"]


def test_the_period_trial_balance_has_opening_movements_closing_and_group_subtotals(
    posted_books,  # noqa: F811
    django_assert_num_queries,
):
    with django_assert_num_queries(1):
        report = period_trial_balance(
            organization=posted_books.organization, start=date(2026, 2, 1), end=date(2026, 3, 31)
        )

    cash = next(group for group in report.groups if group.code == "1100")
    assert cash.name == "Cash and bank"
    bank = next(row for row in cash.rows if row.code == "1120")
    assert (bank.opening, bank.debit, bank.credit, bank.closing) == (
        D("10000.00"),
        D("1500.00"),
        D("1700.00"),
        D("9800.00"),
    )
    assert (cash.opening, cash.debit, cash.credit, cash.closing) == (
        D("10000.00"),
        D("2000.00"),
        D("2200.00"),
        D("9800.00"),
    )
    codes = [row.code for group in report.groups for row in group.rows]
    assert "5400" not in codes  # posted after the period
    assert "3100" in codes  # an opening balance and no movement
    assert (report.opening, report.debit, report.credit, report.closing) == (
        D("0.00"),
        D("5500.00"),
        D("5500.00"),
        D("0.00"),
    )


def test_the_period_trial_balance_page_and_csv(posted_books, client, django_assert_max_num_queries):  # noqa: F811
    sign_in(client, posted_books)
    period = {"start": "2026-02-01", "end": "2026-03-31"}

    with django_assert_max_num_queries(8):
        page = client.get(reverse("period-trial-balance"), period)
    rows = _csv(client.get(reverse("period-trial-balance"), {**period, "format": "csv"}))

    html = page.content.decode()
    assert "Subtotal Cash and bank" in html
    assert rows[0] == ["group", "code", "name", "opening", "debit", "credit", "closing"]
    assert [
        "1100",
        "",
        "Subtotal Cash and bank",
        "10000.00",
        "2000.00",
        "2200.00",
        "9800.00",
    ] in rows
    assert rows[-1] == ["", "", "Total", "0.00", "5500.00", "5500.00", "0.00"]


def test_the_period_trial_balance_refuses_an_end_before_its_start(posted_books, client):  # noqa: F811
    sign_in(client, posted_books)
    response = client.get(
        reverse("period-trial-balance"), {"start": "2026-03-31", "end": "2026-02-01"}
    )
    assert "The end date must not be before the start date." in response.content.decode()


def test_the_account_ledger_shows_its_closing_balance_in_the_balance_column_alone(
    posted_books,  # noqa: F811
    client,
):
    sign_in(client, posted_books)
    html = client.get(
        reverse("account-ledger"),
        {"account": posted_books.account("1120").pk, "start": "2026-02-01", "end": "2026-03-31"},
    ).content.decode()

    closing = html[html.index('<tr class="closing">') :]
    closing = closing[: closing.index("</tr>")]
    cells = closing.split('<td class="num">')[1:]
    assert [cell.split("</td>")[0].strip() for cell in cells] == ["", "", "9,800.00 Dr"]
    assert "Total for the period" in html
