"""Reports read from a replica when one is configured (DATABASE_REPLICA_URL); all else the primary.

Only the reports' reads go there: the report pages run inside `reports_from_replica`, and the
router sends what is read meanwhile to the `replica` database. A trial balance a second behind
the primary is fine; a voucher being entered never is, so everything else, and every write,
stays on `default`. Without a `replica` database every read goes to `default`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import models

REPLICA = "replica"

_reading_reports: ContextVar[bool] = ContextVar("reading_reports", default=False)


@contextmanager
def report_reads() -> Iterator[None]:
    """Reads inside go to the replica, when there is one."""
    token = _reading_reports.set(True)
    try:
        yield
    finally:
        _reading_reports.reset(token)


def reports_from_replica[**P, R](view: Callable[P, R]) -> Callable[P, R]:
    """A report view whose reads may come from the replica."""

    @functools.wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        with report_reads():
            return view(*args, **kwargs)

    return wrapped


class ReportReplicaRouter:
    def db_for_read(self, model: type[models.Model], **hints: Any) -> str | None:
        if _reading_reports.get() and REPLICA in settings.DATABASES:
            return REPLICA
        return None

    def db_for_write(self, model: type[models.Model], **hints: Any) -> str | None:
        return None

    def allow_relation(self, obj1: models.Model, obj2: models.Model, **hints: Any) -> bool | None:
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return db != REPLICA  # the replica follows the primary's schema by replication
