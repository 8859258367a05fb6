"""Template context shared by every page: the active organization, the user's role, and the
organizations the switcher offers (read only when a page shows the switcher)."""

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from accounting import selectors


def active_organization(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        "organization": getattr(request, "organization", None),
        "membership": getattr(request, "membership", None),
        "organization_choices": SimpleLazyObject(
            lambda: (
                getattr(request, "user_organizations", None)
                or list(selectors.user_organizations(user=user))
                if user is not None and user.is_authenticated
                else []
            )
        ),
    }
