"""Creating and posting in two statements on PostgreSQL writes exactly what the statement-per-
table way writes: the same ledger rows, history rows, number and chain link."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from accounting.models import LedgerChainHead, LedgerEntry, Voucher, VoucherLine, VoucherSequence
from accounting.services import posting
from accounting.services.posting import voucher_create_posted
from accounting.services.verification import ledger_verify
from tests.factories import PartyFactory

pytestmark = pytest.mark.postgres


def entry_with_parties(books, customer, supplier):
    voucher_input = books.entry(
        ("5200", "12.34", ""), ("5300", "0.66", ""), ("1120", "", "13.00"), party_id=customer.pk
    )
    lines = list(voucher_input.lines)
    lines[1] = replace(lines[1], party_id=supplier.pk, description="own party")
    return replace(voucher_input, lines=lines, reference="R-1", narration="Two ways")


def written(voucher: Voucher) -> dict:
    return {
        "ledger": list(
            LedgerEntry.objects.filter(voucher=voucher)
            .order_by("line_order")
            .values_list("line_order", "account_id", "debit", "credit", "party_id", "description")
        ),
        "lines": list(
            VoucherLine.objects.filter(voucher=voucher)
            .order_by("order")
            .values_list("order", "account_id", "debit", "credit", "party_id", "description")
        ),
        "line_history": VoucherLine.history.filter(voucher_id=voucher.pk, history_type="+").count(),
        "history": list(
            voucher.history.values_list("history_type", "status", "number", "history_user")
        ),
    }


def test_two_statements_write_what_the_statement_per_table_way_writes(books, monkeypatch):
    customer = PartyFactory(organization=books.organization)
    supplier = PartyFactory(organization=books.organization)
    user = books.member()
    fast = voucher_create_posted(
        organization=books.organization,
        voucher_input=entry_with_parties(books, customer, supplier),
        user=user,
    )
    monkeypatch.setattr(posting, "fits_two_statements", lambda lines: False)
    slow = voucher_create_posted(
        organization=books.organization,
        voucher_input=entry_with_parties(books, customer, supplier),
        user=user,
    )
    fast_rows, slow_rows = written(fast), written(slow)
    assert fast_rows["ledger"] == slow_rows["ledger"]
    assert fast_rows["lines"] == slow_rows["lines"]
    assert fast_rows["ledger"][0][4] == customer.pk  # a line without a party takes the voucher's
    assert fast_rows["ledger"][1][4] == supplier.pk
    assert fast_rows["ledger"][2][2:4] == (Decimal("0.00"), Decimal("13.00"))
    assert fast_rows["line_history"] == slow_rows["line_history"] == 3
    assert fast_rows["history"] == [("+", "posted", fast.number, user.pk)]
    assert (fast.sequence, slow.sequence) == (1, 2)
    stored = Voucher.objects.get(pk=fast.pk)
    assert (stored.number, stored.chain_position, stored.chain_hash) == (
        fast.number,
        1,
        fast.chain_hash,
    )
    assert slow.chain_previous == fast.chain_hash
    head = LedgerChainHead.objects.get(organization=books.organization)
    assert (head.last_position, head.last_hash) == (2, slow.chain_hash)
    assert ledger_verify(organization=books.organization).ok


def test_a_series_without_its_counter_row_gets_one_on_first_use(books):
    VoucherSequence.objects.filter(organization=books.organization).delete()
    LedgerChainHead.objects.filter(organization=books.organization).delete()
    first = voucher_create_posted(
        organization=books.organization,
        voucher_input=books.entry(("5200", "1.00", ""), ("1120", "", "1.00")),
    )
    second = voucher_create_posted(
        organization=books.organization,
        voucher_input=books.entry(("5200", "2.00", ""), ("1120", "", "2.00")),
    )
    assert (first.sequence, second.sequence) == (1, 2)
    assert (first.chain_position, second.chain_position) == (1, 2)
    assert ledger_verify(organization=books.organization).ok
