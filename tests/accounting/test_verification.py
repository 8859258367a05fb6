"""Verifying the books: a clean ledger verifies, and raw-SQL tampering after posting — around
the database's guards, as someone with the owner's rights could — is caught, naming the voucher
and the reason."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from accounting.models import LedgerChainHead, LedgerEntry, Voucher, VoucherStatus
from accounting.services import verification
from accounting.services.chain import ChainContent, chain_hash, ledger_rows_in_order
from accounting.services.drafts import voucher_approve, voucher_draft_create, voucher_submit
from accounting.services.posting import voucher_create_posted, voucher_post, voucher_reverse
from accounting.services.verification import ledger_verify
from tests.factories import post

SQLITE_GUARDS = (
    "accounting_ledger_immutable",
    "accounting_posted_voucher_immutable",
    "accounting_posted_line_immutable",
)


def guards_off() -> None:
    """Lets raw SQL past the edit guards until the test's transaction ends: PostgreSQL's
    replica role (a superuser's setting) silences the ordinary triggers, leaving the balance
    check, which fires always; on SQLite the triggers are dropped (and come back when the
    test's transaction rolls back)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        else:
            for name in SQLITE_GUARDS:
                cursor.execute(f"DROP TRIGGER {name}")


def sql(statement: str, *params: object) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, list(params))


def verify(books, *extra: str) -> str:
    out = StringIO()
    call_command("verify_ledger", "--org", books.organization.slug, *extra, stdout=out)
    return out.getvalue()


def refused(books) -> CommandError:
    with pytest.raises(CommandError) as caught:
        verify(books)
    return caught.value


@pytest.fixture
def ledger(books, other_books):
    """Four posted vouchers of acme (one approved, one reversed), a draft, and rival's books."""
    clerk, approver = books.member(), books.member()
    first = voucher_create_posted(
        organization=books.organization,
        voucher_input=books.entry(("5200", "10.00", ""), ("1120", "", "10.00")),
        user=clerk,
    )
    books.require_approval("PV")
    draft = voucher_draft_create(
        organization=books.organization,
        voucher_input=books.entry(("5300", "250.00", ""), ("1110", "", "250.00"), type_code="PV"),
        user=clerk,
    )
    voucher_submit(voucher=draft, user=clerk)
    voucher_approve(voucher=draft, user=approver)
    approved = voucher_post(voucher=draft, user=approver)
    reversed_ = post(books, ("5940", "3.50", ""), ("1120", "", "3.50"))
    reversal = voucher_reverse(reason="Entered in error", voucher=reversed_, user=approver)
    voucher_draft_create(
        organization=books.organization,
        voucher_input=books.entry(("5200", "1.00", ""), ("1120", "", "1.00")),
    )
    post(other_books, ("5200", "99.00", ""), ("1120", "", "99.00"))
    return SimpleNamespace(
        first=first,
        approved=approved,
        reversed=reversed_,
        reversal=reversal,
        clerk=clerk,
        approver=approver,
    )


def assert_names(error: CommandError, voucher: Voucher, check: str, line: int | None = None):
    assert error.returncode == 1
    where = f"voucher {voucher.number} (id {voucher.pk}, chain position {voucher.chain_position})"
    if line is not None:
        where += f", line {line}"
    assert f"{where} fails the {check} check: " in str(error)


# ---------------------------------------------------------------- a clean ledger


def test_a_clean_ledger_with_approvals_and_reversals_verifies(books, ledger):
    out = verify(books)

    assert out.count("\n") == 1
    assert out == (
        f"acme: 4 posted voucher(s) verified; chain intact, head 4:{ledger.reversal.chain_hash}\n"
    )
    assert Voucher.objects.get(pk=ledger.reversed.pk).status == VoucherStatus.REVERSED


def test_the_json_report_of_a_clean_ledger(books, ledger):
    report = json.loads(verify(books, "--format", "json"))

    assert report == {
        "organization": "acme",
        "vouchers_checked": 4,
        "ok": True,
        "last_position": 4,
        "last_hash": ledger.reversal.chain_hash,
        "first_failure": None,
    }


def test_an_organization_that_never_posted_verifies(books):
    assert verify(books).startswith("acme: 0 posted voucher(s) verified")


def test_an_unknown_organization_is_refused_with_the_known_slugs(books):
    with pytest.raises(
        CommandError, match=r"No organization 'nope'\. Known slugs: acme\."
    ) as caught:
        call_command("verify_ledger", "--org", "nope")
    assert caught.value.returncode == 2


# ---------------------------------------------------------------- tampering with one voucher

LINE_INSERT = """
    INSERT INTO accounting_voucherline
        (voucher_id, "order", account_id, debit, credit, description, party_id, data)
    VALUES (%s, %s, %s, %s, %s, '', NULL, '{}')
"""
ROW_INSERT = """
    INSERT INTO accounting_ledgerentry (organization_id, voucher_id, line_order, account_id,
        date, debit, credit, party_id, description)
    VALUES (%s, %s, %s, %s, %s, %s, %s, NULL, '')
"""


def add_pair(books, voucher, *, lines: bool, rows: bool) -> None:
    """A balanced debit and credit of 5.00, as lines 3 and 4 and/or ledger rows."""
    pair = [(3, books.account("5300").pk, "5.00", "0.00"), (4, books.account("1110").pk, "0", "5")]
    for order, account_id, debit, credit in pair:
        amounts = (Decimal(debit), Decimal(credit))
        if lines:
            sql(LINE_INSERT, voucher.pk, order, account_id, *amounts)
        if rows:
            sql(
                ROW_INSERT,
                voucher.organization_id,
                voucher.pk,
                order,
                account_id,
                voucher.date,
                *amounts,
            )


def double_amounts(voucher, *, lines: bool = True, rows: bool = True) -> None:
    for table, wanted in (("accounting_voucherline", lines), ("accounting_ledgerentry", rows)):
        if wanted:
            sql(
                f"UPDATE {table} SET debit = debit * 2, credit = credit * 2 WHERE voucher_id = %s",
                voucher.pk,
            )


def switch_account(voucher, account_id: int) -> None:
    sql(
        'UPDATE accounting_voucherline SET account_id = %s WHERE voucher_id = %s AND "order" = 1',
        account_id,
        voucher.pk,
    )
    sql(
        "UPDATE accounting_ledgerentry SET account_id = %s"
        " WHERE voucher_id = %s AND line_order = 1",
        account_id,
        voucher.pk,
    )


def test_an_extra_balanced_pair_of_lines_and_ledger_rows_breaks_the_hash(books, ledger):
    guards_off()
    add_pair(books, ledger.approved, lines=True, rows=True)

    assert_names(refused(books), ledger.approved, "hash")


def test_an_extra_balanced_pair_of_ledger_rows_alone_is_named_as_such(books, ledger):
    guards_off()
    add_pair(books, ledger.approved, lines=False, rows=True)

    error = refused(books)

    assert_names(error, ledger.approved, "ledger")
    assert "it has 4 ledger row(s) for 2 line(s)" in str(error)


def test_an_amount_changed_on_both_sides_of_lines_and_ledger_breaks_the_hash(books, ledger):
    guards_off()
    double_amounts(ledger.approved)

    assert_names(refused(books), ledger.approved, "hash")
    assert LedgerEntry.objects.filter(voucher=ledger.approved, debit=Decimal("500.00")).exists()


def test_an_amount_changed_in_the_ledger_only_is_named_at_its_line(books, ledger):
    guards_off()
    double_amounts(ledger.approved, lines=False)

    error = refused(books)

    assert_names(error, ledger.approved, "ledger", line=1)
    assert "its ledger row has debit 500.00 where the line has 250.00" in str(error)


def test_an_account_switched_to_another_of_the_organizations_breaks_the_hash(books, ledger):
    guards_off()
    switch_account(ledger.approved, books.account("5940").pk)

    assert_names(refused(books), ledger.approved, "hash")


def test_an_account_switched_to_another_organizations_is_named_at_its_line(
    books, other_books, ledger
):
    guards_off()
    foreign = other_books.account("5300")
    switch_account(ledger.approved, foreign.pk)

    error = refused(books)

    assert_names(error, ledger.approved, "organization", line=1)
    assert f"its line names account {foreign.pk}, which belongs to another organization" in str(
        error
    )


@pytest.mark.parametrize("column", ["posted_by_id", "approved_by_id", "created_by_id"])
def test_a_changed_stamp_of_who_posted_approved_or_created_breaks_the_hash(books, ledger, column):
    someone_else = books.member()
    guards_off()
    sql(
        f"UPDATE accounting_voucher SET {column} = %s WHERE id = %s",
        someone_else.pk,
        ledger.approved.pk,
    )

    assert_names(refused(books), ledger.approved, "hash")


def test_a_changed_posting_time_breaks_the_hash(books, ledger):
    guards_off()
    later = connection.ops.adapt_datetimefield_value(
        ledger.approved.posted_at + timedelta(microseconds=1)
    )
    sql("UPDATE accounting_voucher SET posted_at = %s WHERE id = %s", later, ledger.approved.pk)

    assert_names(refused(books), ledger.approved, "hash")


def test_a_changed_date_of_voucher_and_ledger_rows_breaks_the_hash(books, ledger):
    guards_off()
    sql("UPDATE accounting_voucher SET date = %s WHERE id = %s", date(2026, 3, 1), ledger.first.pk)
    sql(
        "UPDATE accounting_ledgerentry SET date = %s WHERE voucher_id = %s",
        date(2026, 3, 1),
        ledger.first.pk,
    )

    assert_names(refused(books), ledger.first, "hash")


def test_the_json_report_names_the_first_failure(books, ledger):
    guards_off()
    double_amounts(ledger.reversal)
    double_amounts(ledger.approved, lines=False)

    out = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("verify_ledger", "--org", "acme", "--format", "json", stdout=out)

    assert caught.value.returncode == 1
    report = json.loads(out.getvalue())
    assert (report["ok"], report["vouchers_checked"]) == (False, 2)
    assert (report["last_position"], report["last_hash"]) == (1, ledger.first.chain_hash)
    assert report["first_failure"] == {
        "check": "ledger",
        "reason": "its ledger row has debit 500.00 where the line has 250.00",
        "voucher_id": ledger.approved.pk,
        "number": "PV-2026-00001",
        "position": 2,
        "line": 1,
    }


# ---------------------------------------------------------------- tampering with the chain


def rehash(voucher: Voucher, previous: str) -> str:
    """Gives a stored voucher the hash its rows have now, as someone covering tracks would."""
    stored = Voucher.objects.get(pk=voucher.pk)
    rows = LedgerEntry.objects.filter(voucher=stored).values_list(
        "id", "line_order", "account_id", "debit", "credit", "party_id", "description"
    )
    content = ChainContent.of(stored, ledger_rows_in_order(rows))
    fresh = chain_hash(content, position=stored.chain_position, previous=previous)
    sql(
        "UPDATE accounting_voucher SET chain_previous = %s, chain_hash = %s WHERE id = %s",
        previous,
        fresh,
        stored.pk,
    )
    return fresh


def test_a_voucher_rewritten_with_a_fresh_hash_breaks_the_next_link(books, ledger):
    guards_off()
    target = ledger.approved
    sql("UPDATE accounting_voucher SET posted_by_id = %s WHERE id = %s", ledger.clerk.pk, target.pk)
    fresh = rehash(target, previous=ledger.first.chain_hash)

    error = refused(books)

    assert_names(error, ledger.reversed, "link")
    assert f"the voucher before it ({target.number}) now has {fresh[:16]}" in str(error)


def rewrite_chain_from_the_second_voucher(books, ledger) -> None:
    """posted_by of the second voucher changed, and every hash from it on recomputed."""
    guards_off()
    sql(
        "UPDATE accounting_voucher SET posted_by_id = %s WHERE id = %s",
        ledger.clerk.pk,
        ledger.approved.pk,
    )
    previous = ledger.first.chain_hash
    for voucher in (ledger.approved, ledger.reversed, ledger.reversal):
        previous = rehash(voucher, previous)
    LedgerChainHead.objects.filter(organization=books.organization).update(last_hash=previous)


def test_a_chain_rewritten_to_the_end_is_caught_only_against_an_anchor(books, ledger):
    anchor = f"4:{ledger.reversal.chain_hash}"
    assert verify(books, "--anchor", anchor).startswith("acme: 4 posted voucher(s) verified")
    rewrite_chain_from_the_second_voucher(books, ledger)
    assert verify(books).startswith("acme: 4 posted voucher(s) verified")  # consistent

    with pytest.raises(CommandError) as caught:
        verify(books, "--anchor", anchor)

    assert_names(caught.value, ledger.reversal, "anchor")
    assert f"where the anchor recorded {ledger.reversal.chain_hash[:16]}" in str(caught.value)


def test_an_anchor_past_the_end_of_the_chain_is_caught(books, ledger):
    with pytest.raises(CommandError) as caught:
        verify(books, "--anchor", f"5:{'a' * 64}")

    assert caught.value.returncode == 1
    assert "the organization's chain fails the anchor check: the chain ends at place 4" in str(
        caught.value
    )


@pytest.mark.parametrize("anchor", ["4", "4:xyz", f"four:{'a' * 64}"])
def test_an_anchor_not_in_position_hash_form_is_refused(books, anchor):
    with pytest.raises(CommandError, match="is not POSITION:HASH") as caught:
        verify(books, "--anchor", anchor)
    assert caught.value.returncode == 2


def test_a_posted_voucher_turned_back_into_a_draft_is_caught(books, ledger):
    guards_off()
    sql("UPDATE accounting_voucher SET status = 'draft' WHERE id = %s", ledger.approved.pk)

    assert_names(refused(books), ledger.approved, "chain")


def remove(voucher) -> None:
    for table, key in (
        ("accounting_ledgerentry", "voucher_id"),
        ("accounting_voucherline", "voucher_id"),
        ("accounting_voucher", "id"),
    ):
        sql(f"DELETE FROM {table} WHERE {key} = %s", voucher.pk)


def test_a_voucher_removed_from_the_middle_leaves_a_gap(books, ledger):
    guards_off()
    remove(ledger.approved)

    error = refused(books)

    assert_names(error, ledger.reversed, "chain")
    assert "it holds place 3 where place 2 was expected" in str(error)


def test_the_last_voucher_removed_is_caught_by_the_head(books, ledger):
    guards_off()
    remove(ledger.reversal)

    error = refused(books)

    assert_names(error, ledger.reversed, "head")
    assert "the chain head is at place 4" in str(error)
    assert "but the chain ends at place 3" in str(error)


def test_a_head_moved_back_is_caught(books, ledger):
    LedgerChainHead.objects.filter(organization=books.organization).update(
        last_position=3, last_hash=ledger.reversed.chain_hash
    )

    error = refused(books)

    assert_names(error, ledger.reversal, "head")
    assert "beyond the chain head (3)" in str(error)


def test_a_voucher_posted_around_the_posting_service_is_caught(books, ledger):
    forged = Voucher.objects.create(
        organization=books.organization,
        voucher_type=books.types["JV"],
        fiscal_year=books.fiscal_year,
        sequence=99,
        number="JV-2026-00099",
        date=date(2026, 3, 15),
        status=VoucherStatus.POSTED,
    )

    error = refused(books)

    assert error.returncode == 1
    assert f"voucher JV-2026-00099 (id {forged.pk}) fails the unchained check" in str(error)


def test_ledger_rows_of_a_draft_are_caught_as_stray(books, ledger):
    draft = Voucher.objects.get(organization=books.organization, status=VoucherStatus.DRAFT)
    with transaction.atomic():
        add_pair(books, draft, lines=False, rows=True)

    error = refused(books)

    assert f"voucher (no number) (id {draft.pk}) fails the stray check" in str(error)


def test_tampering_with_one_organization_leaves_the_others_verified(books, other_books, ledger):
    guards_off()
    double_amounts(ledger.approved)

    refused(books)
    assert verify(other_books).startswith("rival: 1 posted voucher(s) verified")


# ---------------------------------------------------------------- reading in chunks


@pytest.mark.parametrize("count", [3, 30])
def test_verifying_takes_the_same_queries_for_3_and_30_vouchers(
    books, django_assert_num_queries, count
):
    for _ in range(count):
        post(books, ("5200", "1.00", ""), ("1120", "", "1.00"))
    # Head, vouchers, their lines, their ledger rows, beyond the head, unchained, stray.
    with django_assert_num_queries(7):
        report = ledger_verify(organization=books.organization)
    assert (report.ok, report.vouchers_checked) == (True, count)


def test_the_chain_is_read_in_chunks_and_a_failure_in_a_later_chunk_is_found(
    books, monkeypatch, django_assert_num_queries
):
    vouchers = [post(books, ("5200", "1.00", ""), ("1120", "", "1.00")) for _ in range(5)]
    monkeypatch.setattr(verification, "CHUNK", 2)
    with django_assert_num_queries(13):  # three chunks of three queries, and four
        assert ledger_verify(organization=books.organization).ok

    guards_off()
    double_amounts(vouchers[4])
    report = ledger_verify(organization=books.organization)
    assert report.first_failure is not None
    assert (report.first_failure.voucher_id, report.first_failure.check) == (vouchers[4].pk, "hash")
    assert (report.vouchers_checked, report.last_position) == (5, 4)


def test_vouchers_posted_while_verifying_are_left_for_the_next_run(books, monkeypatch):
    first = post(books, ("5200", "1.00", ""), ("1120", "", "1.00"))
    post(books, ("5200", "2.00", ""), ("1120", "", "2.00"))
    heads = iter([(1, first.chain_hash)])
    read_head = verification._head_of
    # The head as it was before the second voucher was posted, then as it is.
    monkeypatch.setattr(
        verification, "_head_of", lambda organization: next(heads, None) or read_head(organization)
    )

    report = ledger_verify(organization=books.organization)

    assert (report.ok, report.vouchers_checked, report.last_position) == (True, 1, 1)
