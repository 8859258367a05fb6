"""What is counted around a routed entry request: timing, outcomes, fallbacks and active users."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

from accounting.models import Organization
from accounting.services.entering import EntryOutcome
from accounting.services.entry_rules import EntryAction
from accounting.services.posting_postgres import PostingOutcomeUnknown
from rollout.metrics.recording import metric_count, metric_observe, user_active_mark
from rollout.routing import Route
from support.usage import entry_timing_record


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
            if request.method == "POST" and outcome.voucher is not None:
                # How it was entered: the form's own marks (opened when, pointer or not).
                entry_timing_record(voucher=outcome.voucher, channel=channel, data=request.POST)
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


# What the accountant is told when the database fails under an entry request. The posting runs in
# one transaction: an error before its commit rolled everything back, so nothing was posted; an
# error during the commit itself leaves the outcome unknown, and they are told to look first.
NOTHING_POSTED = (
    "Nothing was posted — the database was unavailable; try again",
    "What you entered was not saved. Go back to the entry and try again in a moment.",
)
MAYBE_POSTED = (
    "The database stopped answering while the voucher was being saved",
    "It may or may not have been posted: look it up in the voucher list before entering it again.",
)
UNAVAILABLE = (
    "The database is unavailable; try again",
    "The page could not be read. Try again in a moment.",
)


def failed_during_commit(exc: BaseException) -> bool:
    """Whether a database error came from the COMMIT itself, or from a connection lost under a
    statement that was its own transaction (the outcome is then unknown)."""
    if isinstance(exc, PostingOutcomeUnknown):
        return True
    trace = exc.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_name in ("commit", "_commit") and trace.tb_frame.f_globals.get(
            "__name__", ""
        ).startswith("django.db.backends"):
            return True
        trace = trace.tb_next
    return False


def database_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    """503 saying plainly whether the voucher was posted."""
    if request.method != "POST":
        (headline, advice), posted = UNAVAILABLE, "no"
    elif failed_during_commit(exc):
        (headline, advice), posted = MAYBE_POSTED, "unknown"
    else:
        (headline, advice), posted = NOTHING_POSTED, "no"
    body = render_to_string(
        "rollout/database_unavailable.html",
        {"headline": headline, "advice": advice, "posted": posted, "back": request.get_full_path()},
        request=None,
    )
    response = HttpResponse(body, status=503)
    response["Retry-After"] = "5"
    return response


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
        return database_unavailable(request, exc)
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
