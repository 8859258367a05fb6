"""Gapless voucher numbers per organization, voucher type and fiscal year."""

from __future__ import annotations

from django.db import IntegrityError, transaction

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


def number_take(*, voucher_type: VoucherType, fiscal_year: FiscalYear) -> tuple[int, str]:
    """Takes the next number inside the caller's transaction.

    The counter row is locked with SELECT ... FOR UPDATE, so a concurrent poster waits until this
    transaction ends; if it rolls back, the number is given again, so there is never a gap.
    """
    assert transaction.get_connection().in_atomic_block, "number_take needs a transaction"
    series = {
        "organization_id": voucher_type.organization_id,
        "voucher_type": voucher_type,
        "fiscal_year": fiscal_year,
    }
    sequence = VoucherSequence.objects.select_for_update().filter(**series).first()
    if sequence is None:
        try:
            with transaction.atomic():
                VoucherSequence.objects.create(**series)
        except IntegrityError:
            pass  # created by a concurrent poster a moment ago
        sequence = VoucherSequence.objects.select_for_update().get(**series)
    sequence.last_value += 1
    VoucherSequence.objects.filter(pk=sequence.pk).update(last_value=sequence.last_value)
    number = voucher_type.format_number(
        fiscal_year_code=fiscal_year.code, sequence=sequence.last_value
    )
    return sequence.last_value, number
