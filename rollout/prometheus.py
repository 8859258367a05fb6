"""/metrics for Prometheus: lifetime totals of both entry channels, and the adoption share.

Every series is labelled by organization (its slug; empty for events recorded without one), so
the endpoint covers every organization: it is for superusers and the scraper's bearer token.
"""

from __future__ import annotations

import hmac
import math
from collections.abc import Iterable

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.utils import floatToGoString

from accounting.models import Organization
from rollout.metrics.adoption import adoption_now, adoption_now_by_organization
from rollout.metrics.recording import HISTOGRAMS, INF, metrics_setting
from rollout.metrics.summary import Histogram, aggregated_rows
from rollout.models import MetricName

COUNTER_FAMILIES: dict[str, tuple[str, str, bool]] = {
    # metric name: (family name, help, labelled by reason)
    MetricName.VOUCHER_CREATED: (
        "voucher_entry_created_total",
        "Vouchers created through an entry UI.",
        False,
    ),
    MetricName.VOUCHER_POSTED: (
        "voucher_entry_posted_total",
        "Vouchers posted through an entry UI.",
        False,
    ),
    MetricName.POST_FAILED: (
        "voucher_entry_post_failures_total",
        "Posts that failed, by reason.",
        True,
    ),
    MetricName.HTMX_ERROR: (
        "voucher_entry_htmx_errors_total",
        "HTMX requests of an entry page that failed, by endpoint and status (0: no response).",
        True,
    ),
    MetricName.FALLBACK: (
        "voucher_entry_fallbacks_total",
        "Requests the flag sent to the config UI that the legacy UI served instead, by reason.",
        True,
    ),
    MetricName.DB_ERROR: (
        "voucher_entry_db_errors_total",
        "Database errors while serving an entry request.",
        False,
    ),
}
HISTOGRAM_FAMILIES: dict[str, tuple[str, str]] = {
    MetricName.FORM_LOAD_MS: (
        "voucher_entry_form_load_ms",
        "Server time to render an entry page, in ms.",
    ),
    MetricName.BROWSER_LOAD_MS: (
        "voucher_entry_browser_load_ms",
        "Browser navigation time until an entry page's load event, in ms.",
    ),
    MetricName.SESSION_MS: (
        "voucher_entry_session_ms",
        "Time a user spent on an entry page, in ms.",
    ),
}
ADOPTION_DAYS = 7


class EntryMetricsCollector:
    """Lifetime totals from the per-minute rows, as Prometheus counters and histograms.

    Pruning folds old minutes into lifetime rows, so the counters never go backwards.
    """

    def collect(self) -> Iterable[Metric]:
        counters = {
            name: CounterMetricFamily(
                family,
                documentation,
                labels=["organization", "channel", "type", "reason"]
                if by_reason
                else ["organization", "channel", "type"],
            )
            for name, (family, documentation, by_reason) in COUNTER_FAMILIES.items()
        }
        counter_values: dict[tuple[str, ...], float] = {}
        histograms: dict[tuple[str, str, str, str], Histogram] = {}
        rows = aggregated_rows()
        slugs = organization_slugs({row["organization_id"] for row in rows})
        for row in rows:
            name = row["name"]
            organization = slugs.get(row["organization_id"], "")
            if name in COUNTER_FAMILIES:
                labels: tuple[str, ...] = (name, organization, row["channel"], row["voucher_type"])
                if COUNTER_FAMILIES[name][2]:
                    labels += (row["reason"],)
                counter_values[labels] = counter_values.get(labels, 0) + row["count"]
            elif name in HISTOGRAM_FAMILIES:
                histogram = histograms.setdefault(
                    (name, organization, row["channel"], row["voucher_type"]), Histogram()
                )
                histogram.add(row["bucket"], row["count"], row["total"] or 0.0)
        for (name, *label_values), value in counter_values.items():
            counters[name].add_metric(label_values, value)
        yield from counters.values()

        for name, (family, documentation) in HISTOGRAM_FAMILIES.items():
            metric = HistogramMetricFamily(
                family, documentation, labels=["organization", "channel", "type"]
            )
            for (histogram_name, *label_values), histogram in sorted(histograms.items()):
                if histogram_name != name:
                    continue
                buckets = [
                    (floatToGoString(math.inf if bound >= INF else bound), float(count))
                    for bound, count in histogram.cumulative(HISTOGRAMS[name])
                ]
                metric.add_metric(label_values, buckets, histogram.total)
            yield metric

        users, vouchers = adoption_now(days=ADOPTION_DAYS)
        adoption = GaugeMetricFamily(
            "voucher_entry_adoption_ratio",
            f"Share on the config UI over the last {ADOPTION_DAYS} days: of active users, and "
            "of vouchers created through an entry UI.",
            labels=["measure"],
        )
        for measure, share in (("users", users), ("vouchers", vouchers)):
            if share is not None:
                adoption.add_metric([measure], share)
        yield adoption

        by_organization = adoption_now_by_organization(days=ADOPTION_DAYS)
        slugs = organization_slugs(set(by_organization))
        organization_adoption = GaugeMetricFamily(
            "voucher_entry_organization_adoption_ratio",
            f"voucher_entry_adoption_ratio per organization, over the last {ADOPTION_DAYS} days.",
            labels=["organization", "measure"],
        )
        for organization_id, shares in sorted(by_organization.items()):
            for measure, share in zip(("users", "vouchers"), shares, strict=True):
                if share is not None:
                    organization_adoption.add_metric([slugs[organization_id], measure], share)
        yield organization_adoption


def organization_slugs(ids: set[int | None]) -> dict[int, str]:
    """The slugs of the organizations with these ids, in one query."""
    wanted = {pk for pk in ids if pk is not None}
    if not wanted:
        return {}
    return dict(Organization.objects.filter(pk__in=wanted).values_list("pk", "slug"))


def bearer_token_valid(request: HttpRequest) -> bool:
    """Whether the request carries the configured metrics token; no token set, no token access."""
    token = str(metrics_setting("VOUCHER_METRICS_TOKEN") or "")
    if not token:
        return False
    scheme, _, provided = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(provided.strip().encode(), token.encode())


@require_GET
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    # Every organization's figures: staff see their own on the dashboard instead.
    if not (request.user.is_superuser or bearer_token_valid(request)):
        return HttpResponse(
            "Metrics are for superusers or a scraper holding the metrics token.\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    # A registry per request: the collector reads the database, not process memory, so every
    # worker answers the same and nothing accumulates between scrapes.
    registry = CollectorRegistry(auto_describe=False)
    registry.register(EntryMetricsCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
