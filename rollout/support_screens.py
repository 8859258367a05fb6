"""What the rollout tells support: the screen each voucher type opens in for a user, and why."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from waffle.models import Flag

from accounting.models import Organization, VoucherType
from rollout.organization_state import organization_state
from rollout.routing import FLAG_NAME, organization_decision, route_for
from support.screens import ScreenDecision


def _why(request: HttpRequest, organization: Organization) -> str:
    flag = Flag.get(FLAG_NAME)
    if flag.pk and flag.everyone is False:
        return "rollout switched off for everyone"
    decision = organization_decision(
        organization_state(organization_id=organization.pk), user_id=request.user.pk
    )
    if decision is not None:
        return decision.reason
    return f"global flag {FLAG_NAME}"


def screens_for_user(*, user: Any, organization: Organization) -> list[ScreenDecision]:
    """The router's own decision (`route_for`) for `user`, for every active voucher type."""
    request = HttpRequest()
    request.user = user
    request.method = "GET"
    why = _why(request, organization)
    decisions = []
    for code in (
        VoucherType.objects.filter(organization=organization, is_active=True)
        .order_by("code")
        .values_list("code", flat=True)
    ):
        route = route_for(request, organization=organization, type_code=code)
        decisions.append(ScreenDecision(code, str(route.channel), route.fallback_reason or why))
    return decisions
