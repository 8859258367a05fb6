"""Setting up books: organizations with their standard voucher types, fiscal years, members."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from simple_history.utils import bulk_create_with_history

from accounting.models import (
    AccountingPeriod,
    FiscalYear,
    LedgerChainHead,
    Membership,
    Organization,
    Role,
    VoucherType,
)
from accounting.services.history import NO_STAMP, HistoryStamp, history_user
from accounting.services.numbering import sequences_ensure

# The eight standard voucher types every organization starts with: code, name, numbering.
STANDARD_VOUCHER_TYPES = [
    ("JV", "Journal", "JV-{fy}-{seq:05}"),
    ("PV", "Payment", "PV-{fy}-{seq:05}"),
    ("RV", "Receipt", "RV-{fy}-{seq:05}"),
    ("CV", "Contra", "CV-{fy}-{seq:05}"),
    ("SV", "Sales", "SV-{fy}-{seq:05}"),
    ("PU", "Purchase", "PU-{fy}-{seq:05}"),
    ("DN", "Debit note", "DN-{fy}-{seq:05}"),
    ("CN", "Credit note", "CN-{fy}-{seq:05}"),
]


@transaction.atomic
def organization_create(
    *, slug: str, name: str, base_currency: str = "USD", stamp: HistoryStamp = NO_STAMP
) -> Organization:
    """The organization with its standard voucher types, their history rows carrying `stamp`."""
    organization = Organization(slug=slug, name=name, base_currency=base_currency.upper())
    organization.full_clean()
    stamp.apply(organization).save()
    LedgerChainHead.objects.create(organization=organization)
    bulk_create_with_history(
        [
            VoucherType(
                organization=organization, code=code, name=type_name, numbering_pattern=pattern
            )
            for code, type_name, pattern in STANDARD_VOUCHER_TYPES
        ],
        VoucherType,
        default_user=history_user(stamp.user),
        default_change_reason=stamp.reason,
    )
    return organization


def month_ranges(start: date, end: date) -> list[tuple[date, date]]:
    """Calendar-month periods from start to end; the first and last may be partial."""
    ranges = []
    current = start
    while current <= end:
        last_day = date(
            current.year, current.month, calendar.monthrange(current.year, current.month)[1]
        )
        ranges.append((current, min(last_day, end)))
        current = last_day + timedelta(days=1)
    return ranges


@transaction.atomic
def fiscal_year_create(
    *, organization: Organization, start: date, end: date, code: str | None = None
) -> FiscalYear:
    """A fiscal year with open monthly periods; refused if it overlaps another year."""
    if end <= start:
        raise ValidationError("The fiscal year must end after it starts.")
    if (end - start).days > 400:
        raise ValidationError("A fiscal year cannot be longer than 400 days.")
    overlapping = FiscalYear.objects.filter(
        organization=organization, start_date__lte=end, end_date__gte=start
    ).first()
    if overlapping is not None:
        raise ValidationError(
            f"{start}–{end} overlaps {overlapping} "
            f"({overlapping.start_date}–{overlapping.end_date})."
        )
    if code is None:
        code = str(start.year) if start.year == end.year else f"{start.year}-{end.year % 100:02d}"
    fiscal_year = FiscalYear.objects.create(
        organization=organization, code=code, start_date=start, end_date=end
    )
    for number, (period_start, period_end) in enumerate(month_ranges(start, end), start=1):
        AccountingPeriod.objects.create(
            fiscal_year=fiscal_year, number=number, start_date=period_start, end_date=period_end
        )
    sequences_ensure(
        fiscal_years=[fiscal_year], voucher_types=list(organization.voucher_types.all())
    )
    return fiscal_year


def period_set_closed(*, period: AccountingPeriod, closed: bool) -> AccountingPeriod:
    period.is_closed = closed
    period.save(update_fields=["is_closed"])
    return period


@transaction.atomic
def membership_grant(
    *,
    user: AbstractBaseUser,
    organization: Organization,
    role: str = Role.CLERK,
    stamp: HistoryStamp = NO_STAMP,
) -> Membership:
    """Makes `user` a member with `role`, or gives an existing member that role; the history
    row of the change carries `stamp`. A member who already has the role is left as is."""
    membership = (
        Membership.objects.select_for_update()
        .filter(user_id=user.pk, organization=organization)
        .first()
    ) or Membership(user_id=user.pk, organization=organization)
    if membership.pk is not None and membership.role == role:
        return membership
    membership.role = role
    stamp.apply(membership).save()
    return membership
