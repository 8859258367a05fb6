"""Posting, numbering, reversal, immutability, history and query counts of the ledger."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import DataError, connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounting.models import (
    AccountingPeriod,
    ImmutableRecordError,
    LedgerEntry,
    Voucher,
    VoucherLine,
    VoucherSequence,
    VoucherStatus,
    VoucherType,
)
from accounting.services import posting
from accounting.services.checks import VoucherRejected
from accounting.services.drafts import voucher_draft_create
from accounting.services.organizations import fiscal_year_create, period_set_closed
from accounting.services.posting import voucher_create_posted, voucher_post, voucher_reverse
from tests.accounting.faults import posting_statement_fails_at_its_end
from tests.factories import PartyFactory


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
    reversal = voucher_reverse(
        reason="Entered in error", voucher=original, user=None, on=date(2026, 4, 1)
    )
    original.refresh_from_db()
    assert original.status == VoucherStatus.REVERSED
    assert reversal.reversal_of == original
    assert Voucher.objects.get(pk=original.pk).reversed_by == reversal
    assert [(e.debit, e.credit) for e in reversal.ledger_entries.all()] == [
        (Decimal("0.00"), Decimal("50.00")),
        (Decimal("50.00"), Decimal("0.00")),
    ]


# ---------------------------------------------------------------- posting once, numbering


def make_draft(books, *lines, type_code="PV", on=None, user=None):
    return voucher_draft_create(
        organization=books.organization,
        voucher_input=books.entry(*lines, type_code=type_code, on=on),
        user=user,
    )


def test_posting_the_same_draft_twice_posts_once_and_says_why_the_second_failed(books):
    draft = make_draft(books, ("5200", "10.00", ""), ("1120", "", "10.00"))
    posted = voucher_post(voucher=draft, user=None)

    with pytest.raises(VoucherRejected) as caught:
        voucher_post(voucher=draft, user=None)

    assert caught.value.messages == ["PV-2026-00001: is posted; only a draft can be posted"]
    assert LedgerEntry.objects.filter(voucher=posted).count() == 2
    assert VoucherSequence.objects.get(voucher_type=books.types["PV"]).last_value == 1


def test_numbers_are_gapless_per_type_and_fiscal_year_and_restart_for_each(books):
    fiscal_year_create(
        organization=books.organization, start=date(2027, 1, 1), end=date(2027, 12, 31)
    )

    def post(type_code, on):
        return voucher_create_posted(
            organization=books.organization,
            voucher_input=books.entry(
                ("5200", "1.00", ""), ("1120", "", "1.00"), type_code=type_code, on=on
            ),
        ).number

    numbers = [
        post("PV", date(2026, 1, 2)),
        post("PV", date(2026, 12, 31)),
        post("JV", date(2026, 6, 1)),
        post("PV", date(2027, 1, 1)),
        post("PV", date(2026, 2, 1)),
        post("JV", date(2027, 3, 1)),
    ]

    assert numbers == [
        "PV-2026-00001",
        "PV-2026-00002",
        "JV-2026-00001",
        "PV-2027-00001",
        "PV-2026-00003",
        "JV-2027-00001",
    ]


def test_a_refused_posting_does_not_use_up_a_number(books):
    bad = make_draft(books, ("5200", "10.00", ""), ("1120", "", "9.00"))
    with pytest.raises(VoucherRejected):
        voucher_post(voucher=bad, user=None)
    good = voucher_post(
        voucher=make_draft(books, ("5200", "10.00", ""), ("1120", "", "10.00")), user=None
    )
    assert good.number == "PV-2026-00001"


def test_a_voucher_type_added_after_the_fiscal_year_gets_its_counter_on_first_use(books):
    extra = VoucherType.objects.create(
        organization=books.organization, code="XV", name="Extra", numbering_pattern="XV/{seq}"
    )
    books.types["XV"] = extra
    first = voucher_create_posted(
        organization=books.organization,
        voucher_input=books.entry(("5200", "1.00", ""), ("1120", "", "1.00"), type_code="XV"),
    )
    second = voucher_create_posted(
        organization=books.organization,
        voucher_input=books.entry(("5200", "1.00", ""), ("1120", "", "1.00"), type_code="XV"),
    )
    assert (first.number, second.number) == ("XV/1", "XV/2")


def test_ledger_entries_copy_the_lines_and_fall_back_to_the_voucher_party(books):
    supplier = PartyFactory(organization=books.organization, code="S1", role="supplier")
    customer = PartyFactory(organization=books.organization, code="C1")
    voucher_input = books.entry(
        ("5200", "7.50", ""), ("5300", "2.50", ""), ("1120", "", "10.00"), party_id=supplier.pk
    )
    voucher_input.lines[0].description = "March rent"
    voucher_input.lines[1].party_id = customer.pk
    posted = voucher_create_posted(organization=books.organization, voucher_input=voucher_input)

    rows = list(
        posted.ledger_entries.order_by("line_order").values_list(
            "line_order", "account__code", "date", "debit", "credit", "party_id", "description"
        )
    )
    assert rows == [
        (1, "5200", date(2026, 3, 15), Decimal("7.50"), Decimal("0.00"), supplier.pk, "March rent"),
        (2, "5300", date(2026, 3, 15), Decimal("2.50"), Decimal("0.00"), customer.pk, ""),
        (3, "1120", date(2026, 3, 15), Decimal("0.00"), Decimal("10.00"), supplier.pk, ""),
    ]
    assert all(e.organization_id == books.organization.pk for e in posted.ledger_entries.all())


# ---------------------------------------------------------------- reversal


def test_reversing_a_voucher_that_is_not_posted_is_refused(books):
    draft = make_draft(books, ("5200", "10.00", ""), ("1120", "", "10.00"))
    with pytest.raises(VoucherRejected, match="is draft; only a posted voucher can be reversed"):
        voucher_reverse(reason="Entered in error", voucher=draft, user=None)

    posted = voucher_post(voucher=draft, user=None)
    voucher_reverse(reason="Entered in error", voucher=posted, user=None)
    with pytest.raises(VoucherRejected) as caught:
        voucher_reverse(reason="Entered in error", voucher=posted, user=None)
    assert caught.value.messages == [
        "PV-2026-00001: is already reversed by PV-2026-00002; a voucher is reversed once"
    ]
    assert Voucher.objects.filter(reversal_of=posted).count() == 1


def test_reversal_into_a_closed_period_is_refused_and_the_original_stays_posted(books):
    posted = voucher_post(
        voucher=make_draft(books, ("5200", "10.00", ""), ("1120", "", "10.00")), user=None
    )
    period_set_closed(period=AccountingPeriod.objects.get(number=5), closed=True)
    with pytest.raises(VoucherRejected, match="is in closed period"):
        voucher_reverse(reason="Entered in error", voucher=posted, user=None, on=date(2026, 5, 2))
    posted.refresh_from_db()
    assert posted.status == VoucherStatus.POSTED
    assert LedgerEntry.objects.count() == 2


# ---------------------------------------------------------------- immutability in model code


@pytest.fixture
def posted(books):
    return voucher_create_posted(
        organization=books.organization,
        voucher_input=books.entry(("5200", "10.00", ""), ("1120", "", "10.00")),
    )


def test_a_posted_voucher_cannot_be_saved_or_deleted(posted):
    voucher = Voucher.objects.get(pk=posted.pk)
    voucher.narration = "changed afterwards"
    with pytest.raises(ImmutableRecordError):
        voucher.save()
    with pytest.raises(ImmutableRecordError):
        voucher.delete()
    assert Voucher.objects.get(pk=posted.pk).narration == ""


def test_a_reversed_voucher_cannot_be_saved(posted):
    voucher_reverse(reason="Entered in error", voucher=posted, user=None)
    voucher = Voucher.objects.get(pk=posted.pk)
    voucher.status = VoucherStatus.POSTED
    with pytest.raises(ImmutableRecordError):
        voucher.save(update_fields=["status"])


def test_ledger_entries_cannot_be_edited_or_deleted(posted):
    entry = LedgerEntry.objects.filter(voucher=posted).first()
    entry.debit = Decimal("11.00")
    with pytest.raises(ImmutableRecordError):
        entry.save()
    with pytest.raises(ImmutableRecordError):
        entry.delete()


def test_the_lines_of_a_posted_voucher_cannot_be_edited_or_deleted(posted):
    line = VoucherLine.objects.filter(voucher=posted).first()
    line.debit = Decimal("11.00")
    with pytest.raises(ImmutableRecordError):
        line.save()
    with pytest.raises(ImmutableRecordError):
        line.delete()
    assert VoucherLine.objects.filter(voucher=posted).count() == 2


# ---------------------------------------------------------------- failures half-way


def state():
    return (
        LedgerEntry.objects.count(),
        Voucher.objects.count(),
        VoucherLine.objects.count(),
        list(VoucherSequence.objects.order_by("pk").values_list("last_value", flat=True)),
        Voucher.history.count(),
        VoucherLine.history.count(),
    )


def test_a_failure_after_the_ledger_is_written_leaves_the_draft_as_it_was(books, monkeypatch):
    draft = make_draft(books, ("5200", "10.00", ""), ("1120", "", "10.00"))
    before = state()

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    # By then the ledger rows are inserted and the number is taken.
    monkeypatch.setattr(posting, "voucher_save_with_history", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        voucher_post(voucher=draft, user=None)

    assert state() == before
    draft.refresh_from_db()
    assert (draft.status, draft.number, draft.sequence) == (VoucherStatus.DRAFT, None, None)


def test_a_failure_in_the_middle_of_create_posted_leaves_nothing_behind(books, monkeypatch):
    before = state()
    write_ledger = posting._ledger_entries_create

    def write_then_fail(voucher):
        write_ledger(voucher)
        raise RuntimeError("connection lost")

    # The ledger rows written, then a failure before COMMIT: one statement at a time (SQLite),
    # or the voucher, lines, ledger, history and chain head all in one (PostgreSQL).
    monkeypatch.setattr(posting, "_ledger_entries_create", write_then_fail)
    posting_statement_fails_at_its_end(monkeypatch)
    with pytest.raises((RuntimeError, DataError)):
        voucher_create_posted(
            organization=books.organization,
            voucher_input=books.entry(("5200", "10.00", ""), ("1120", "", "10.00")),
        )

    assert state() == before
    monkeypatch.undo()
    again = voucher_create_posted(
        organization=books.organization,
        voucher_input=books.entry(("5200", "10.00", ""), ("1120", "", "10.00")),
    )
    assert again.number == "JV-2026-00001"


# ---------------------------------------------------------------- history


def test_posting_writes_history_for_the_voucher_and_its_lines(books):
    clerk, accountant = books.member(), books.member()
    draft = make_draft(books, ("5200", "10.00", ""), ("1120", "", "10.00"), user=clerk)
    posted = voucher_post(voucher=draft, user=accountant)

    voucher_rows = list(
        posted.history.order_by("history_date", "history_id").values_list(
            "history_type", "status", "number", "history_user"
        )
    )
    assert voucher_rows == [
        ("+", "draft", None, clerk.pk),
        ("~", "posted", "PV-2026-00001", accountant.pk),
    ]
    line_rows = list(
        VoucherLine.history.filter(voucher_id=posted.pk)
        .order_by("order")
        .values_list("history_type", "order", "account_id", "debit", "credit", "history_user")
    )
    assert line_rows == [
        ("+", 1, books.account("5200").pk, Decimal("10.00"), Decimal("0.00"), clerk.pk),
        ("+", 2, books.account("1120").pk, Decimal("0.00"), Decimal("10.00"), clerk.pk),
    ]
    assert {r.id for r in VoucherLine.history.filter(voucher_id=posted.pk)} == set(
        posted.lines.values_list("id", flat=True)
    )


def test_create_posted_and_reverse_write_history_rows(books):
    user = books.member()
    original = voucher_create_posted(
        organization=books.organization,
        voucher_input=books.entry(("5200", "3.00", ""), ("1120", "", "3.00")),
        user=user,
    )
    reversal = voucher_reverse(reason="Entered in error", voucher=original, user=user)

    assert list(original.history.order_by("history_id").values_list("history_type", "status")) == [
        ("+", "posted"),
        ("~", "reversed"),
    ]
    assert list(
        reversal.history.values_list("history_type", "status", "reversal_of", "history_user")
    ) == [("+", "posted", original.pk, user.pk)]
    assert VoucherLine.history.filter(voucher_id=reversal.pk, history_user=user).count() == 2


# ---------------------------------------------------------------- query counts


def lines_of(count: int) -> list[tuple[str, str, str]]:
    debits = [("5200", "1.00", "")] * (count - 1)
    return [*debits, ("1120", "", f"{count - 1}.00")]


@pytest.mark.parametrize("count", [2, 50])
def test_create_posted_takes_the_same_queries_for_2_and_50_lines(
    books, django_assert_num_queries, count
):
    voucher_input = books.entry(*lines_of(count))
    # PostgreSQL: accounts and period in one read, then (inside the test's transaction) SAVEPOINT,
    # the one statement that takes the counter and chain head and writes the voucher, lines,
    # ledger rows and history rows, RELEASE. SQLite: accounts and period, SAVEPOINT, counter, voucher + history, lines +
    # history, ledger, chain head taken and moved, the voucher's link, RELEASE.
    expected = 4 if connection.vendor == "postgresql" else 12
    with django_assert_num_queries(expected):
        voucher = voucher_create_posted(
            organization=books.organization, voucher_input=voucher_input
        )
    assert LedgerEntry.objects.filter(voucher=voucher).count() == count
    assert VoucherLine.history.filter(voucher_id=voucher.pk).count() == count
    assert voucher.history.count() == 1


@pytest.mark.parametrize("count", [2, 50])
def test_voucher_post_takes_the_same_queries_for_2_and_50_lines(
    books, django_assert_num_queries, count
):
    draft = make_draft(books, *lines_of(count))
    # SAVEPOINT, lock, lines, period, ledger, counter, chain head taken and moved, voucher,
    # history, RELEASE.
    with django_assert_num_queries(11):
        voucher_post(voucher=draft, user=None)
    assert LedgerEntry.objects.filter(voucher=draft).count() == count


# ---------------------------------------------------------------- any balanced voucher posts

# Leaf accounts of the demo chart that take postings.
POSTING_CODES = ["1110", "1120", "1200", "2100", "3100", "4100", "5200", "5300", "5940"]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    cents=st.lists(
        # Up to 10 million a line: SQLite stores decimals as 15-digit floats, and the final
        # check sums every example's ledger.
        st.integers(min_value=-(10**9), max_value=10**9).filter(bool),
        min_size=1,
        max_size=29,
    ),
    codes=st.lists(st.sampled_from(POSTING_CODES), min_size=30, max_size=30),
    nudge=st.sampled_from([-1, 1]),
)
def test_any_balanced_voucher_posts_and_an_unbalanced_one_never_does(books, cents, codes, nudge):
    closing = -sum(cents)
    if closing == 0:
        cents = [*cents[:-1], cents[-1] + 1]
        closing = -sum(cents)
    signed = [*cents, closing]

    def lines(amounts):
        return [
            (
                codes[i],
                str(Decimal(c).scaleb(-2)) if c > 0 else "",
                str(Decimal(-c).scaleb(-2)) if c < 0 else "",
            )
            for i, c in enumerate(amounts)
        ]

    ledger_before = LedgerEntry.objects.count()
    unbalanced = [*signed[:-1], signed[-1] + nudge]
    if unbalanced[-1] != 0:
        with pytest.raises(VoucherRejected, match="is not balanced"):
            voucher_create_posted(
                organization=books.organization, voucher_input=books.entry(*lines(unbalanced))
            )
    assert LedgerEntry.objects.count() == ledger_before

    posted = voucher_create_posted(
        organization=books.organization, voucher_input=books.entry(*lines(signed))
    )

    # Summed here rather than with SQL SUM: SQLite keeps decimals as floats and its SUM drifts.
    rows = list(LedgerEntry.objects.filter(voucher=posted).values_list("debit", "credit"))
    assert len(rows) == len(signed)
    total = Decimal(sum(c for c in signed if c > 0)).scaleb(-2)
    assert sum(dr for dr, _ in rows) == sum(cr for _, cr in rows) == total
    everything = list(LedgerEntry.objects.values_list("debit", "credit"))
    assert sum(dr for dr, _ in everything) == sum(cr for _, cr in everything)
