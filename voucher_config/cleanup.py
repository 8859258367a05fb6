"""Removing drafts entered through the configuration-driven UI, after a rollback."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import Count, QuerySet

from accounting.models import EDITABLE_STATUSES, EntryChannel, Organization, Voucher, VoucherStatus


@dataclass(frozen=True)
class CleanupCandidate:
    voucher_id: int
    organization: str
    voucher_type: str
    date: date
    status: str
    lines: int
    created_by: str


def config_drafts(
    *, before: date | None = None, organization: Organization | None = None
) -> QuerySet[Voucher]:
    """Unposted vouchers entered through the configuration UI; never a posted one."""
    queryset = Voucher.objects.filter(
        entry_channel=EntryChannel.CONFIG,
        status__in=[*EDITABLE_STATUSES, VoucherStatus.CANCELLED],
        number__isnull=True,
    )
    if before is not None:
        queryset = queryset.filter(created_at__date__lt=before)
    if organization is not None:
        queryset = queryset.filter(organization=organization)
    return queryset


def cleanup_candidates(
    *, before: date | None = None, organization: Organization | None = None
) -> list[CleanupCandidate]:
    rows = (
        config_drafts(before=before, organization=organization)
        .annotate(line_count=Count("lines"))
        .select_related("organization", "voucher_type", "created_by")
        .order_by("organization__slug", "id")
    )
    return [
        CleanupCandidate(
            voucher_id=v.pk,
            organization=v.organization.slug,
            voucher_type=v.voucher_type.code,
            date=v.date,
            status=v.status,
            lines=v.line_count,  # type: ignore[attr-defined]
            created_by=str(v.created_by or "—"),
        )
        for v in rows
    ]


@transaction.atomic
def config_drafts_delete(*, voucher_ids: list[int]) -> int:
    """Deletes the given config-channel drafts one by one, so each deletion (the voucher's and,
    by cascade, its lines') is recorded in the history."""
    deleted = 0
    for voucher in config_drafts().filter(pk__in=voucher_ids).select_for_update():
        voucher.delete()
        deleted += 1
    return deleted
