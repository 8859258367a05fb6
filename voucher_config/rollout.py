"""The rollout switch: which entry UI serves a request, and what each channel did.

One entry URL per voucher type. The django-waffle flag `voucher_config_ui` picks, per user, the
configuration-driven UI or the legacy one; a type whose configuration is inactive or invalid falls
back to legacy (and the fallback is counted). This is the only module that knows there are two UIs.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from waffle import flag_is_active
from waffle.models import Flag

from accounting.models import EntryChannel, Organization
from accounting.outcomes import CREATED, POST_FAILED, POSTED, outcomes_of
from voucher_config.models import VoucherTypeConfig
from voucher_config.services import active_config
from voucher_config.validation import definition_errors

FLAG_NAME = "voucher_config_ui"

FALLBACK_NO_CONFIG = "no active config"
FALLBACK_INVALID = "config invalid"


def user_percentage_bucket(flag_name: str, user_id: int) -> Decimal:
    """A user's fixed place in 0.0–99.9 for a flag: the same user always lands in the same place,
    so a percentage rollout is sticky per user on every device."""
    digest = hashlib.sha256(f"{flag_name}:{user_id}".encode()).hexdigest()
    return Decimal(int(digest[:12], 16) % 1000) / 10


@dataclass(frozen=True)
class Route:
    channel: str  # EntryChannel.CONFIG or EntryChannel.LEGACY
    config: VoucherTypeConfig | None = None
    fallback_reason: str = ""


# Validity per config version: validation is pure, so a (pk, version, hash) answer never changes.
_VALIDITY: dict[tuple[int, int, str], bool] = {}


def config_is_usable(config: VoucherTypeConfig) -> bool:
    key = (config.pk, config.version, config.definition_hash)
    if key not in _VALIDITY:
        _VALIDITY[key] = not definition_errors(config.definition)
        if len(_VALIDITY) > 1024:
            _VALIDITY.clear()
    return _VALIDITY[key]


def config_ui_enabled_for(request: HttpRequest) -> bool:
    """The waffle flag's answer for this request's user, with its percentage sticky per user.

    Waffle decides a percentage per browser cookie, so one accountant could see both UIs on two
    machines; here a signed-in user's place in 0–99.9 is fixed by their id instead.
    """
    flag = Flag.get(FLAG_NAME)
    if flag.pk and flag.everyone is not None:
        return bool(flag.everyone)
    user = getattr(request, "user", None)
    if not flag.pk or user is None or not user.is_authenticated:
        return bool(flag_is_active(request, FLAG_NAME))
    if flag.is_active_for_user(user):
        return True
    percent = flag.percent
    return percent is not None and user_percentage_bucket(FLAG_NAME, user.pk) < percent


def route_for(request: HttpRequest, *, organization: Organization, type_code: str) -> Route:
    if not config_ui_enabled_for(request):
        return Route(EntryChannel.LEGACY)
    config = active_config(organization=organization, type_code=type_code)
    if config is None:
        return Route(EntryChannel.LEGACY, fallback_reason=FALLBACK_NO_CONFIG)
    if not config_is_usable(config):
        return Route(EntryChannel.LEGACY, config=config, fallback_reason=FALLBACK_INVALID)
    return Route(EntryChannel.CONFIG, config=config)


# --- metrics around each routed request ----------------------------------------------------


def record_routed_request(
    request: HttpRequest,
    *,
    route: Route,
    type_code: str,
    response: HttpResponse,
    elapsed_ms: float,
) -> None:
    from voucher_config.metrics import metric_count, metric_observe, user_active_mark

    channel = route.channel
    if route.fallback_reason:
        metric_count(
            name="fallback", channel=channel, voucher_type=type_code, reason=route.fallback_reason
        )
    if request.method == "GET" and response.status_code == 200:
        metric_observe(
            name="form_load_ms", channel=channel, voucher_type=type_code, value_ms=elapsed_ms
        )
    names = {CREATED: "voucher_created", POSTED: "voucher_posted", POST_FAILED: "post_failed"}
    for outcome in outcomes_of(request):
        if outcome.kind in names:
            metric_count(
                name=names[outcome.kind],
                channel=channel,
                voucher_type=type_code,
                reason=outcome.reason if outcome.kind == POST_FAILED else "",
            )
    if request.user.is_authenticated:
        marked = request.session.get("channel_marked", {})
        today = timezone.localdate().isoformat()
        if marked.get(channel) != today:
            user_active_mark(user=request.user, channel=channel)
            request.session["channel_marked"] = {**marked, channel: today}
        if request.session.get("entry_channel") != channel:  # a session write only on change
            request.session["entry_channel"] = str(channel)


def routed(
    request: HttpRequest,
    *,
    route: Route,
    voucher_type: str,
    view: Callable[..., HttpResponse],
    **kwargs: Any,
) -> HttpResponse:
    """Calls the chosen view, timing it and counting what it did under its channel."""
    started = time.perf_counter()
    try:
        response = view(request, **kwargs)
    except DatabaseError as exc:
        from voucher_config.metrics import metric_count

        metric_count(
            name="db_error",
            channel=route.channel,
            voucher_type=voucher_type,
            reason=type(exc).__name__,
        )
        raise
    elapsed_ms = (time.perf_counter() - started) * 1000
    record_routed_request(
        request, route=route, type_code=voucher_type, response=response, elapsed_ms=elapsed_ms
    )
    response["X-Entry-Channel"] = str(route.channel)  # WSGI servers take plain str headers only
    return response


# --- changing the rollout ----------------------------------------------------------------


def rollout_flag() -> Flag:
    return Flag.objects.get(name=FLAG_NAME)


def rollout_describe() -> str:
    flag = rollout_flag()
    if flag.everyone is True:
        return "on for everyone"
    if flag.everyone is False:
        return "off for everyone (legacy UI)"
    parts = []
    groups = sorted(flag.groups.values_list("name", flat=True))
    if groups:
        parts.append("groups " + ", ".join(groups))
    users = sorted(flag.users.values_list("username", flat=True))
    if users:
        parts.append("users " + ", ".join(users))
    if flag.staff:
        parts.append("staff")
    if flag.superusers:
        parts.append("superusers")
    if flag.authenticated:
        parts.append("every signed-in user")
    if flag.percent:
        parts.append(f"{flag.percent}% of users (sticky per user)")
    return "on for " + "; ".join(parts) if parts else "off (no one selected)"


def rollout_set(
    *,
    everyone: bool | None = None,
    groups: list[str] | None = None,
    percent: Decimal | None = None,
    staff: bool | None = None,
) -> str:
    """Sets who gets the configuration UI; `everyone` True or False overrides all the rest."""
    from django.contrib.auth.models import Group

    flag = rollout_flag()
    flag.everyone = everyone
    if groups is not None:
        found = list(Group.objects.filter(name__in=groups))
        missing = sorted(set(groups) - {g.name for g in found})
        if missing:
            raise ValueError(f"no such group(s): {', '.join(missing)}")
        flag.groups.set(found)
    if percent is not None:
        if not 0 <= percent <= Decimal("99.9"):
            raise ValueError("the percentage must be between 0 and 99.9")
        flag.percent = percent or None
    if staff is not None:
        flag.staff = staff
    flag.save()
    return rollout_describe()


# --- session duration per channel ------------------------------------------------------------

SESSION_STARTED = "session_started_at"


def session_started(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    request.session[SESSION_STARTED] = time.time()


def session_ended(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Records how long a signed-in session lasted, under the channel it last entered on."""
    if request is None or not hasattr(request, "session"):
        return
    started = request.session.get(SESSION_STARTED)
    channel = request.session.get("entry_channel")
    if started is None or channel is None:
        return
    from voucher_config.metrics import metric_observe

    metric_observe(
        name="session_ms", channel=channel, value_ms=max(0.0, (time.time() - started) * 1000)
    )
