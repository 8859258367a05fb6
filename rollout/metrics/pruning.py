"""Retention of the parallel-run metrics: old minutes folded into lifetime totals, then deleted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from rollout.metrics.recording import metrics_flush, minute_of, minute_row_add
from rollout.metrics.summary import LABEL_FIELDS
from rollout.models import ChannelUserDay, MetricMinute

# Pruning folds expired minutes into one row per label set at this minute, so lifetime totals
# (the Prometheus counters) never go backwards when old detail is deleted.
ROLLUP_MINUTE = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class PruneResult:
    cutoff: datetime
    metric_rows: int
    user_days: int
    dry_run: bool


def metrics_prune(*, days: int, dry_run: bool = False, now: datetime | None = None) -> PruneResult:
    """Deletes metric minutes and active-user marks older than `days` days.

    The deleted minutes are first added into the lifetime rollup row of their label set, so
    totals since the start (what Prometheus scrapes as counters) stay the same.
    """
    if days < 1:
        raise ValueError(f"Keep at least one day of metrics, not {days}.")
    metrics_flush()
    cutoff = minute_of(now) - timedelta(days=days)
    expired = MetricMinute.objects.filter(minute__lt=cutoff).exclude(minute=ROLLUP_MINUTE)
    old_marks = ChannelUserDay.objects.filter(day__lt=timezone.localdate(cutoff))
    if dry_run:
        return PruneResult(cutoff, expired.count(), old_marks.count(), dry_run=True)
    with transaction.atomic():
        for row in expired.values(*LABEL_FIELDS).annotate(count=Sum("count"), total=Sum("total")):
            key = {name: row[name] for name in LABEL_FIELDS}
            minute_row_add(
                key={**key, "minute": ROLLUP_MINUTE}, count=row["count"], total=row["total"]
            )
        metric_rows, _ = expired.delete()
        user_days, _ = old_marks.delete()
    return PruneResult(cutoff, metric_rows, user_days, dry_run=False)
