"""The staff dashboard: legacy and configuration entry side by side over a chosen window.

A staff user sees the organizations they administer, one at a time; a superuser also sees all
organizations together (the global figures). Staff who administer none are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounting.models import EntryChannel, Organization, Role
from accounting.permissions import forbidden
from rollout.charts import adoption_chart, dashboard_charts
from rollout.display import shown_count, shown_ms, shown_rate, shown_seconds
from rollout.health import RuleResult, database_check, minute_ceiling, summary_rules
from rollout.metrics.adoption import adoption_series, day_start
from rollout.metrics.recording import UI_CHANNELS, metrics_setting
from rollout.metrics.summary import EntryFigures, MetricsSummary, metrics_summary
from support.feedback import feedback_counts

WINDOWS: dict[str, tuple[str, timedelta]] = {
    "1h": ("Last hour", timedelta(hours=1)),
    "24h": ("Last 24 hours", timedelta(hours=24)),
    "7d": ("Last 7 days", timedelta(days=7)),
    "30d": ("Last 30 days", timedelta(days=30)),
}
DATES = "dates"
DEFAULT_WINDOW = "24h"
ALL_ORGANIZATIONS = ""  # the selector's value for every organization together (superusers)
MAX_DATE_SPAN_DAYS = 366


@dataclass(frozen=True)
class Period:
    since: datetime
    until: datetime
    label: str
    first_day: date
    last_day: date


class DashboardWindowForm(forms.Form):
    org = forms.ChoiceField(label="Organization", required=False)
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

    def __init__(
        self, *args: Any, organizations: list[Organization], everything: bool, **kwargs: Any
    ) -> None:
        """`organizations` are those the user may see; `everything` adds all of them together."""
        super().__init__(*args, **kwargs)
        self.organizations = {organization.slug: organization for organization in organizations}
        choices = [(o.slug, o.name) for o in organizations]
        if everything:
            choices.insert(0, (ALL_ORGANIZATIONS, "All organizations"))
        cast("forms.ChoiceField", self.fields["org"]).choices = choices
        self.everything = everything
        if len(choices) < 2:
            del self.fields["org"]  # nothing to choose between

    def organization(self) -> Organization | None:
        """The organization chosen; None for all of them (offered to superusers only)."""
        self.is_valid()  # cleaned_data keeps the valid fields even when another one is not
        slug = getattr(self, "cleaned_data", {}).get("org") or ""
        if slug in self.organizations:
            return self.organizations[slug]
        if self.everything:
            return None
        return next(iter(self.organizations.values()))

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
        row("Vouchers created", lambda f: f.created, shown_count),
        row("Vouchers posted", lambda f: f.posted, shown_count),
        row("Failed posts", lambda f: f.failed, shown_count),
        row(
            "Post success rate",
            lambda f: f.success_rate,
            shown_rate,
            "config lower than legacy" if success_lower else "",
        ),
        row("Server load p50", lambda f: f.form_load_p50, shown_ms),
        row("Server load p95", lambda f: f.form_load_p95, shown_ms, server_p95),
        row("Browser load p50", lambda f: f.browser_load_p50, shown_ms),
        row("Browser load p95", lambda f: f.browser_load_p95, shown_ms, browser_p95),
        row("Page loads measured (server)", lambda f: f.form_load.count, shown_count),
        row("HTMX endpoint errors", lambda f: f.htmx_errors, shown_count),
        row("Fallbacks to legacy", lambda f: f.fallbacks, shown_count),
        row("Database errors", lambda f: f.db_errors, shown_count),
        row("Median time on an entry page", lambda f: f.session_p50, shown_seconds),
    ]


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
                shown_count(figures.created),
                shown_count(figures.posted),
                shown_rate(figures.failure_rate),
                shown_ms(figures.form_load_p95),
                shown_count(figures.htmx_errors),
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


def _staff_only(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not request.user.is_staff:
        return forbidden(request, "The rollout dashboard is for staff.")
    return None


def dashboard_organizations(user: Any) -> list[Organization]:
    """The organizations whose figures a staff user sees: those they administer (all of them,
    for a superuser)."""
    organizations = Organization.objects.order_by("name")
    if user.is_superuser:
        return list(organizations)
    return list(organizations.filter(memberships__user=user, memberships__role=Role.ADMIN))


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Legacy and config-driven entry side by side over a chosen window, per organization."""
    refused = _staff_only(request)
    if refused is not None:
        return refused
    everything = bool(request.user.is_superuser)
    organizations = dashboard_organizations(request.user)
    if not organizations and not everything:
        return forbidden(
            request,
            "The rollout dashboard shows the organizations you administer; you administer none.",
        )
    now = timezone.now()
    form = DashboardWindowForm(
        request.GET or None,
        initial={"window": DEFAULT_WINDOW},
        organizations=organizations,
        everything=everything,
    )
    period = form.period(now)
    organization = form.organization()
    scope = None if organization is None else [organization.pk]
    summary = metrics_summary(since=period.since, until=period.until, organizations=scope)
    legacy = summary.channel(EntryChannel.LEGACY)
    config = summary.channel(EntryChannel.CONFIG)
    adoption = adoption_series(since=period.first_day, until=period.last_day, organizations=scope)
    health: list[RuleResult] = [database_check(), *summary_rules(summary)]
    rows = comparison_rows(legacy, config)
    feedback = feedback_counts(organizations=scope, since=period.since, until=period.until)
    return render(
        request,
        "rollout/dashboard.html",
        {
            "form": form,
            "organization": organization,
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
            "feedback": {
                "legacy": feedback.get(EntryChannel.LEGACY, 0),
                "config": feedback.get(EntryChannel.CONFIG, 0),
                "other": feedback.get("", 0),
            },
        },
    )
