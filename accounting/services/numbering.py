"""Gapless voucher numbers per organization, voucher type and fiscal year."""

from __future__ import annotations

from functools import cache

from django.db import IntegrityError, connection, transaction

from accounting.models import FiscalYear, VoucherSequence, VoucherType


def sequences_ensure(*, fiscal_years: list[FiscalYear], voucher_types: list[VoucherType]) -> None:
    """Creates the counter rows up front so posting only ever locks an existing row."""
    VoucherSequence.objects.bulk_create(
        [
            VoucherSequence(organization_id=vt.organization_id, voucher_type=vt, fiscal_year=fy)
            for fy in fiscal_years
            for vt in voucher_types
            if fy.organization_id == vt.organization_id
        ],
        ignore_conflicts=True,
    )


@cache
def _increment_sql() -> str:
    table = connection.ops.quote_name(VoucherSequence._meta.db_table)
    return (
        f"UPDATE {table} SET last_value = last_value + 1"
        " WHERE organization_id = %s AND voucher_type_id = %s AND fiscal_year_id = %s"
        " RETURNING last_value"
    )


def _increment(*, organization_id: int, voucher_type_id: int, fiscal_year_id: int) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(_increment_sql(), [organization_id, voucher_type_id, fiscal_year_id])
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def number_take(*, voucher_type: VoucherType, fiscal_year: FiscalYear) -> tuple[int, str]:
    """Takes the next number inside the caller's transaction.

    One statement, `UPDATE … SET last_value = last_value + 1 … RETURNING last_value`, locks the
    counter row and reads the new value: the row lock is the one `SELECT … FOR UPDATE` takes,
    without a second round trip. A concurrent poster of the same series waits on that lock until
    this transaction ends and then increments the committed value; if this transaction rolls
    back, the number is given again, so there is never a gap. (SQLite has no row locks: its
    IMMEDIATE transactions, see settings, let one writer in at a time.)
    """
    assert transaction.get_connection().in_atomic_block, "number_take needs a transaction"
    series = {
        "organization_id": voucher_type.organization_id,
        "voucher_type_id": voucher_type.pk,
        "fiscal_year_id": fiscal_year.pk,
    }
    value = _increment(**series)
    if value is None:
        # Counter rows are made with the fiscal year (sequences_ensure); a voucher type added
        # later gets its row on first use.
        try:
            with transaction.atomic():
                VoucherSequence.objects.create(**series)
        except IntegrityError:
            pass  # created by a concurrent poster a moment ago
        value = _increment(**series)
        assert value is not None
    number = voucher_type.format_number(fiscal_year_code=fiscal_year.code, sequence=value)
    return value, number
