"""Template context on every page: the announcements the signed-in user has not dismissed,
read from the cache when the page shows them."""

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from support.announcements import notices_for


def announcements(request: HttpRequest) -> dict[str, Any]:
    return {
        "announcements": SimpleLazyObject(
            lambda: notices_for(
                user=getattr(request, "user", None),
                organization=getattr(request, "organization", None),
            )
        )
    }
