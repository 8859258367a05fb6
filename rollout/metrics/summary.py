"""Reading the parallel-run metrics back as figures per channel and voucher type.

The dashboard, /metrics and the health rules all read through `metrics_summary` (and
`aggregated_rows` for lifetime totals); percentiles are rebuilt from the histogram buckets.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Sum

from rollout.metrics.recording import HISTOGRAMS, INF, metrics_flush, minute_of
from rollout.models import MetricMinute, MetricName


class AboveLastBound(float):
    """A quantile past the histogram's last finite bound: all that is known is that it is over
    that bound. Its value is the bound, so charts and ratios stay finite; rules and displays
    read it as over the bound ("> 10000 ms"), whatever their threshold."""

    @property
    def bound(self) -> float:
        return float(self)


def _is_open(upper: float) -> bool:
    return math.isinf(upper) or upper >= INF


def last_finite_bound(bounds: Sequence[float]) -> float:
    return max(float(bound) for bound in bounds if not _is_open(bound))


def histogram_quantile(
    q: float, buckets: Sequence[tuple[float, int]], *, last_bound: float | None = None
) -> float | None:
    """Estimates the q-quantile from (upper bound, count) buckets, not cumulated, sorted.

    As Prometheus does: find the bucket holding the q-th observation and interpolate linearly
    inside it. When that is the +Inf bucket the answer is AboveLastBound: over `last_bound`, the
    histogram's last finite bound (by default the largest finite bound among `buckets`, which
    leave out empty buckets), never a number that could pass for a measurement.
    """
    observations = sum(count for _, count in buckets)
    if observations == 0:
        return None
    rank = q * observations
    seen = 0
    lower = 0.0
    for upper, count in buckets:
        if count and seen + count >= rank:
            if _is_open(upper):
                return AboveLastBound(lower if last_bound is None else max(lower, last_bound))
            return lower + (upper - lower) * (rank - seen) / count
        seen += count
        if not _is_open(upper):
            lower = float(upper)
    return lower


@dataclass
class Histogram:
    """Observations per bucket upper bound (ms), not cumulated."""

    buckets: Counter[int] = field(default_factory=Counter)
    total: float = 0.0
    last_bound: float | None = None  # the histogram's last finite bucket bound

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
        return histogram_quantile(q, sorted(self.buckets.items()), last_bound=self.last_bound)

    def cumulative(self, bounds: Sequence[int]) -> list[tuple[int, int]]:
        """Observations at or below each bound, as Prometheus buckets are."""
        return [(bound, sum(n for b, n in self.buckets.items() if b <= bound)) for bound in bounds]


def _histogram_of(name: str) -> Histogram:
    return Histogram(last_bound=last_finite_bound(HISTOGRAMS[name]))


def ratio(part: int, whole: int) -> float | None:
    """part / whole, or None when there is no whole to divide by."""
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
    form_load: Histogram = field(default_factory=lambda: _histogram_of(MetricName.FORM_LOAD_MS))
    browser_load: Histogram = field(
        default_factory=lambda: _histogram_of(MetricName.BROWSER_LOAD_MS)
    )
    session: Histogram = field(default_factory=lambda: _histogram_of(MetricName.SESSION_MS))

    @property
    def post_attempts(self) -> int:
        return self.posted + self.failed

    @property
    def success_rate(self) -> float | None:
        return ratio(self.posted, self.post_attempts)

    @property
    def failure_rate(self) -> float | None:
        return ratio(self.failed, self.post_attempts)

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


LABEL_FIELDS = ("organization_id", "name", "channel", "voucher_type", "reason", "bucket")


def aggregated_rows(
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    channel: str | None = None,
    voucher_type: str | None = None,
    names: Iterable[str] | None = None,
    organizations: Iterable[int] | None = None,
) -> list[dict[str, Any]]:
    """Sums of count and total per label set over the minutes in [since, until), of the
    organizations given by id (None: every row, those recorded without one included)."""
    metrics_flush()  # this process's pending counts first, so what it just recorded is read
    rows = MetricMinute.objects.all()
    if organizations is not None:
        rows = rows.filter(organization_id__in=list(organizations))
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
    organizations: Iterable[int] | None = None,
) -> MetricsSummary:
    """Per channel, and per channel and voucher type, what happened in [since, until), in the
    organizations given by id (None: all of them). One query."""
    summary = MetricsSummary(since=since, until=until)
    for row in aggregated_rows(
        since=since,
        until=until,
        channel=channel,
        voucher_type=voucher_type,
        organizations=organizations,
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
