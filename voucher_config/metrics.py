"""Parallel-run metrics: what each entry channel did, stored per minute, and read back as figures.

The rollout router records around every entry request (`metric_count`, `metric_observe`,
`user_active_mark`); the browser beacon adds its load time and HTMX errors. Rows are aggregated
per minute and label set, so a busy minute costs one UPDATE per event, not one row per event.
The dashboard, /metrics and the health rules all read through `metrics_summary` and
`adoption_series`.
"""

from __future__ import annotations

import bisect
import logging
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounting.models import EntryChannel, Voucher
from voucher_config.models import ChannelUserDay, MetricMinute, MetricName

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

# Pruning folds expired minutes into one row per label set at this minute, so lifetime totals
# (the Prometheus counters) never go backwards when old detail is deleted.
ROLLUP_MINUTE = datetime(1970, 1, 1, tzinfo=UTC)

REASON_MAX_LENGTH = MetricMinute._meta.get_field("reason").max_length or 100
TYPE_MAX_LENGTH = MetricMinute._meta.get_field("voucher_type").max_length or 10

SETTINGS_DEFAULTS: dict[str, Any] = {
    "VOUCHER_METRICS_TOKEN": "",
    "VOUCHER_METRICS_RETENTION_DAYS": 90,
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


# --- recording -------------------------------------------------------------------------------


def minute_of(at: datetime | None = None) -> datetime:
    """The UTC minute an event belongs to."""
    moment = at or timezone.now()
    if timezone.is_naive(moment):
        raise ValueError("Metric times must be timezone-aware.")
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def _labels(*, name: str, channel: str, voucher_type: str, reason: str) -> dict[str, Any]:
    if name not in MetricName.values:
        raise ValueError(f"Unknown metric '{name}'; known: {', '.join(MetricName.values)}.")
    if channel not in CHANNELS:
        raise ValueError(f"Unknown channel '{channel}'; known: {', '.join(sorted(CHANNELS))}.")
    if len(voucher_type) > TYPE_MAX_LENGTH:
        raise ValueError(f"Voucher type code '{voucher_type}' is longer than {TYPE_MAX_LENGTH}.")
    return {
        "name": name,
        "channel": channel,
        "voucher_type": voucher_type,
        "reason": " ".join(reason.split())[:REASON_MAX_LENGTH],
    }


def _add(*, key: dict[str, Any], count: int, total: float) -> None:
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


def _record(*, key: dict[str, Any], count: int, total: float) -> None:
    """Metrics must never break voucher entry: a database error is logged, not raised, and the
    savepoint around the write keeps a caller's transaction usable when that happens."""
    try:
        with transaction.atomic():
            _add(key=key, count=count, total=total)
    except DatabaseError:
        logger.warning("Could not record metric %s", key, exc_info=True)


def metric_count(
    *,
    name: str,
    channel: str,
    voucher_type: str = "",
    reason: str = "",
    at: datetime | None = None,
    amount: int = 1,
) -> None:
    """Counts `amount` events of a counter metric (voucher_created, post_failed, fallback …)."""
    if name not in COUNTERS:
        raise ValueError(f"'{name}' is not a counter; counters: {', '.join(sorted(COUNTERS))}.")
    if amount < 1:
        raise ValueError(f"A metric count must be at least 1, not {amount}.")
    key = _labels(name=name, channel=channel, voucher_type=voucher_type, reason=reason)
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
    at: datetime | None = None,
) -> None:
    """Records one observation of a histogram metric (form_load_ms, browser_load_ms, session_ms)."""
    if name not in HISTOGRAMS:
        raise ValueError(f"'{name}' is not a histogram; histograms: {', '.join(HISTOGRAMS)}.")
    if not math.isfinite(value_ms) or value_ms < 0:
        raise ValueError(f"An observation must be a finite number of ms >= 0, not {value_ms}.")
    key = _labels(name=name, channel=channel, voucher_type=voucher_type, reason="")
    key.update(minute=minute_of(at), bucket=bucket_for(name, value_ms))
    _record(key=key, count=1, total=value_ms)


def user_active_mark(*, user: AbstractBaseUser, channel: str, day: date | None = None) -> None:
    """Marks a user active on a channel for a day; marking again that day changes nothing."""
    if channel not in CHANNELS:
        raise ValueError(f"Unknown channel '{channel}'.")
    mark = ChannelUserDay(day=day or timezone.localdate(), user_id=user.pk, channel=channel)
    try:
        with transaction.atomic():
            ChannelUserDay.objects.bulk_create([mark], ignore_conflicts=True)
    except DatabaseError:
        logger.warning("Could not mark user %s active on %s", user.pk, channel, exc_info=True)


# --- reading ---------------------------------------------------------------------------------


def histogram_quantile(q: float, buckets: Sequence[tuple[float, int]]) -> float | None:
    """Estimates the q-quantile from (upper bound, count) buckets, not cumulated, sorted.

    As Prometheus does: find the bucket holding the q-th observation and interpolate linearly
    inside it; when that is the +Inf bucket, the answer is the largest finite bound (a floor).
    """
    observations = sum(count for _, count in buckets)
    if observations == 0:
        return None
    rank = q * observations
    seen = 0
    lower = 0.0
    for upper, count in buckets:
        if count and seen + count >= rank:
            if math.isinf(upper) or upper >= INF:
                return lower
            return lower + (upper - lower) * (rank - seen) / count
        seen += count
        if not (math.isinf(upper) or upper >= INF):
            lower = float(upper)
    return lower


@dataclass
class Histogram:
    """Observations per bucket upper bound (ms), not cumulated."""

    buckets: Counter[int] = field(default_factory=Counter)
    total: float = 0.0

    @property
    def count(self) -> int:
        return sum(self.buckets.values())

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None

    def add(self, bucket: int, count: int, total: float) -> None:
        self.buckets[bucket] += count
        self.total += total

    def quantile(self, q: float) -> float | None:
        return histogram_quantile(q, sorted(self.buckets.items()))

    def cumulative(self, bounds: Sequence[int]) -> list[tuple[int, int]]:
        """Observations at or below each bound, as Prometheus buckets are."""
        return [(bound, sum(n for b, n in self.buckets.items() if b <= bound)) for bound in bounds]


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class EntryFigures:
    """What one channel did, for one voucher type or (voucher_type "") for all of them."""

    channel: str
    voucher_type: str = ""
    created: int = 0
    posted: int = 0
    failed: int = 0
    htmx_errors: int = 0
    fallbacks: int = 0
    db_errors: int = 0
    failure_reasons: Counter[str] = field(default_factory=Counter)
    htmx_error_reasons: Counter[str] = field(default_factory=Counter)
    fallback_reasons: Counter[str] = field(default_factory=Counter)
    form_load: Histogram = field(default_factory=Histogram)
    browser_load: Histogram = field(default_factory=Histogram)
    session: Histogram = field(default_factory=Histogram)

    @property
    def post_attempts(self) -> int:
        return self.posted + self.failed

    @property
    def success_rate(self) -> float | None:
        return _ratio(self.posted, self.post_attempts)

    @property
    def failure_rate(self) -> float | None:
        return _ratio(self.failed, self.post_attempts)

    @property
    def form_load_p50(self) -> float | None:
        return self.form_load.quantile(0.5)

    @property
    def form_load_p95(self) -> float | None:
        return self.form_load.quantile(0.95)

    @property
    def browser_load_p50(self) -> float | None:
        return self.browser_load.quantile(0.5)

    @property
    def browser_load_p95(self) -> float | None:
        return self.browser_load.quantile(0.95)

    @property
    def session_p50(self) -> float | None:
        return self.session.quantile(0.5)

    @property
    def htmx_server_errors(self) -> int:
        """HTMX errors the server or the network caused (5xx, or status 0: no response)."""
        return sum(n for reason, n in self.htmx_error_reasons.items() if _is_server_error(reason))

    def add(self, *, name: str, reason: str, bucket: int, count: int, total: float) -> None:
        if name == MetricName.VOUCHER_CREATED:
            self.created += count
        elif name == MetricName.VOUCHER_POSTED:
            self.posted += count
        elif name == MetricName.POST_FAILED:
            self.failed += count
            self.failure_reasons[reason] += count
        elif name == MetricName.HTMX_ERROR:
            self.htmx_errors += count
            self.htmx_error_reasons[reason] += count
        elif name == MetricName.FALLBACK:
            self.fallbacks += count
            self.fallback_reasons[reason] += count
        elif name == MetricName.DB_ERROR:
            self.db_errors += count
        elif name == MetricName.FORM_LOAD_MS:
            self.form_load.add(bucket, count, total)
        elif name == MetricName.BROWSER_LOAD_MS:
            self.browser_load.add(bucket, count, total)
        elif name == MetricName.SESSION_MS:
            self.session.add(bucket, count, total)


def htmx_error_reason(*, endpoint: str, status: int) -> str:
    """The reason an HTMX error is counted under: the endpoint's URL name and the status."""
    return f"{endpoint} {status}"


def _is_server_error(reason: str) -> bool:
    status = reason.rsplit(" ", 1)[-1]
    return status.isdigit() and (int(status) == 0 or int(status) >= 500)


@dataclass
class MetricsSummary:
    since: datetime
    until: datetime
    channels: dict[str, EntryFigures] = field(default_factory=dict)
    by_type: dict[tuple[str, str], EntryFigures] = field(default_factory=dict)

    def channel(self, channel: str) -> EntryFigures:
        """The channel's figures over all voucher types (empty figures when it did nothing)."""
        return self.channels.get(channel) or EntryFigures(channel=channel)

    def for_type(self, channel: str, voucher_type: str) -> EntryFigures:
        return self.by_type.get((channel, voucher_type)) or EntryFigures(
            channel=channel, voucher_type=voucher_type
        )

    @property
    def voucher_types(self) -> list[str]:
        return sorted({code for _, code in self.by_type if code})

    @property
    def db_errors(self) -> int:
        return sum(figures.db_errors for figures in self.channels.values())


LABEL_FIELDS = ("name", "channel", "voucher_type", "reason", "bucket")


def aggregated_rows(
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    channel: str | None = None,
    voucher_type: str | None = None,
    names: Iterable[str] | None = None,
) -> list[dict[str, Any]]:
    """Sums of count and total per label set over the minutes in [since, until)."""
    rows = MetricMinute.objects.all()
    if since is not None:
        rows = rows.filter(minute__gte=minute_of(since))
    if until is not None:
        rows = rows.filter(minute__lt=until)
    if channel is not None:
        rows = rows.filter(channel=channel)
    if voucher_type is not None:
        rows = rows.filter(voucher_type=voucher_type)
    if names is not None:
        rows = rows.filter(name__in=list(names))
    return list(
        rows.values(*LABEL_FIELDS)
        .annotate(count=Sum("count"), total=Sum("total"))
        .order_by(*LABEL_FIELDS)
    )


def metrics_summary(
    *,
    since: datetime,
    until: datetime,
    channel: str | None = None,
    voucher_type: str | None = None,
) -> MetricsSummary:
    """Per channel, and per channel and voucher type, what happened in [since, until). One query."""
    summary = MetricsSummary(since=since, until=until)
    for row in aggregated_rows(
        since=since, until=until, channel=channel, voucher_type=voucher_type
    ):
        labels = (row["channel"], row["voucher_type"])
        by_channel = summary.channels.setdefault(row["channel"], EntryFigures(row["channel"]))
        by_type = summary.by_type.setdefault(labels, EntryFigures(*labels))
        for figures in (by_channel, by_type):
            figures.add(
                name=row["name"],
                reason=row["reason"],
                bucket=row["bucket"],
                count=row["count"] or 0,
                total=row["total"] or 0.0,
            )
    return summary


@dataclass(frozen=True)
class AdoptionDay:
    day: date
    legacy_users: int = 0
    config_users: int = 0
    active_users: int = 0  # distinct over both UIs: a user on both counts once
    legacy_vouchers: int = 0
    config_vouchers: int = 0

    @property
    def user_share(self) -> float | None:
        """The share of the day's active users who used the config UI."""
        return _ratio(self.config_users, self.active_users)

    @property
    def voucher_share(self) -> float | None:
        """The share of the day's vouchers entered through the config UI (imports excluded)."""
        return _ratio(self.config_vouchers, self.legacy_vouchers + self.config_vouchers)


def day_start(day: date) -> datetime:
    """Midnight at the start of a day in the site's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def adoption_series(*, since: date, until: date) -> list[AdoptionDay]:
    """Per day from `since` to `until` (both included): the config UI's share of active users
    and of vouchers entered through a UI. Three queries."""
    if until < since:
        raise ValueError(f"The series ends ({until}) before it starts ({since}).")
    marks = ChannelUserDay.objects.filter(day__gte=since, day__lte=until, channel__in=UI_CHANNELS)
    users: Counter[tuple[date, str]] = Counter()
    for mark in marks.values("day", "channel").annotate(n=Count("user", distinct=True)):
        users[(mark["day"], mark["channel"])] = mark["n"]
    active = dict(
        marks.values("day").annotate(n=Count("user", distinct=True)).values_list("day", "n")
    )
    vouchers: Counter[tuple[date, str]] = Counter()
    created = (
        Voucher.objects.filter(
            created_at__gte=day_start(since),
            created_at__lt=day_start(until + timedelta(days=1)),
            entry_channel__in=UI_CHANNELS,
        )
        .annotate(day=TruncDate("created_at"))
        .values("day", "entry_channel")
        .annotate(n=Count("id"))
    )
    for row in created:
        vouchers[(row["day"], row["entry_channel"])] = row["n"]
    legacy, config = UI_CHANNELS
    return [
        AdoptionDay(
            day=day,
            legacy_users=users[(day, legacy)],
            config_users=users[(day, config)],
            active_users=active.get(day, 0),
            legacy_vouchers=vouchers[(day, legacy)],
            config_vouchers=vouchers[(day, config)],
        )
        for day in (since + timedelta(days=n) for n in range((until - since).days + 1))
    ]


def adoption_now(*, days: int = 7) -> tuple[float | None, float | None]:
    """The config UI's share of active users and of vouchers created over the last `days` days,
    from the metric rows alone (cheap enough for every scrape)."""
    today = timezone.localdate()
    marks = ChannelUserDay.objects.filter(day__gt=today - timedelta(days=days))
    counts = marks.aggregate(
        active=Count("user", distinct=True),
        config=Count("user", distinct=True, filter=Q(channel=EntryChannel.CONFIG)),
    )
    created = MetricMinute.objects.filter(
        minute__gte=minute_of(timezone.now() - timedelta(days=days)),
        name=MetricName.VOUCHER_CREATED,
    ).aggregate(
        all=Sum("count", filter=Q(channel__in=UI_CHANNELS)),
        config=Sum("count", filter=Q(channel=EntryChannel.CONFIG)),
    )
    return (
        _ratio(counts["config"], counts["active"]),
        _ratio(created["config"] or 0, created["all"] or 0),
    )


# --- retention -------------------------------------------------------------------------------


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
    cutoff = minute_of(now) - timedelta(days=days)
    expired = MetricMinute.objects.filter(minute__lt=cutoff).exclude(minute=ROLLUP_MINUTE)
    old_marks = ChannelUserDay.objects.filter(day__lt=timezone.localdate(cutoff))
    if dry_run:
        return PruneResult(cutoff, expired.count(), old_marks.count(), dry_run=True)
    with transaction.atomic():
        for row in expired.values(*LABEL_FIELDS).annotate(count=Sum("count"), total=Sum("total")):
            key = {name: row[name] for name in LABEL_FIELDS}
            _add(key={**key, "minute": ROLLUP_MINUTE}, count=row["count"], total=row["total"])
        metric_rows, _ = expired.delete()
        user_days, _ = old_marks.delete()
    return PruneResult(cutoff, metric_rows, user_days, dry_run=False)
