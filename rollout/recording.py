"""What is counted around a routed entry request: timing, outcomes, fallbacks and active users."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from accounting.models import Organization
from accounting.services.entering import EntryOutcome
from accounting.services.entry_rules import EntryAction
from rollout.metrics.recording import metric_count, metric_observe, user_active_mark
from rollout.routing import Route


def request_organization(request: HttpRequest) -> Organization | None:
    """The organization a request acts in (set by ActiveOrganizationMiddleware), if any."""
    return getattr(request, "organization", None)


class OutcomeTally:
    """Listens to an entry page for what it did with vouchers during one request."""

    def __init__(self) -> None:
        self.outcomes: list[EntryOutcome] = []

    def __call__(self, outcome: EntryOutcome) -> None:
        self.outcomes.append(outcome)


def record_routed_request(
    request: HttpRequest,
    *,
    route: Route,
    type_code: str,
    response: HttpResponse,
    elapsed_ms: float,
    outcomes: Sequence[EntryOutcome] = (),
) -> None:
    channel = route.channel
    organization = request_organization(request)
    labels: dict[str, Any] = {
        "channel": channel,
        "voucher_type": type_code,
        "organization": organization,
    }
    if route.fallback_reason:
        metric_count(name="fallback", reason=route.fallback_reason, **labels)
    if request.method == "GET" and response.status_code == 200:
        metric_observe(name="form_load_ms", value_ms=elapsed_ms, **labels)
    for outcome in outcomes:
        if outcome.created:
            metric_count(name="voucher_created", **labels)
        if outcome.posted:
            metric_count(name="voucher_posted", **labels)
        if outcome.failed_reason and outcome.action == EntryAction.POST:
            metric_count(name="post_failed", reason=outcome.failed_reason, **labels)
    if request.user.is_authenticated:
        marked = request.session.get("channel_marked", {})
        today = timezone.localdate().isoformat()
        # Marked once a day per organization and channel: switching organization marks again.
        mark = f"{organization.pk if organization else ''}:{channel}"
        if marked.get(mark) != today:
            user_active_mark(user=request.user, channel=channel, organization=organization)
            request.session["channel_marked"] = {**marked, mark: today}
        if request.session.get("entry_channel") != channel:  # a session write only on change
            request.session["entry_channel"] = str(channel)


def routed(
    request: HttpRequest,
    *,
    route: Route,
    voucher_type: str,
    page: Callable[[OutcomeTally], HttpResponse],
) -> HttpResponse:
    """Serves the chosen screen's page, timing it and counting what it did under its channel."""
    tally = OutcomeTally()
    started = time.perf_counter()
    try:
        response = page(tally)
    except DatabaseError as exc:
        metric_count(
            name="db_error",
            channel=route.channel,
            voucher_type=voucher_type,
            reason=type(exc).__name__,
            organization=request_organization(request),
        )
        raise
    elapsed_ms = (time.perf_counter() - started) * 1000
    record_routed_request(
        request,
        route=route,
        type_code=voucher_type,
        response=response,
        elapsed_ms=elapsed_ms,
        outcomes=tally.outcomes,
    )
    response["X-Entry-Channel"] = str(route.channel)  # WSGI servers take plain str headers only
    return response
