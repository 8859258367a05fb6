"""/healthz for load balancers: is the database (and the shared cache, when one is set) reachable?

Answered by a middleware placed first, so that neither the host check nor the HTTPS redirect nor
the session or the user is touched: a load balancer probes by address, over plain http, without
cookies. 200 "ok", or 503 naming the part that failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
PROBE_KEY = "healthz:probe"


def database_problem() -> str:
    """'' when the default database answers a query, else what went wrong."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("Health check: database unavailable", exc_info=True)
        return f"database unavailable ({type(exc).__name__})"
    return ""


def cache_problem() -> str:
    """'' when the shared cache (Redis) answers, or when none is configured (memory always does)."""
    if "redis" not in settings.CACHES["default"]["BACKEND"].lower():
        return ""
    try:
        cache = caches["default"]
        cache.set(PROBE_KEY, "1", timeout=10)
        if cache.get(PROBE_KEY) != "1":
            return "cache unavailable (a value written was not read back)"
    except Exception as exc:  # the redis client raises its own errors, not Django's
        logger.warning("Health check: cache unavailable", exc_info=True)
        return f"cache unavailable ({type(exc).__name__})"
    return ""


def health_response() -> HttpResponse:
    problems = [problem for problem in (database_problem(), cache_problem()) if problem]
    body, status = ("\n".join(problems), 503) if problems else ("ok", 200)
    response = HttpResponse(f"{body}\n", content_type="text/plain; charset=utf-8", status=status)
    response["Cache-Control"] = "no-store"
    return response


class HealthCheckMiddleware:
    """Answers GET/HEAD /healthz itself; every other request passes through untouched."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == HEALTH_PATH and request.method in ("GET", "HEAD"):
            return health_response()
        return self.get_response(request)
