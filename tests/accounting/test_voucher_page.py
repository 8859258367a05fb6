"""The voucher page shows what the entry took: each line's party, the ledger entries' party,
and the values kept in the voucher's `data`, labelled."""

from datetime import date

from django.urls import reverse

from accounting.models import Role
from accounting.selectors import data_label
from accounting.services.inputs import LineInput, VoucherInput
from accounting.services.posting import voucher_create_posted
from tests.factories import sign_in


def test_a_data_key_reads_as_a_label():
    assert data_label("cheque_number") == "Cheque number"
    assert data_label("approval_note") == "Approval note"


def test_the_page_shows_parties_and_the_entry_s_own_fields(client, books, parties):
    sign_in(client, books, Role.VIEWER)
    supplier = parties["supplier"]
    voucher = voucher_create_posted(
        organization=books.organization,
        voucher_input=VoucherInput(
            voucher_type=books.types["PV"],
            date=date(2026, 3, 15),
            lines=[
                LineInput(account_id=books.account("5200").pk, debit=books_amount("125.00")),
                LineInput(
                    account_id=books.account("1120").pk,
                    credit=books_amount("125.00"),
                    party_id=supplier.pk,
                ),
            ],
            party_id=supplier.pk,
            data={"cheque_number": "000451", "cheque_date": "2026-03-14", "memo": ""},
        ),
    )

    response = client.get(reverse("voucher-detail", args=[voucher.pk]))

    html = response.content.decode()
    assert "<dt>Cheque number</dt><dd>000451</dd>" in html
    assert "<dt>Cheque date</dt><dd>2026-03-14</dd>" in html
    assert "Memo" not in html  # an empty value is left out
    entries = html[html.index("<caption>Ledger entries</caption>") :]
    assert '<th scope="col">Party</th>' in entries
    # The ledger gives every entry the voucher's party where its line has none.
    assert entries.count(f"<td>{supplier.name}</td>") == 2
    lines = html[html.index("<caption>Lines</caption>") : html.index("<caption>Ledger entries")]
    assert lines.count(f"<td>{supplier.name}</td>") == 1


def test_data_dates_follow_the_organization_format(client, books):
    books.organization.date_format = "%d/%m/%Y"
    books.organization.save()
    sign_in(client, books, Role.VIEWER)
    voucher = voucher_create_posted(
        organization=books.organization,
        voucher_input=books.entry(
            ("5200", "5.00", ""), ("1120", "", "5.00"), data={"cheque_date": "2026-03-14"}
        ),
    )
    html = client.get(reverse("voucher-detail", args=[voucher.pk])).content.decode()
    assert "<dt>Cheque date</dt><dd>14/03/2026</dd>" in html


def books_amount(text: str):
    from decimal import Decimal

    return Decimal(text)
