from datetime import date
from decimal import Decimal

import pytest

from accounting.models import LedgerEntry, Voucher, VoucherStatus
from accounting.services.drafts import voucher_draft_create
from accounting.services.posting import voucher_create_posted, voucher_post, voucher_reverse
from accounting.services.rules import VoucherRejected


def test_posting_a_draft_numbers_it_and_writes_balanced_ledger_entries(books):
    user = books.member()
    draft = voucher_draft_create(
        organization=books.organization,
        voucher_input=books.entry(("5200", "1200.00", ""), ("1120", "", "1200.00"), type_code="PV"),
        user=user,
    )
    assert draft.number is None

    posted = voucher_post(voucher=draft, user=user)

    assert posted.status == VoucherStatus.POSTED
    assert posted.number == "PV-2026-00001"
    entries = LedgerEntry.objects.filter(voucher=posted)
    assert [(e.account.code, e.debit, e.credit) for e in entries] == [
        ("5200", Decimal("1200.00"), Decimal("0.00")),
        ("1120", Decimal("0.00"), Decimal("1200.00")),
    ]


def test_unbalanced_draft_is_refused_and_nothing_changes(books):
    draft = voucher_draft_create(
        organization=books.organization,
        voucher_input=books.entry(("5200", "100.00", ""), ("1120", "", "99.99")),
    )
    with pytest.raises(VoucherRejected, match="not balanced"):
        voucher_post(voucher=draft, user=None)
    draft.refresh_from_db()
    assert draft.status == VoucherStatus.DRAFT
    assert not LedgerEntry.objects.exists()


def test_reversal_swaps_sides_and_links_both_ways(books):
    original = voucher_create_posted(
        organization=books.organization,
        voucher_input=books.entry(("5200", "50.00", ""), ("1120", "", "50.00")),
    )
    reversal = voucher_reverse(voucher=original, user=None, on=date(2026, 4, 1))
    original.refresh_from_db()
    assert original.status == VoucherStatus.REVERSED
    assert reversal.reversal_of == original
    assert Voucher.objects.get(pk=original.pk).reversed_by == reversal
    assert [(e.debit, e.credit) for e in reversal.ledger_entries.all()] == [
        (Decimal("0.00"), Decimal("50.00")),
        (Decimal("50.00"), Decimal("0.00")),
    ]
