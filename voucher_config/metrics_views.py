"""The parallel run's pages: /metrics for Prometheus, the browser beacon, the staff dashboard."""

from __future__ import annotations

import hmac
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.utils import floatToGoString

from accounting.models import EntryChannel, VoucherType
from accounting.permissions import forbidden
from voucher_config.metrics import (
    HISTOGRAMS,
    INF,
    UI_CHANNELS,
    AdoptionDay,
    EntryFigures,
    Histogram,
    MetricsSummary,
    adoption_now,
    adoption_series,
    aggregated_rows,
    day_start,
    htmx_error_reason,
    metric_count,
    metric_observe,
    metrics_setting,
    metrics_summary,
)
from voucher_config.models import MetricName
from voucher_config.monitoring import RuleResult, database_check, minute_ceiling, summary_rules

# --- /metrics --------------------------------------------------------------------------------

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
                labels=["channel", "type", "reason"] if by_reason else ["channel", "type"],
            )
            for name, (family, documentation, by_reason) in COUNTER_FAMILIES.items()
        }
        counter_values: dict[tuple[str, ...], float] = {}
        histograms: dict[tuple[str, str, str], Histogram] = {}
        for row in aggregated_rows():
            name = row["name"]
            if name in COUNTER_FAMILIES:
                labels: tuple[str, ...] = (name, row["channel"], row["voucher_type"])
                if COUNTER_FAMILIES[name][2]:
                    labels += (row["reason"],)
                counter_values[labels] = counter_values.get(labels, 0) + row["count"]
            elif name in HISTOGRAM_FAMILIES:
                histogram = histograms.setdefault(
                    (name, row["channel"], row["voucher_type"]), Histogram()
                )
                histogram.add(row["bucket"], row["count"], row["total"] or 0.0)
        for (name, *label_values), value in counter_values.items():
            counters[name].add_metric(label_values, value)
        yield from counters.values()

        for name, (family, documentation) in HISTOGRAM_FAMILIES.items():
            metric = HistogramMetricFamily(family, documentation, labels=["channel", "type"])
            for (histogram_name, channel, code), histogram in sorted(histograms.items()):
                if histogram_name != name:
                    continue
                buckets = [
                    (floatToGoString(math.inf if bound >= INF else bound), float(count))
                    for bound, count in histogram.cumulative(HISTOGRAMS[name])
                ]
                metric.add_metric([channel, code], buckets, histogram.total)
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
    if not (request.user.is_staff or bearer_token_valid(request)):
        return HttpResponse(
            "Metrics are for staff or a scraper holding the metrics token.\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    # A registry per request: the collector reads the database, not process memory, so every
    # worker answers the same and nothing accumulates between scrapes.
    registry = CollectorRegistry(auto_describe=False)
    registry.register(EntryMetricsCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


# --- the browser beacon ----------------------------------------------------------------------

BEACON_LOAD, BEACON_SESSION, BEACON_HTMX = "load", "session", "htmx"
MAX_LOAD_MS = 600_000  # ten minutes: anything longer is a tab left in the background
MAX_SESSION_MS = 12 * 3_600_000


class BeaconForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[(BEACON_LOAD, "load"), (BEACON_SESSION, "session"), (BEACON_HTMX, "htmx")]
    )
    channel = forms.ChoiceField(choices=[(c, c) for c in UI_CHANNELS])
    type = forms.RegexField(regex=r"^[A-Za-z0-9_-]{1,10}$")
    ms = forms.FloatField(required=False, min_value=0, max_value=MAX_SESSION_MS)
    path = forms.CharField(required=False, max_length=500)
    status = forms.IntegerField(required=False, min_value=0, max_value=599)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind = cleaned.get("kind")
        ms = cleaned.get("ms")
        if kind in (BEACON_LOAD, BEACON_SESSION) and ms is None:
            self.add_error("ms", "A load or session beacon needs ms.")
        if kind == BEACON_LOAD and ms is not None and ms > MAX_LOAD_MS:
            self.add_error("ms", f"A load time must be at most {MAX_LOAD_MS} ms.")
        if kind == BEACON_HTMX:
            if not str(cleaned.get("path") or "").startswith("/"):
                self.add_error("path", "An HTMX error needs the request path, starting with /.")
            if cleaned.get("status") is None:
                self.add_error("status", "An HTMX error needs the response status (0: none).")
        code = cleaned.get("type")
        if code and not VoucherType.objects.filter(code=code).exists():
            # Keeps label values to real voucher types whatever a client sends.
            self.add_error("type", f"No voucher type has the code '{code}'.")
        return cleaned


def endpoint_name(path: str) -> str:
    """The URL name of a path (the label an HTMX error is counted under), never the raw path."""
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return "unresolved"
    return match.view_name or "unnamed"


@require_POST
def beacon(request: HttpRequest) -> HttpResponse:
    """Timing and HTMX errors from an entry page, sent by static/js/beacon.js."""
    if not request.user.is_authenticated:
        return HttpResponse(status=403)
    form = BeaconForm(request.POST)
    if not form.is_valid():
        return HttpResponse(
            form.errors.as_text(), status=400, content_type="text/plain; charset=utf-8"
        )
    data = form.cleaned_data
    labels = {"channel": data["channel"], "voucher_type": data["type"]}
    if data["kind"] == BEACON_LOAD:
        metric_observe(name=MetricName.BROWSER_LOAD_MS, value_ms=data["ms"], **labels)
    elif data["kind"] == BEACON_SESSION:
        metric_observe(name=MetricName.SESSION_MS, value_ms=data["ms"], **labels)
    else:
        reason = htmx_error_reason(endpoint=endpoint_name(data["path"]), status=data["status"])
        metric_count(name=MetricName.HTMX_ERROR, reason=reason, **labels)
    return HttpResponse(status=204)


# --- the staff dashboard ---------------------------------------------------------------------

WINDOWS: dict[str, tuple[str, timedelta]] = {
    "1h": ("Last hour", timedelta(hours=1)),
    "24h": ("Last 24 hours", timedelta(hours=24)),
    "7d": ("Last 7 days", timedelta(days=7)),
    "30d": ("Last 30 days", timedelta(days=30)),
}
DATES = "dates"
DEFAULT_WINDOW = "24h"
MAX_DATE_SPAN_DAYS = 366


@dataclass(frozen=True)
class Period:
    since: datetime
    until: datetime
    label: str
    first_day: date
    last_day: date


class DashboardWindowForm(forms.Form):
    window = forms.ChoiceField(
        choices=[*((key, label) for key, (label, _) in WINDOWS.items()), (DATES, "From – to")],
        required=False,
    )
    start = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if cleaned.get("window") == DATES or start or end:
            if not (start and end):
                raise forms.ValidationError("Give both a From and a To date.")
            if end < start:
                raise forms.ValidationError(f"To ({end}) is before From ({start}).")
            if (end - start).days >= MAX_DATE_SPAN_DAYS:
                raise forms.ValidationError(f"Choose at most {MAX_DATE_SPAN_DAYS} days.")
            cleaned["window"] = DATES
        return cleaned

    def period(self, now: datetime) -> Period:
        data = self.cleaned_data if self.is_valid() else {}
        window = data.get("window") or DEFAULT_WINDOW
        if window == DATES:
            start, end = data["start"], data["end"]
            return Period(
                since=day_start(start),
                until=day_start(end + timedelta(days=1)),
                label=f"{start:%d %b %Y} – {end:%d %b %Y}",
                first_day=start,
                last_day=end,
            )
        label, length = WINDOWS[window]
        since = now - length
        return Period(
            since=since,
            until=minute_ceiling(now),
            label=label,
            first_day=timezone.localdate(since),
            last_day=timezone.localdate(now),
        )


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f} ms"


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _count(value: int) -> str:
    return f"{value:,}"


@dataclass(frozen=True)
class ComparisonRow:
    label: str
    legacy: str
    config: str
    no_go: bool = False
    note: str = ""


def _slower(config: float | None, legacy: float | None, allowed: float) -> str:
    """Why config is a no-go on this figure ('' when it is not): more than `allowed` slower."""
    if config is None or legacy is None or legacy <= 0:
        return ""
    slowdown = config / legacy - 1
    return f"config {slowdown:.0%} slower" if slowdown > allowed else ""


def comparison_rows(legacy: EntryFigures, config: EntryFigures) -> list[ComparisonRow]:
    """Legacy and config side by side, with the go/no-go hints of the rollout plan: config's
    p95 load more than VOUCHER_HEALTH_NO_GO_SLOWDOWN slower, or its success rate lower."""
    allowed = float(metrics_setting("VOUCHER_HEALTH_NO_GO_SLOWDOWN"))
    success_lower = (
        config.success_rate is not None
        and legacy.success_rate is not None
        and config.success_rate < legacy.success_rate
    )
    # A p95 of a handful of page loads says nothing: compare only with enough loads on both sides.
    enough = int(metrics_setting("VOUCHER_HEALTH_MIN_LOADS"))
    server_p95 = (
        _slower(config.form_load_p95, legacy.form_load_p95, allowed)
        if min(config.form_load.count, legacy.form_load.count) >= enough
        else ""
    )
    browser_p95 = (
        _slower(config.browser_load_p95, legacy.browser_load_p95, allowed)
        if min(config.browser_load.count, legacy.browser_load.count) >= enough
        else ""
    )

    def row(label: str, value: Any, shown: Any, note: str = "") -> ComparisonRow:
        return ComparisonRow(label, shown(value(legacy)), shown(value(config)), bool(note), note)

    return [
        row("Vouchers created", lambda f: f.created, _count),
        row("Vouchers posted", lambda f: f.posted, _count),
        row("Failed posts", lambda f: f.failed, _count),
        row(
            "Post success rate",
            lambda f: f.success_rate,
            _rate,
            "config lower than legacy" if success_lower else "",
        ),
        row("Server load p50", lambda f: f.form_load_p50, _ms),
        row("Server load p95", lambda f: f.form_load_p95, _ms, server_p95),
        row("Browser load p50", lambda f: f.browser_load_p50, _ms),
        row("Browser load p95", lambda f: f.browser_load_p95, _ms, browser_p95),
        row("Page loads measured (server)", lambda f: f.form_load.count, _count),
        row("HTMX endpoint errors", lambda f: f.htmx_errors, _count),
        row("Fallbacks to legacy", lambda f: f.fallbacks, _count),
        row("Database errors", lambda f: f.db_errors, _count),
        row("Median time on an entry page", lambda f: f.session_p50, _seconds),
    ]


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value / 1000:,.0f} s"


@dataclass(frozen=True)
class TypeRow:
    voucher_type: str
    figures: list[str]  # legacy then config: created, posted, failure rate, p95, HTMX errors
    no_go: bool


def type_rows(summary: MetricsSummary) -> list[TypeRow]:
    allowed = float(metrics_setting("VOUCHER_HEALTH_NO_GO_SLOWDOWN"))
    rows = []
    for code in summary.voucher_types:
        legacy = summary.for_type(EntryChannel.LEGACY, code)
        config = summary.for_type(EntryChannel.CONFIG, code)
        cells: list[str] = []
        for figures in (legacy, config):
            cells += [
                _count(figures.created),
                _count(figures.posted),
                _rate(figures.failure_rate),
                _ms(figures.form_load_p95),
                _count(figures.htmx_errors),
            ]
        worse = (
            config.failure_rate is not None
            and legacy.failure_rate is not None
            and config.failure_rate > legacy.failure_rate
        )
        slower = _slower(config.form_load_p95, legacy.form_load_p95, allowed)
        rows.append(TypeRow(code, cells, no_go=worse or bool(slower)))
    return rows


@dataclass(frozen=True)
class ReasonRow:
    what: str
    channel: str
    reason: str
    count: int


def reason_rows(summary: MetricsSummary) -> list[ReasonRow]:
    rows = []
    for channel, figures in sorted(summary.channels.items()):
        for what, reasons in (
            ("Failed post", figures.failure_reasons),
            ("HTMX error", figures.htmx_error_reasons),
            ("Fallback", figures.fallback_reasons),
        ):
            rows += [ReasonRow(what, channel, r or "(none given)", n) for r, n in reasons.items()]
    return sorted(rows, key=lambda row: (row.what, -row.count, row.channel, row.reason))


# Charts: geometry worked out here, drawn as inline SVG by the template and styled by
# static/css/dashboard.css, so the page needs no script and no inline style under a strict CSP.

CHART_WIDTH, CHART_HEIGHT = 480, 220
PLOT_LEFT, PLOT_TOP, PLOT_RIGHT, PLOT_BOTTOM = 56, 20, 28, 40


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str
    value: str


@dataclass(frozen=True)
class AxisLabel:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class Line:
    css: str
    segments: list[str]  # SVG polyline points; a day without data breaks the line
    points: list[Point]


@dataclass
class Chart:
    title: str
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    bars: list[Bar] = field(default_factory=list)
    x_labels: list[AxisLabel] = field(default_factory=list)
    y_labels: list[AxisLabel] = field(default_factory=list)
    grid: list[float] = field(default_factory=list)  # y of each horizontal grid line
    lines: list[Line] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (css, label)

    @property
    def slug(self) -> str:
        return slugify(self.title)

    @property
    def plot_left(self) -> int:
        return PLOT_LEFT

    @property
    def plot_right(self) -> int:
        return self.width - PLOT_RIGHT

    @property
    def baseline(self) -> int:
        return self.height - PLOT_BOTTOM


def nice_ceiling(value: float) -> float:
    """The round number at or above value an axis ends at: 1, 2, 2.5 or 5 times a power of 10."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if value <= m * power)


def bar_chart(
    *,
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    shown: Any,
    top: float | None = None,
) -> Chart:
    """Grouped bars: one group per category, one bar per channel."""
    chart = Chart(title=title)
    values = [v for _, vs in series for v in vs if v is not None]
    ceiling = top or nice_ceiling(max(values, default=0))
    plot_width = chart.plot_right - chart.plot_left
    plot_height = chart.baseline - PLOT_TOP
    group = plot_width / max(len(categories), 1)
    bar_width = group * 0.7 / max(len(series), 1)
    for index, category in enumerate(categories):
        left = chart.plot_left + index * group + group * 0.15
        chart.x_labels.append(AxisLabel(left + group * 0.35, chart.baseline + 16, category))
        for position, (channel, channel_values) in enumerate(series):
            value = channel_values[index]
            height = 0.0 if value is None else plot_height * min(value / ceiling, 1.0)
            x = left + position * bar_width
            chart.bars.append(
                Bar(
                    x=round(x, 1),
                    y=round(chart.baseline - height, 1),
                    width=round(bar_width - 2, 1),
                    height=round(height, 1),
                    css=f"bar-{channel}",
                    title=f"{channel} · {category}: {shown(value)}",
                    value=shown(value),
                )
            )
    for fraction in (0, 0.5, 1):
        y = round(chart.baseline - plot_height * fraction, 1)
        chart.grid.append(y)
        chart.y_labels.append(AxisLabel(chart.plot_left - 6, y + 4, shown(ceiling * fraction)))
    chart.legend = [(f"bar-{channel}", channel) for channel, _ in series]
    return chart


def adoption_chart(series: Sequence[AdoptionDay]) -> Chart:
    """The config UI's share of active users and of vouchers, per day, from 0 to 100 %."""
    chart = Chart(title="Adoption of the config UI per day", width=640)
    plot_width = chart.plot_right - chart.plot_left
    plot_height = chart.baseline - PLOT_TOP
    step = plot_width / max(len(series) - 1, 1)

    def x_of(index: int) -> float:
        return round(chart.plot_left + (index * step if len(series) > 1 else plot_width / 2), 1)

    label_every = max(1, math.ceil(len(series) / 8))
    for index, day in enumerate(series):
        if index % label_every == 0 or index == len(series) - 1:
            chart.x_labels.append(AxisLabel(x_of(index), chart.baseline + 16, f"{day.day:%d %b}"))
    for css, label, share_of in (
        ("line-users", "active users", lambda d: d.user_share),
        ("line-vouchers", "vouchers", lambda d: d.voucher_share),
    ):
        segments: list[list[str]] = [[]]
        points = []
        for index, day in enumerate(series):
            share = share_of(day)
            if share is None:
                if segments[-1]:
                    segments.append([])
                continue
            x, y = x_of(index), round(chart.baseline - plot_height * share, 1)
            segments[-1].append(f"{x},{y}")
            points.append(Point(x, y, f"{day.day:%d %b %Y}: {share:.0%} of {label}"))
        chart.lines.append(Line(css, [" ".join(s) for s in segments if s], points))
        chart.legend.append((css, f"share of {label}"))
    for fraction in (0, 0.5, 1):
        y = round(chart.baseline - plot_height * fraction, 1)
        chart.grid.append(y)
        chart.y_labels.append(AxisLabel(chart.plot_left - 6, y + 4, f"{fraction:.0%}"))
    return chart


def dashboard_charts(legacy: EntryFigures, config: EntryFigures) -> list[Chart]:
    def both(value: Any) -> list[tuple[str, list[float | None]]]:
        return [(f.channel, value(f)) for f in (legacy, config)]

    return [
        bar_chart(
            title="Volume",
            categories=["Created", "Posted", "Failed"],
            series=both(lambda f: [f.created, f.posted, f.failed]),
            shown=lambda v: "–" if v is None else f"{v:,.0f}",
        ),
        bar_chart(
            title="Load time",
            categories=["Server p50", "Server p95", "Browser p50", "Browser p95"],
            series=both(
                lambda f: [
                    f.form_load_p50,
                    f.form_load_p95,
                    f.browser_load_p50,
                    f.browser_load_p95,
                ]
            ),
            shown=_ms,
        ),
        bar_chart(
            title="Post success rate",
            categories=["Success rate"],
            series=both(lambda f: [f.success_rate]),
            shown=_rate,
            top=1.0,
        ),
    ]


def _staff_only(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not request.user.is_staff:
        return forbidden(request, "The rollout dashboard is for staff.")
    return None


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Legacy and config-driven entry side by side over a chosen window."""
    refused = _staff_only(request)
    if refused is not None:
        return refused
    now = timezone.now()
    form = DashboardWindowForm(request.GET or None, initial={"window": DEFAULT_WINDOW})
    period = form.period(now)
    summary = metrics_summary(since=period.since, until=period.until)
    legacy = summary.channel(EntryChannel.LEGACY)
    config = summary.channel(EntryChannel.CONFIG)
    adoption = adoption_series(since=period.first_day, until=period.last_day)
    health: list[RuleResult] = [database_check(), *summary_rules(summary)]
    rows = comparison_rows(legacy, config)
    return render(
        request,
        "voucher_config/dashboard.html",
        {
            "form": form,
            "channels": UI_CHANNELS,
            "period": period,
            "comparison": rows,
            "no_go": [row for row in rows if row.no_go],
            "type_rows": type_rows(summary),
            "reason_rows": reason_rows(summary),
            "charts": dashboard_charts(legacy, config),
            "adoption": adoption,
            "adoption_chart": adoption_chart(adoption),
            "health": health,
            "breached": [result for result in health if result.breached],
        },
    )
