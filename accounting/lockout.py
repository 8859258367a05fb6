"""The page django-axes answers with when a username is locked out at a client address."""

from __future__ import annotations

import math
from typing import Any

from axes.helpers import (
    get_client_ip_address,
    get_client_username,
    get_cool_off,
    get_failure_limit,
)
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """Says which login is locked, from which address, for how long, and whom to ask.

    Named by AXES_LOCKOUT_CALLABLE; serves /login/ and /admin/login/ alike, with axes' status
    (429 Too Many Requests).
    """
    cool_off = get_cool_off(request)
    context = {
        "username": get_client_username(request, credentials) or "",
        "ip_address": getattr(request, "axes_ip_address", None)
        or get_client_ip_address(request)
        or "unknown",
        "failure_limit": get_failure_limit(request, credentials),
        "cool_off_minutes": math.ceil(cool_off.total_seconds() / 60) if cool_off else None,
    }
    return render(
        request,
        "registration/locked_out.html",
        context,
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
