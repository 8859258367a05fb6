"""The hash chain posting writes: each posted voucher linked to the one posted before it in its
organization, its hash over what posting froze, and a guard that keeps the link as written."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import DatabaseError, DataError, connection, transaction

from accounting.models import CHAIN_GENESIS, LedgerChainHead, LedgerEntry, Voucher
from accounting.services import chain, posting
from accounting.services.chain import ChainContent, ChainLine, chain_hash, ledger_rows_in_order
from accounting.services.drafts import voucher_approve, voucher_draft_create, voucher_submit
from accounting.services.posting import voucher_create_posted, voucher_post, voucher_reverse
from tests.accounting.faults import posting_statement_fails_at_its_end
from tests.factories import OrganizationFactory, post


def stored_hash(voucher: Voucher) -> str:
    """The hash recomputed from what the database holds of the voucher and its ledger rows."""
    voucher = Voucher.objects.get(pk=voucher.pk)
    rows = LedgerEntry.objects.filter(voucher=voucher).values_list(
        "id", "line_order", "account_id", "debit", "credit", "party_id", "description"
    )
    content = ChainContent.of(voucher, ledger_rows_in_order(rows))
    return chain_hash(content, position=voucher.chain_position, previous=voucher.chain_previous)


def head(books) -> tuple[int, str]:
    row = LedgerChainHead.objects.get(organization=books.organization)
    return row.last_position, row.last_hash


# ---------------------------------------------------------------- the encoding


CONTENT = ChainContent(
    organization_id=1,
    voucher_id=7,
    voucher_type_id=2,
    number="PV-2026-00001",
    fiscal_year_id=3,
    date=date(2026, 3, 15),
    party_id=None,
    reference="INV-9",
    narration="Café rent",
    reversal_of_id=None,
    created_by_id=4,
    posted_by_id=5,
    posted_at=datetime(2026, 3, 15, 9, 30, tzinfo=UTC),
    approved_by_id=None,
    approved_at=None,
    lines=(
        ChainLine(1, 11, Decimal("1200"), Decimal("0"), None, "Rent"),
        ChainLine(2, 12, "0.00", 1200.0, 9, ""),
    ),
)
ENCODED = (
    '{"approved_at":null,"approved_by":null,"created_by":4,"date":"2026-03-15",'
    '"fiscal_year":3,"lines":[{"account":11,"credit":"0.00","debit":"1200.00",'
    '"description":"Rent","order":1,"party":null},{"account":12,"credit":"1200.00",'
    '"debit":"0.00","description":"","order":2,"party":9}],"narration":"Café rent",'
    '"number":"PV-2026-00001","organization":1,"party":null,"position":1,'
    '"posted_at":"2026-03-15T09:30:00.000000+00:00","posted_by":5,"previous":"'
    + "0" * 64
    + '","reference":"INV-9","reversal_of":null,"version":1,"voucher":7,"voucher_type":2}'
)


def test_the_encoding_is_sorted_json_without_whitespace_with_fixed_amounts_and_times():
    assert CONTENT.encoded(position=1, previous=CHAIN_GENESIS) == ENCODED.encode("utf-8")
    assert chain_hash(CONTENT, position=1, previous=CHAIN_GENESIS) == (
        hashlib.sha256(ENCODED.encode("utf-8")).hexdigest()
    )


def test_the_encoding_cut_around_the_values_the_database_takes_joins_back_whole():
    pieces = CONTENT.encoded_around(("number", "position", "previous", "voucher"))
    values = ['"PV-2026-00001"', "1", f'"{CHAIN_GENESIS}"', "7"]
    joined = pieces[0] + "".join(
        value + piece for value, piece in zip(values, pieces[1:], strict=True)
    )
    assert joined == ENCODED
    with pytest.raises(ValueError, match="not keys of the encoding"):
        CONTENT.encoded_around(("position", "number"))


def test_times_are_written_in_utc_whatever_zone_they_come_in():
    from zoneinfo import ZoneInfo

    local = datetime(2026, 3, 15, 11, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    assert chain.timestamp_text(local) == "2026-03-15T10:30:00.000000+00:00"
    with pytest.raises(ValueError, match="no time zone"):
        chain.timestamp_text(datetime(2026, 3, 15, 11, 30))


@pytest.mark.parametrize(
    "change",
    [
        {"posted_by_id": 6},
        {"posted_at": datetime(2026, 3, 15, 9, 30, 0, 1, tzinfo=UTC)},
        {"approved_by_id": 5},
        {"number": "PV-2026-00002"},
        {"lines": CONTENT.lines[:1]},
        {"lines": (ChainLine(1, 11, "1200.01", "0", None, "Rent"), CONTENT.lines[1])},
    ],
    ids=["posted_by", "posted_at", "approved_by", "number", "a line fewer", "an amount"],
)
def test_any_change_to_what_posting_froze_changes_the_hash(change):
    changed = replace(CONTENT, **change)
    assert chain_hash(changed, position=1, previous=CHAIN_GENESIS) != chain_hash(
        CONTENT, position=1, previous=CHAIN_GENESIS
    )


def test_the_hash_depends_on_the_place_and_the_previous_hash():
    base = chain_hash(CONTENT, position=1, previous=CHAIN_GENESIS)
    assert chain_hash(CONTENT, position=2, previous=CHAIN_GENESIS) != base
    assert chain_hash(CONTENT, position=1, previous="1" * 64) != base


# ---------------------------------------------------------------- posting writes the chain


def test_each_posting_takes_the_next_place_and_links_to_the_one_before(books):
    first = post(books, ("5200", "10.00", ""), ("1120", "", "10.00"))
    second = post(books, ("5300", "7.25", ""), ("1110", "", "7.25"))

    assert (first.chain_position, first.chain_previous) == (1, CHAIN_GENESIS)
    assert (second.chain_position, second.chain_previous) == (2, first.chain_hash)
    assert first.chain_hash == stored_hash(first)
    assert second.chain_hash == stored_hash(second)
    assert head(books) == (2, second.chain_hash)


def test_posting_a_draft_chains_it_with_who_approved_it(books):
    clerk, approver = books.member(), books.member()
    books.require_approval("JV")
    draft = voucher_draft_create(
        organization=books.organization,
        voucher_input=books.entry(("5200", "40.00", ""), ("1120", "", "40.00")),
        user=clerk,
    )
    voucher_submit(voucher=draft, user=clerk)
    voucher_approve(voucher=draft, user=approver)

    posted = voucher_post(voucher=draft, user=approver)

    stored = Voucher.objects.get(pk=posted.pk)
    assert (stored.chain_position, stored.chain_previous) == (1, CHAIN_GENESIS)
    assert stored.approved_by_id == approver.pk and stored.created_by_id == clerk.pk
    assert stored.chain_hash == posted.chain_hash == stored_hash(stored)
    assert head(books) == (1, stored.chain_hash)


def test_each_organization_has_its_own_chain(books, other_books):
    mine = post(books, ("5200", "1.00", ""), ("1120", "", "1.00"))
    theirs = post(other_books, ("5200", "2.00", ""), ("1120", "", "2.00"))

    assert mine.chain_position == theirs.chain_position == 1
    assert theirs.chain_previous == CHAIN_GENESIS
    assert head(books) == (1, mine.chain_hash)
    assert head(other_books) == (1, theirs.chain_hash)


def test_reversing_chains_the_reversal_and_leaves_the_original_link_as_it_was(books):
    original = post(books, ("5200", "50.00", ""), ("1120", "", "50.00"))

    reversal = voucher_reverse(reason="Entered in error", voucher=original, user=None)

    stored = Voucher.objects.get(pk=original.pk)
    assert stored.status == "reversed"
    assert (stored.chain_position, stored.chain_hash) == (1, original.chain_hash)
    assert stored_hash(stored) == original.chain_hash
    assert (reversal.chain_position, reversal.chain_previous) == (2, original.chain_hash)


def test_the_hash_covers_the_ledger_rows_as_written_with_the_voucher_party(books, parties):
    customer = parties["customer"]
    voucher = post(books, ("1200", "30.00", ""), ("4100", "", "30.00"), party_id=customer.pk)

    rows = list(LedgerEntry.objects.filter(voucher=voucher).values_list("party_id", flat=True))
    assert rows == [customer.pk, customer.pk]  # lines without a party take the voucher's
    assert voucher.chain_hash == stored_hash(voucher)


def test_a_new_organization_starts_its_chain_empty(db):
    organization = OrganizationFactory()
    assert LedgerChainHead.objects.filter(
        organization=organization, last_position=0, last_hash=CHAIN_GENESIS
    ).exists()


def test_an_organization_without_a_head_gets_one_on_its_first_posting(books):
    LedgerChainHead.objects.filter(organization=books.organization).delete()

    voucher = post(books, ("5200", "1.00", ""), ("1120", "", "1.00"))

    assert voucher.chain_position == 1
    assert head(books) == (1, voucher.chain_hash)


def test_a_posting_that_fails_after_taking_its_place_gives_the_place_back(books, monkeypatch):
    first = post(books, ("5200", "1.00", ""), ("1120", "", "1.00"))

    def fail(voucher):
        raise RuntimeError("lost connection")

    # After the head is taken: storing the link (statement by statement), or the end of
    # PostgreSQL's one statement.
    monkeypatch.setattr(posting, "chain_link_save", fail)
    posting_statement_fails_at_its_end(monkeypatch)
    with pytest.raises((RuntimeError, DataError)):
        post(books, ("5200", "2.00", ""), ("1120", "", "2.00"))
    monkeypatch.undo()

    assert head(books) == (1, first.chain_hash)
    second = post(books, ("5200", "3.00", ""), ("1120", "", "3.00"))
    assert (second.chain_position, second.chain_previous) == (2, first.chain_hash)


def test_chaining_a_1000_line_voucher_adds_no_query_per_line(books, django_assert_max_num_queries):
    lines = [("5200", "1.00", "")] * 999 + [("1120", "", "999.00")]
    voucher_input = books.entry(*lines)
    with django_assert_max_num_queries(13):
        voucher = voucher_create_posted(
            organization=books.organization, voucher_input=voucher_input
        )
    assert voucher.chain_hash == stored_hash(voucher)


# ---------------------------------------------------------------- the link is written once


def refused(sql: str, params: list[object]) -> str:
    with pytest.raises(DatabaseError) as caught, transaction.atomic(), connection.cursor() as c:
        c.execute(sql, params)
    return str(caught.value)


@pytest.mark.parametrize(
    "assignment",
    [
        "chain_hash = 'f00d'",
        "chain_previous = ''",
        "chain_position = 7",
        "posted_by_id = %(user)s",
        "approved_by_id = %(user)s",
        "created_by_id = %(user)s",
        "posted_at = approved_at",
    ],
)
def test_a_raw_update_of_a_posted_vouchers_link_or_stamps_is_refused(books, assignment):
    voucher = post(books, ("5200", "10.00", ""), ("1120", "", "10.00"))
    user = books.member()
    sql = "UPDATE accounting_voucher SET " + assignment % {"user": user.pk} + " WHERE id = %s"

    message = refused(sql, [voucher.pk])

    assert "posted voucher" in message and "cannot be changed" in message
    stored = Voucher.objects.get(pk=voucher.pk)
    assert (stored.chain_position, stored.chain_hash) == (1, voucher.chain_hash)
    assert (stored.posted_by_id, stored.posted_at) == (None, voucher.posted_at)
