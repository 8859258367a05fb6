"""Template context shared by every page: the active organization and the user's role."""

from typing import Any

from django.http import HttpRequest


def active_organization(request: HttpRequest) -> dict[str, Any]:
    return {
        "organization": getattr(request, "organization", None),
        "membership": getattr(request, "membership", None),
    }
