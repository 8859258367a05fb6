"""Session duration per channel: receivers of the sign-in and sign-out signals."""

from __future__ import annotations

import time
from typing import Any

from django.http import HttpRequest

from rollout.metrics.recording import metric_observe

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
    metric_observe(
        name="session_ms",
        channel=channel,
        value_ms=max(0.0, (time.time() - started) * 1000),
        organization=getattr(request, "organization", None),
    )
