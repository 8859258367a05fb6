"""Posting on PostgreSQL checks a voucher against the facts its process read for an earlier one,
and its write confirms they are still the database's: a change anywhere in the organization's
accounts, fiscal years or periods is seen by the next voucher posted, in any process."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounting.models import Account, AccountingPeriod, LedgerEntry, Voucher, VoucherSequence
from accounting.services.checks import VoucherRejected
from accounting.services.facts import FACTS_VERSION_TABLE, entry_facts_remembered
from accounting.services.organizations import fiscal_year_create, period_set_closed
from accounting.services.posting import voucher_create_posted
from accounting.services.verification import ledger_verify

pytestmark = pytest.mark.postgres


def version(books) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT version FROM {FACTS_VERSION_TABLE} WHERE organization_id = %s",
            [books.organization.pk],
        )
        row = cursor.fetchone()
    return None if row is None else row[0]


def statements_of(action) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        action()
    return [q["sql"].removeprefix("QUERY = '").split(None, 1)[0] for q in captured]


def post(books, amount="1.00", on=date(2026, 3, 15), debit="5200"):
    return voucher_create_posted(
        organization=books.organization,
        voucher_input=books.entry((debit, amount, ""), ("1120", "", amount), on=on),
    )


def test_every_change_to_accounts_years_and_periods_moves_the_version_on(books):
    seen = [version(books)]

    def moved() -> bool:
        seen.append(version(books))
        return seen[-1] not in seen[:-1]

    account = books.account("5200")
    account.name = "Renamed"
    account.save()
    assert moved()
    Account.objects.create(
        organization=books.organization, code="5999", name="New", account_type="expense"
    )
    assert moved()
    Account.objects.filter(code="5999", organization=books.organization).delete()
    assert moved()
    period_set_closed(
        period=AccountingPeriod.objects.filter(fiscal_year=books.fiscal_year).first(), closed=True
    )
    assert moved()
    fiscal_year_create(
        organization=books.organization, start=date(2027, 1, 1), end=date(2027, 12, 31)
    )
    assert moved()
    assert None not in seen


def test_facts_read_once_are_remembered_and_the_next_voucher_is_one_statement(books):
    post(books)
    ids = {books.account("5200").pk, books.account("1120").pk}
    with CaptureQueriesContext(connection) as captured:
        remembered = entry_facts_remembered(
            organization=books.organization, account_ids=ids, on=date(2026, 3, 20)
        )
    assert len(captured) == 0
    assert remembered.version == version(books)
    assert statements_of(lambda: post(books, "2.00")) == ["SAVEPOINT", "WITH", "RELEASE"]


def test_an_account_deactivated_after_its_facts_were_read_refuses_the_next_voucher(books):
    post(books)
    Account.objects.filter(pk=books.account("5200").pk).update(is_active=False)  # elsewhere
    with pytest.raises(VoucherRejected, match="account 5200 is inactive"):
        post(books, "2.00")
    assert Voucher.objects.count() == 1
    assert sum(VoucherSequence.objects.values_list("last_value", flat=True)) == 1


def test_a_period_closed_after_its_facts_were_read_refuses_the_next_voucher(books):
    post(books)
    period = AccountingPeriod.objects.get(fiscal_year=books.fiscal_year, number=3)
    period_set_closed(period=period, closed=True)
    with pytest.raises(VoucherRejected, match="closed period"):
        post(books, "2.00")
    assert Voucher.objects.count() == 1
    assert LedgerEntry.objects.count() == 2


def test_an_unrelated_change_costs_a_second_read_and_nothing_else(books):
    first = post(books)
    account = books.account("4100")
    account.name = "Sales, renamed"
    account.save()
    kinds = statements_of(lambda: post(books, "2.00"))
    # Written nothing against the old version; read again, checked again, written.
    assert kinds == ["SAVEPOINT", "WITH", "RELEASE", "SELECT", "SAVEPOINT", "WITH", "RELEASE"]
    second = Voucher.objects.exclude(pk=first.pk).get()
    assert (first.sequence, second.sequence) == (1, 2)
    assert second.chain_previous == first.chain_hash
    assert ledger_verify(organization=books.organization).ok


def test_a_period_reopened_after_a_refusal_accepts_the_next_voucher(books):
    period = AccountingPeriod.objects.get(fiscal_year=books.fiscal_year, number=3)
    period_set_closed(period=period, closed=True)
    with pytest.raises(VoucherRejected, match="closed period"):
        post(books)  # the closed period is now what this process remembers
    period_set_closed(period=period, closed=False)
    kinds = statements_of(lambda: post(books, "2.00"))
    # Refused by the facts remembered, so read again before refusing: open, and written.
    assert kinds == ["SELECT", "SAVEPOINT", "WITH", "RELEASE"]
    assert Voucher.objects.get().number == "JV-2026-00001"


def test_a_series_posted_statement_by_statement_checks_against_facts_read_afresh(books):
    post(books)  # the facts are remembered
    journal = books.types["JV"]
    journal.numbering_pattern = "JV {seq:>6}"  # not one the database writes
    journal.save()
    period = AccountingPeriod.objects.get(fiscal_year=books.fiscal_year, number=3)
    period_set_closed(period=period, closed=True)
    with pytest.raises(VoucherRejected, match="closed period"):
        post(books, "2.00")
    assert Voucher.objects.count() == 1
