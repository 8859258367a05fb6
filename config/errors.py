"""The site's 500 handler: a database that stopped answering is a 503 that says so.

`rollout.recording.routed` answers a database failure inside an entry page itself. A failure
before the page runs (the session's user, the membership, in any middleware) or in a partial
reaches Django's 500 handler instead; when it is the connection that failed (the database is
restarting, a failover, the connections were cut) the accountant is told the same plain thing:
the page could not be read, or nothing was posted (the view never ran, or its transaction was
rolled back), or, when the commit itself failed, that the outcome is unknown.
"""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.views import defaults

from rollout.recording import database_unavailable


def server_error(request: HttpRequest) -> HttpResponse:
    exc = sys.exc_info()[1]
    if isinstance(exc, OperationalError | InterfaceError):
        return database_unavailable(request, exc)
    return defaults.server_error(request)
