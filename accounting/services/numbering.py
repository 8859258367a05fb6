"""Gapless voucher numbers per organization, voucher type and fiscal year."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from string import Formatter

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


@dataclass(frozen=True)
class NumberParts:
    """A series' numbers as the text around a zero-padded sequence: prefix, digits, suffix."""

    prefix: str
    width: int
    suffix: str

    def format(self, sequence: int) -> str:
        digits = f"{sequence:0{self.width}d}" if self.width else str(sequence)
        return f"{self.prefix}{digits}{self.suffix}"


# The sequence's format specs that are plain digits, zero-padded or not: "", "d", "05d", "05".
_PLAIN_DIGITS = re.compile(r"(?:0(?P<width>\d+))?d?")


@lru_cache(maxsize=256)
def number_parts(pattern: str, fiscal_year_code: str) -> NumberParts | None:
    """A series' numbers as `NumberParts`, when its pattern puts `{seq}` once as plain or
    zero-padded digits (`PV-{fy}-{seq:05d}`), so that the database can write the number where
    it takes the sequence; None for any other pattern."""
    formatter = Formatter()
    before: list[str] = []
    after: list[str] = []
    width: int | None = None
    try:
        for literal, field, spec, conversion in formatter.parse(pattern):
            (before if width is None else after).append(literal)
            if field is None:
                continue
            if field == "seq":
                plain = _PLAIN_DIGITS.fullmatch(spec or "")
                if width is not None or conversion or plain is None:
                    return None
                width = int(plain.group("width") or 0)
            elif field == "fy" and "{" not in (spec or ""):
                value = formatter.convert_field(fiscal_year_code, conversion)
                (before if width is None else after).append(
                    formatter.format_field(value, spec or "")
                )
            else:
                return None
    except (ValueError, TypeError):
        return None
    if width is None:
        return None
    parts = NumberParts(prefix="".join(before), width=width, suffix="".join(after))
    for sample in (1, 42, 123_456_789):
        if parts.format(sample) != pattern.format(fy=fiscal_year_code, seq=sample):
            return None
    return parts
