"""Recording parallel-run metrics: counters, histogram observations and active-user marks.

The rollout router records around every entry request (`metric_count`, `metric_observe`,
`user_active_mark`); the browser beacon adds its load time and HTMX errors. Rows are aggregated
per minute and label set. Events are first added up in this process's memory and written at most
every VOUCHER_METRICS_FLUSH_SECONDS (at the end of a request, and when the process exits), one
UPDATE per label set and minute, so a page view writes nothing; whoever reads the rows calls
`metrics_flush` first. With the setting at 0 every event is written at once.
Every event is recorded under the request's organization (none when the user has none).
"""

from __future__ import annotations

import atexit
import bisect
import logging
import math
import threading
import time
from datetime import UTC, date, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import DatabaseError, IntegrityError, close_old_connections, transaction
from django.db.models import F
from django.utils import timezone

from accounting.models import EntryChannel, Organization
from rollout.models import ChannelUserDay, MetricMinute, MetricName

logger = logging.getLogger(__name__)

# The two UIs the parallel run compares, in the order the dashboard shows them.
UI_CHANNELS: tuple[str, ...] = (EntryChannel.LEGACY, EntryChannel.CONFIG)
# Any entry channel may be counted; "" is for events that belong to no channel (a DB outage).
CHANNELS = frozenset({*EntryChannel.values, ""})

COUNTERS = frozenset(
    {
        MetricName.VOUCHER_CREATED,
        MetricName.VOUCHER_POSTED,
        MetricName.POST_FAILED,
        MetricName.HTMX_ERROR,
        MetricName.FALLBACK,
        MetricName.DB_ERROR,
    }
)
INF = MetricMinute.INF_BUCKET
LOAD_BUCKETS_MS: tuple[int, ...] = (25, 50, 100, 250, 500, 1000, 2000, 5000, 10000, INF)
SESSION_BUCKETS_MS: tuple[int, ...] = (
    10_000,
    30_000,
    60_000,
    120_000,
    300_000,
    600_000,
    1_800_000,
    3_600_000,
    INF,
)
HISTOGRAMS: dict[str, tuple[int, ...]] = {
    MetricName.FORM_LOAD_MS: LOAD_BUCKETS_MS,
    MetricName.BROWSER_LOAD_MS: LOAD_BUCKETS_MS,
    MetricName.SESSION_MS: SESSION_BUCKETS_MS,
}

REASON_MAX_LENGTH = MetricMinute._meta.get_field("reason").max_length or 100
TYPE_MAX_LENGTH = MetricMinute._meta.get_field("voucher_type").max_length or 10

SETTINGS_DEFAULTS: dict[str, Any] = {
    "VOUCHER_METRICS_TOKEN": "",
    "VOUCHER_METRICS_FLUSH_SECONDS": 5,
    "VOUCHER_METRICS_RETENTION_DAYS": 90,
    "VOUCHER_METRICS_BEACONS_PER_MINUTE": 30,
    "VOUCHER_HEALTH_WINDOW": "1h",
    "VOUCHER_HEALTH_POST_FAILURE_RATE": 0.05,
    "VOUCHER_HEALTH_MIN_POSTS": 20,
    "VOUCHER_HEALTH_FORM_LOAD_P95_MS": 5000,
    "VOUCHER_HEALTH_MIN_LOADS": 20,
    "VOUCHER_HEALTH_HTMX_ERRORS_MAX": 10,
    "VOUCHER_HEALTH_HTMX_SERVER_ERRORS_MAX": 3,
    "VOUCHER_HEALTH_DB_ERRORS_MAX": 0,
    "VOUCHER_HEALTH_NO_GO_SLOWDOWN": 0.20,
}


def metrics_setting(name: str) -> Any:
    """A VOUCHER_METRICS_* / VOUCHER_HEALTH_* setting, or its default when the site omits it."""
    return getattr(settings, name, SETTINGS_DEFAULTS[name])


def minute_of(at: datetime | None = None) -> datetime:
    """The UTC minute an event belongs to."""
    moment = at or timezone.now()
    if timezone.is_naive(moment):
        raise ValueError("Metric times must be timezone-aware.")
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def _labels(
    *, name: str, channel: str, voucher_type: str, reason: str, organization: Organization | None
) -> dict[str, Any]:
    if name not in MetricName.values:
        raise ValueError(f"Unknown metric '{name}'; known: {', '.join(MetricName.values)}.")
    if channel not in CHANNELS:
        raise ValueError(f"Unknown channel '{channel}'; known: {', '.join(sorted(CHANNELS))}.")
    if len(voucher_type) > TYPE_MAX_LENGTH:
        raise ValueError(f"Voucher type code '{voucher_type}' is longer than {TYPE_MAX_LENGTH}.")
    return {
        "organization_id": organization.pk if organization is not None else None,
        "name": name,
        "channel": channel,
        "voucher_type": voucher_type,
        "reason": " ".join(reason.split())[:REASON_MAX_LENGTH],
    }


def minute_row_add(*, key: dict[str, Any], count: int, total: float) -> None:
    """Adds to one minute row: an UPDATE, and an INSERT only when the row does not exist yet."""
    rows = MetricMinute.objects.filter(**key)
    change = {"count": F("count") + count, "total": F("total") + total}
    if rows.update(**change):
        return
    try:
        with transaction.atomic():
            MetricMinute.objects.create(**key, count=count, total=total)
    except IntegrityError:
        # Another request created the row between our UPDATE and INSERT.
        rows.update(**change)


class PendingMetrics:
    """Counts and totals not yet written, per label set and minute, in this process's memory."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sums: dict[tuple[tuple[str, Any], ...], list[float]] = {}
        self.flushed_at = time.monotonic()

    def add(self, *, key: dict[str, Any], count: int, total: float) -> None:
        with self.lock:
            sums = self.sums.setdefault(tuple(sorted(key.items())), [0, 0.0])
            sums[0] += count
            sums[1] += total

    def take(self) -> dict[tuple[tuple[str, Any], ...], list[float]]:
        with self.lock:
            taken, self.sums = self.sums, {}
            self.flushed_at = time.monotonic()
        return taken

    def due(self) -> bool:
        interval = float(metrics_setting("VOUCHER_METRICS_FLUSH_SECONDS"))
        return bool(self.sums) and time.monotonic() - self.flushed_at >= interval


PENDING = PendingMetrics()


def _write(*, key: dict[str, Any], count: int, total: float) -> None:
    """Metrics must never break voucher entry: a database error is logged, not raised, and the
    savepoint around the write keeps a caller's transaction usable when that happens."""
    try:
        with transaction.atomic():
            minute_row_add(key=key, count=count, total=total)
    except DatabaseError:
        logger.warning("Could not record metric %s", key, exc_info=True)


def metrics_flush() -> int:
    """Writes what this process has added up since the last flush; returns the rows touched."""
    taken = PENDING.take()
    for items, (count, total) in taken.items():
        _write(key=dict(items), count=int(count), total=total)
    return len(taken)


def metrics_flush_if_due(**_: Any) -> None:
    """At the end of a request: a flush when the last one is VOUCHER_METRICS_FLUSH_SECONDS old."""
    if PENDING.due():
        metrics_flush()
        close_old_connections()  # the request's own cleanup has already run


def _flush_at_exit() -> None:
    try:
        metrics_flush()
    except Exception:  # the process is going away; the database may already be gone
        logger.warning("Could not write the last metrics at exit", exc_info=True)


atexit.register(_flush_at_exit)


def _record(*, key: dict[str, Any], count: int, total: float) -> None:
    if float(metrics_setting("VOUCHER_METRICS_FLUSH_SECONDS")) <= 0:
        _write(key=key, count=count, total=total)
    else:
        PENDING.add(key=key, count=count, total=total)


def metric_count(
    *,
    name: str,
    channel: str,
    voucher_type: str = "",
    reason: str = "",
    organization: Organization | None = None,
    at: datetime | None = None,
    amount: int = 1,
) -> None:
    """Counts `amount` events of a counter metric (voucher_created, post_failed, fallback …)."""
    if name not in COUNTERS:
        raise ValueError(f"'{name}' is not a counter; counters: {', '.join(sorted(COUNTERS))}.")
    if amount < 1:
        raise ValueError(f"A metric count must be at least 1, not {amount}.")
    key = _labels(
        name=name,
        channel=channel,
        voucher_type=voucher_type,
        reason=reason,
        organization=organization,
    )
    key.update(minute=minute_of(at), bucket=MetricMinute.COUNTER)
    _record(key=key, count=amount, total=0)


def bucket_for(name: str, value_ms: float) -> int:
    """The upper bound of the histogram bucket a value falls in (bounds are inclusive)."""
    bounds = HISTOGRAMS[name]
    return bounds[min(bisect.bisect_left(bounds, value_ms), len(bounds) - 1)]


def metric_observe(
    *,
    name: str,
    channel: str,
    voucher_type: str = "",
    value_ms: float,
    organization: Organization | None = None,
    at: datetime | None = None,
) -> None:
    """Records one observation of a histogram metric (form_load_ms, browser_load_ms, session_ms)."""
    if name not in HISTOGRAMS:
        raise ValueError(f"'{name}' is not a histogram; histograms: {', '.join(HISTOGRAMS)}.")
    if not math.isfinite(value_ms) or value_ms < 0:
        raise ValueError(f"An observation must be a finite number of ms >= 0, not {value_ms}.")
    key = _labels(
        name=name, channel=channel, voucher_type=voucher_type, reason="", organization=organization
    )
    key.update(minute=minute_of(at), bucket=bucket_for(name, value_ms))
    _record(key=key, count=1, total=value_ms)


def user_active_mark(
    *,
    user: AbstractBaseUser,
    channel: str,
    organization: Organization | None = None,
    day: date | None = None,
) -> None:
    """Marks a user active in an organization on a channel for a day; marking again that day
    changes nothing."""
    if channel not in CHANNELS:
        raise ValueError(f"Unknown channel '{channel}'.")
    mark = ChannelUserDay(
        day=day or timezone.localdate(),
        user_id=user.pk,
        organization_id=organization.pk if organization is not None else None,
        channel=channel,
    )
    try:
        with transaction.atomic():
            ChannelUserDay.objects.bulk_create([mark], ignore_conflicts=True)
    except DatabaseError:
        logger.warning("Could not mark user %s active on %s", user.pk, channel, exc_info=True)
