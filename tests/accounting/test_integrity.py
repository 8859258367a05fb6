"""The database's own guards: even raw SQL cannot unbalance or rewrite the books."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from accounting.models import LedgerEntry, Voucher, VoucherLine, VoucherStatus
from accounting.services.posting import voucher_create_posted

INSERT_ENTRY = """
    INSERT INTO accounting_ledgerentry
        (organization_id, voucher_id, line_order, account_id, date, debit, credit, description)
    VALUES (%s, %s, %s, %s, %s, %s, %s, '')
"""


# Tests that commit for real, as the deferred trigger only fires at commit.
committing = pytest.mark.django_db(transaction=True)


@pytest.fixture
def posted(books) -> Voucher:
    return voucher_create_posted(
        organization=books.organization,
        voucher_input=books.entry(("5200", "10.00", ""), ("1120", "", "10.00")),
    )


def insert_entry(voucher: Voucher, account_id: int, debit: str, credit: str, order: int = 9):
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT_ENTRY,
            [
                voucher.organization_id,
                voucher.pk,
                order,
                account_id,
                voucher.date,
                Decimal(debit),
                Decimal(credit),
            ],
        )


def refused(sql: str, params: list[object] | None = None) -> str:
    """Runs one statement in a savepoint and returns the database's refusal."""
    with pytest.raises(DatabaseError) as caught, transaction.atomic(), connection.cursor() as c:
        c.execute(sql, params)
    return str(caught.value)


# ---------------------------------------------------------------- the balance, at commit


@pytest.mark.postgres
@committing
def test_an_unbalanced_raw_insert_is_refused_when_the_transaction_commits(books, posted):
    account_id = books.account("5300").pk
    with (
        pytest.raises(
            IntegrityError, match=f"ledger entries of voucher {posted.pk} do not balance"
        ),
        transaction.atomic(),
    ):
        insert_entry(posted, account_id, "5.00", "0.00")
        # The trigger is deferred: the row goes in, and the commit is what is refused.
        assert LedgerEntry.objects.filter(voucher=posted).count() == 3
    assert LedgerEntry.objects.filter(voucher=posted).count() == 2


@pytest.mark.postgres
@committing
def test_a_balanced_raw_insert_commits(books, posted):
    with transaction.atomic():
        insert_entry(posted, books.account("5300").pk, "5.00", "0.00", order=3)
        insert_entry(posted, books.account("1110").pk, "0.00", "5.00", order=4)
    assert LedgerEntry.objects.filter(voucher=posted).count() == 4


@pytest.mark.postgres
@committing
def test_rows_added_after_an_early_check_are_checked_again(books, posted):
    with (
        pytest.raises(IntegrityError, match="do not balance"),
        transaction.atomic(),
    ):
        insert_entry(posted, books.account("5300").pk, "5.00", "0.00", order=3)
        insert_entry(posted, books.account("1110").pk, "0.00", "5.00", order=4)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # checked now: balanced
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        insert_entry(posted, books.account("5300").pk, "1.00", "0.00", order=5)
    assert LedgerEntry.objects.filter(voucher=posted).count() == 2


@pytest.mark.postgres
@committing
def test_an_unbalanced_insert_from_another_connection_is_refused_too(books, posted):
    import psycopg

    settings = connection.settings_dict
    with (
        psycopg.connect(
            dbname=settings["NAME"],
            user=settings["USER"],
            host=settings["HOST"],
            port=settings["PORT"] or None,
            password=settings["PASSWORD"] or None,
        ) as other,
        pytest.raises(psycopg.errors.CheckViolation, match="do not balance"),
    ):
        other.execute(
            INSERT_ENTRY,
            [
                posted.organization_id,
                posted.pk,
                9,
                books.account("5300").pk,
                posted.date,
                Decimal("0.01"),
                Decimal("0"),
            ],
        )
        other.commit()
    assert LedgerEntry.objects.filter(voucher=posted).count() == 2


@pytest.mark.postgres
@committing
@pytest.mark.parametrize("setting_first", [False, True], ids=["set-before-commit", "set-first"])
def test_no_session_setting_switches_the_balance_check_off(books, posted, setting_first):
    def claim_balanced():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('accounting.balanced_voucher', %s, true)", [str(posted.pk)]
            )

    with (
        pytest.raises(
            IntegrityError, match=f"ledger entries of voucher {posted.pk} do not balance"
        ),
        transaction.atomic(),
    ):
        if setting_first:
            claim_balanced()
        insert_entry(posted, books.account("5300").pk, "5.00", "0.00")
        if not setting_first:
            claim_balanced()
    assert LedgerEntry.objects.filter(voucher=posted).count() == 2


@pytest.mark.postgres
@committing
def test_replica_mode_does_not_switch_the_balance_check_off(books, posted):
    # session_replication_role = replica silences ordinary triggers; the balance triggers are
    # ENABLE ALWAYS.
    with pytest.raises(IntegrityError, match="do not balance"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
        insert_entry(posted, books.account("5300").pk, "5.00", "0.00")
    assert LedgerEntry.objects.filter(voucher=posted).count() == 2


@pytest.mark.postgres
@committing
def test_an_unbalancing_update_past_the_edit_guard_is_refused_at_commit(books, posted):
    with (
        pytest.raises(IntegrityError, match="do not balance"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "UPDATE accounting_ledgerentry SET debit = debit + 1"
            " WHERE voucher_id = %s AND debit > 0",
            [posted.pk],
        )
    assert sorted(LedgerEntry.objects.values_list("debit", flat=True)) == [
        Decimal("0.00"),
        Decimal("10.00"),
    ]


@pytest.mark.postgres
@committing
def test_an_unbalancing_delete_past_the_edit_guard_is_refused_at_commit(posted):
    with (
        pytest.raises(IntegrityError, match="do not balance"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "DELETE FROM accounting_ledgerentry WHERE voucher_id = %s AND debit > 0", [posted.pk]
        )
    assert LedgerEntry.objects.filter(voucher=posted).count() == 2


@pytest.mark.postgres
@committing
def test_clearing_the_vouchers_due_for_a_check_does_not_skip_it(books, posted):
    with pytest.raises(IntegrityError, match="do not balance"), transaction.atomic():
        insert_entry(posted, books.account("5300").pk, "5.00", "0.00")
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM accounting_ledger_balance_due")
    assert LedgerEntry.objects.filter(voucher=posted).count() == 2


@pytest.mark.postgres
@committing
def test_each_voucher_is_checked_once_per_statement_and_nothing_is_left_due(books, posted):
    with transaction.atomic():
        insert_entry(posted, books.account("5300").pk, "5.00", "0.00", order=3)
        insert_entry(posted, books.account("1110").pk, "0.00", "5.00", order=4)
        with connection.cursor() as cursor:
            cursor.execute("SELECT voucher_id FROM accounting_ledger_balance_due")
            assert cursor.fetchall() == [(posted.pk,), (posted.pk,)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM accounting_ledger_balance_due")
        assert cursor.fetchone() == (0,)
    assert LedgerEntry.objects.filter(voucher=posted).count() == 4


# ---------------------------------------------------------------- the guards are in place


def test_the_guards_are_installed(db):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgrelid::regclass::text, tgname, tgenabled FROM pg_trigger"
                " WHERE NOT tgisinternal AND tgname LIKE 'accounting%%'"
            )
        else:
            cursor.execute("SELECT tbl_name, name, 'O' FROM sqlite_master WHERE type = 'trigger'")
        triggers = set(cursor.fetchall())
    guards = {
        ("accounting_ledgerentry", "accounting_ledger_immutable", "O"),
        ("accounting_voucher", "accounting_posted_voucher_immutable", "O"),
        ("accounting_voucherline", "accounting_posted_line_immutable", "O"),
    }
    if connection.vendor == "postgresql":
        guards |= {  # "A": enabled always, even for a session in replica mode
            ("accounting_ledgerentry", "accounting_ledger_balance_due_insert", "A"),
            ("accounting_ledgerentry", "accounting_ledger_balance_due_update", "A"),
            ("accounting_ledgerentry", "accounting_ledger_balance_due_delete", "A"),
            ("accounting_ledger_balance_due", "accounting_ledger_balanced", "A"),
            # What posting checks moves the organization's facts version on (migration 0011).
            ("accounting_account", "accounting_posting_facts_account", "A"),
            ("accounting_account", "accounting_posting_facts_account_truncated", "A"),
            ("accounting_fiscalyear", "accounting_posting_facts_fiscal_year", "A"),
            ("accounting_fiscalyear", "accounting_posting_facts_fiscal_year_truncated", "A"),
            ("accounting_accountingperiod", "accounting_posting_facts_period", "A"),
            ("accounting_accountingperiod", "accounting_posting_facts_period_truncated", "A"),
        }
    assert triggers == guards


# ---------------------------------------------------------------- rewriting posted rows


def test_a_raw_update_of_a_ledger_entry_is_refused(posted):
    message = refused("UPDATE accounting_ledgerentry SET debit = debit + 1 WHERE debit > 0")
    assert "ledger entries cannot be changed" in message
    assert sorted(LedgerEntry.objects.values_list("debit", flat=True)) == [
        Decimal("0.00"),
        Decimal("10.00"),
    ]


@pytest.mark.postgres
def test_a_raw_delete_of_a_ledger_entry_is_refused(posted):
    assert "ledger entries cannot be changed or deleted" in refused(
        "DELETE FROM accounting_ledgerentry"
    )
    assert LedgerEntry.objects.count() == 2


@pytest.mark.parametrize(
    "assignment",
    ["number = 'JV-2026-99999'", "date = '2026-04-01'", "narration = 'rewritten'"],
)
def test_a_raw_update_of_a_posted_voucher_is_refused(posted, assignment):
    message = refused(f"UPDATE accounting_voucher SET {assignment} WHERE id = %s", [posted.pk])
    assert "posted voucher" in message and "cannot be changed" in message
    assert Voucher.objects.get(pk=posted.pk).number == "JV-2026-00001"


def test_a_raw_update_of_a_posted_voucher_line_amount_is_refused(posted):
    message = refused(
        "UPDATE accounting_voucherline SET debit = 99, credit = 0 WHERE voucher_id = %s",
        [posted.pk],
    )
    assert "lines of a posted voucher cannot be changed" in message
    assert VoucherLine.objects.filter(voucher=posted, debit=99).count() == 0


def test_marking_a_posted_voucher_reversed_is_the_one_change_allowed(posted):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounting_voucher SET status = 'reversed' WHERE id = %s", [posted.pk]
        )
    assert Voucher.objects.get(pk=posted.pk).status == VoucherStatus.REVERSED


# ---------------------------------------------------------------- CHECK constraints


@pytest.mark.parametrize(
    ("debit", "credit", "constraint"),
    [
        pytest.param("-5.00", "0.00", "ledger_amounts_not_negative", id="negative"),
        pytest.param("5.00", "5.00", "ledger_exactly_one_side", id="both-sides"),
        pytest.param("0.00", "0.00", "ledger_exactly_one_side", id="neither-side"),
    ],
)
def test_check_constraints_refuse_malformed_ledger_rows(books, posted, debit, credit, constraint):
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        insert_entry(posted, books.account("5300").pk, debit, credit)
    assert LedgerEntry.objects.filter(voucher=posted).count() == 2
