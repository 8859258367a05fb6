"""Creating and posting in one statement on PostgreSQL writes exactly what the statement-per-
table way writes: the same ledger rows, history rows, number and chain link, the hash computed
by the database equal to the one Python computes."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from accounting.models import LedgerChainHead, LedgerEntry, Voucher, VoucherLine, VoucherSequence
from accounting.services import posting
from accounting.services.chain import ChainContent, chain_hash, ledger_rows_in_order
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


def test_one_statement_writes_what_the_statement_per_table_way_writes(books, monkeypatch):
    customer = PartyFactory(organization=books.organization)
    supplier = PartyFactory(organization=books.organization)
    user = books.member()
    fast = voucher_create_posted(
        organization=books.organization,
        voucher_input=entry_with_parties(books, customer, supplier),
        user=user,
    )
    monkeypatch.setattr(posting, "one_statement_parts", lambda **kwargs: None)
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


def python_hash(voucher: Voucher) -> str:
    """The voucher's hash computed in Python from its stored header and ledger rows."""
    stored = Voucher.objects.get(pk=voucher.pk)
    rows = LedgerEntry.objects.filter(voucher=stored).values_list(
        "id", "line_order", "account_id", "debit", "credit", "party_id", "description"
    )
    content = ChainContent.of(stored, ledger_rows_in_order(rows))
    return chain_hash(content, position=stored.chain_position, previous=stored.chain_previous)


def test_the_hash_the_database_computes_is_the_chains_own_whatever_the_text(books):
    """Quotes, backslashes, control characters and non-ASCII text in the number's pattern, the
    narration and the descriptions, each encoded as Python's JSON encodes them."""
    payment = books.types["JV"]
    payment.numbering_pattern = 'Zahl "\\ü"/{fy}/{seq:07d}-€'
    payment.save()
    voucher_input = books.entry(("5200", "3.10", ""), ("1120", "", "3.10"))
    lines = [replace(line, description='tab\there "quoted" ünï ✓') for line in voucher_input.lines]
    voucher = voucher_create_posted(
        organization=books.organization,
        voucher_input=replace(voucher_input, lines=lines, narration="line\nbreak \\ 𝄞"),
    )
    assert voucher.number == 'Zahl "\\ü"/2026/0000001-€'
    assert voucher.chain_hash == python_hash(voucher)
    assert ledger_verify(organization=books.organization).ok


def test_a_pattern_the_database_cannot_write_is_numbered_the_statement_per_table_way(books):
    payment = books.types["JV"]
    payment.numbering_pattern = "JV {seq:>6} / {fy}"
    payment.save()
    first, second = (
        voucher_create_posted(
            organization=books.organization,
            voucher_input=books.entry(("5200", amount, ""), ("1120", "", amount)),
        )
        for amount in ("1.00", "2.00")
    )
    assert (first.number, second.number) == ("JV      1 / 2026", "JV      2 / 2026")
    assert second.chain_previous == first.chain_hash == python_hash(first)
    assert ledger_verify(organization=books.organization).ok


def test_a_refused_write_inside_a_transaction_leaves_the_callers_work_as_it_was(books):
    key = "form-1"
    voucher_create_posted(
        organization=books.organization,
        voucher_input=books.entry(("5200", "1.00", ""), ("1120", "", "1.00")),
        submission_key=key,
    )
    with transaction.atomic():
        kept = voucher_create_posted(
            organization=books.organization,
            voucher_input=books.entry(("5200", "2.00", ""), ("1120", "", "2.00")),
        )
        with pytest.raises(IntegrityError):
            voucher_create_posted(
                organization=books.organization,
                voucher_input=books.entry(("5200", "3.00", ""), ("1120", "", "3.00")),
                submission_key=key,  # the same form again: the unique key refuses it
            )
        assert Voucher.objects.filter(pk=kept.pk).exists()  # the transaction goes on
    assert list(Voucher.objects.order_by("sequence").values_list("sequence", flat=True)) == [1, 2]
    assert ledger_verify(organization=books.organization).ok


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_posting_is_one_round_trip_without_begin_or_commit(books):
    def statements_of_posting(amount: str) -> tuple[Voucher, list[str]]:
        voucher_input = books.entry(("5200", amount, ""), ("1120", "", amount))
        with CaptureQueriesContext(connection) as captured:
            voucher = voucher_create_posted(
                organization=books.organization, voucher_input=voucher_input
            )
        return voucher, [q["sql"].removeprefix("QUERY = '").split(None, 1)[0] for q in captured]

    first, kinds = statements_of_posting("4.00")
    assert kinds == ["SELECT", "WITH"]  # the facts read, then the statement
    second, kinds = statements_of_posting("5.00")
    assert kinds == ["WITH"]  # the facts remembered, confirmed by the statement
    assert Voucher.objects.get(pk=first.pk).number == first.number == "JV-2026-00001"
    assert Voucher.objects.get(pk=second.pk).number == second.number == "JV-2026-00002"
    assert ledger_verify(organization=books.organization).ok
