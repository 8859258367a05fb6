"""Sets request.organization and request.membership from the user's active membership."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from accounting.dates import date_format_active
from accounting.models import DateFormat, Membership

SESSION_KEY = "active_organization_id"


class ActiveOrganizationMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.membership = None  # type: ignore[attr-defined]
        request.organization = None  # type: ignore[attr-defined]
        if request.user.is_authenticated:
            memberships = self.memberships(request)
            # The switcher's choices come from the same query (accounting.context_processors).
            request.user_organizations = [m.organization for m in memberships]  # type: ignore[attr-defined]
            membership = self.active_membership(request, memberships)
            if membership is not None:
                request.membership = membership  # type: ignore[attr-defined]
                request.organization = membership.organization  # type: ignore[attr-defined]
        organization = request.organization  # type: ignore[attr-defined]
        pattern = organization.date_format if organization is not None else DateFormat.ISO
        with date_format_active(pattern):
            return self.get_response(request)

    @staticmethod
    def memberships(request: HttpRequest) -> list[Membership]:
        """Every membership of the user, with its organization, by organization name: one query."""
        user_id: int = request.user.pk  # type: ignore[assignment]  # only for signed-in users
        return list(
            Membership.objects.select_related("organization")
            .filter(user_id=user_id)
            .order_by("organization__name", "organization_id")
        )

    @staticmethod
    def active_membership(request: HttpRequest, memberships: list[Membership]) -> Membership | None:
        wanted = request.session.get(SESSION_KEY)
        if wanted:
            for membership in memberships:
                if membership.organization_id == wanted:
                    return membership
        return memberships[0] if memberships else None
