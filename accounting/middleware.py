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
            membership = self.active_membership(request)
            if membership is not None:
                request.membership = membership  # type: ignore[attr-defined]
                request.organization = membership.organization  # type: ignore[attr-defined]
        organization = request.organization  # type: ignore[attr-defined]
        pattern = organization.date_format if organization is not None else DateFormat.ISO
        with date_format_active(pattern):
            return self.get_response(request)

    @staticmethod
    def active_membership(request: HttpRequest) -> Membership | None:
        user_id: int = request.user.pk  # type: ignore[assignment]  # only for signed-in users
        memberships = Membership.objects.select_related("organization").filter(user_id=user_id)
        wanted = request.session.get(SESSION_KEY)
        if wanted:
            chosen = memberships.filter(organization_id=wanted).first()
            if chosen is not None:
                return chosen
        return memberships.order_by("organization__name").first()
