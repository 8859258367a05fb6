"""The browser beacon: an entry page's load time, time on page and HTMX errors, as metrics."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.views.decorators.http import require_POST

from accounting.models import Membership, Role, VoucherType
from rollout.metrics.recording import (
    UI_CHANNELS,
    metric_count,
    metric_observe,
    metrics_setting,
    minute_of,
)
from rollout.metrics.summary import htmx_error_reason
from rollout.models import MetricName

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


def beacon_budget_spent(*, user_id: int) -> bool:
    """Counts one beacon of this user in the current minute; True once past the minute's budget.

    A fixed window per user in the default cache, so every process sharing the cache shares
    the count: a signed-in page cannot flood the metrics, and so the health alerts.
    """
    key = f"beacon-budget:{user_id}:{minute_of().isoformat()}"
    cache.add(key, 0, timeout=120)  # outlives its minute, whatever the clocks' skew
    try:
        sent = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=120)
        sent = 1
    return sent > metrics_setting("VOUCHER_METRICS_BEACONS_PER_MINUTE")


def plain(message: str, *, status: int) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


@require_POST
def beacon(request: HttpRequest) -> HttpResponse:
    """Timing and HTMX errors from an entry page, sent by static/js/beacon.js.

    Only from those who can open an entry page (a clerk or above in the active organization),
    and at most VOUCHER_METRICS_BEACONS_PER_MINUTE a minute per user.
    """
    if not request.user.is_authenticated:
        return HttpResponse(status=403)
    membership: Membership | None = getattr(request, "membership", None)
    if membership is None or not membership.has_role(Role.CLERK):
        return plain(
            "Beacons come from entry pages, which need the Clerk role or above in an organization.",
            status=403,
        )
    if beacon_budget_spent(user_id=request.user.pk):
        return plain(
            "Too many beacons this minute: at most "
            f"{metrics_setting('VOUCHER_METRICS_BEACONS_PER_MINUTE')} a minute per user.",
            status=429,
        )
    form = BeaconForm(request.POST)
    if not form.is_valid():
        return plain(form.errors.as_text(), status=400)
    data = form.cleaned_data
    labels = {
        "channel": data["channel"],
        "voucher_type": data["type"],
        "organization": getattr(request, "organization", None),
    }
    if data["kind"] == BEACON_LOAD:
        metric_observe(name=MetricName.BROWSER_LOAD_MS, value_ms=data["ms"], **labels)
    elif data["kind"] == BEACON_SESSION:
        metric_observe(name=MetricName.SESSION_MS, value_ms=data["ms"], **labels)
    else:
        reason = htmx_error_reason(endpoint=endpoint_name(data["path"]), status=data["status"])
        metric_count(name=MetricName.HTMX_ERROR, reason=reason, **labels)
    return HttpResponse(status=204)
