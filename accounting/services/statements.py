"""A cursor for posting's own hand-written statements: on PostgreSQL, planned once per connection.

Posting sends the same few statements for every voucher (the facts it checks, the counter and
chain head, the write). Planning them is most of what the server spends on a small voucher, so
on PostgreSQL they go through a server-side binding cursor that prepares each statement on
first use: the query travels as `$1, $2 …` with its parameters apart, and PostgreSQL keeps the
plan for the connection's life. The rest of the application keeps Django's default
(client-side binding, nothing prepared).

The cursor is wrapped the way Django wraps its own, so query logging, `execute_wrapper` and
the translation of database errors apply. `ACCOUNTING_PREPARED_STATEMENTS = False` (the
environment's DJANGO_DB_PREPARED_STATEMENTS=0) keeps server-side binding but sends every
statement unnamed, for a connection pooler that cannot keep prepared statements (PgBouncer
before 1.21, or without `max_prepared_statements`); docs/DEPLOYMENT.md says which to choose.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

# psycopg's own default; posting asks for its statements to be prepared at once anyway.
PREPARE_THRESHOLD = 5


def prepared_statements() -> bool:
    return bool(getattr(settings, "ACCOUNTING_PREPARED_STATEMENTS", True))


_PLACEHOLDER = re.compile(r"%(.)", re.DOTALL)


@lru_cache(maxsize=256)
def numbered(query: str) -> str:
    """A statement written with `%s` placeholders (as for every backend), with PostgreSQL's
    own `$1, $2 …` instead.

    psycopg parses a query for its placeholders on every execute, and caches the result only
    for statements under 4 KB and 50 parameters; posting's write is larger than both, and
    parsing it cost more than half a millisecond a voucher. Numbered once here, the statement
    goes to the server as it is.
    """
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        if match.group(1) == "%":
            return "%"
        if match.group(1) != "s":
            raise ValueError(f"only %s placeholders are supported: {match.group(0)!r}")
        count += 1
        return f"${count}"

    return _PLACEHOLDER.sub(replace, query)


def _prepared_cursor_class() -> type:
    from django.db.backends.postgresql.base import CursorMixin
    from psycopg import RawCursor

    class PreparedCursor(CursorMixin, RawCursor):  # type: ignore[misc, valid-type]
        """Server-side binding of `$n` placeholders; prepared on first use unless the setting
        says otherwise."""

        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            kwargs["prepare"] = prepared_statements()
            return super().execute(numbered(query), params, **kwargs)  # type: ignore[misc]

    return PreparedCursor


_cursor_class: list[type] = []


@contextmanager
def statement_cursor() -> Iterator[Any]:
    """A cursor for one of posting's statements (see the module's docstring)."""
    # The connection itself, not the `connection` proxy, which looks it up on every attribute.
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":
        with db.cursor() as cursor:
            yield cursor
        return
    if not _cursor_class:
        _cursor_class.append(_prepared_cursor_class())
    db.close_if_health_check_failed()
    db.ensure_connection()
    raw_connection = db.connection
    if raw_connection.prepare_threshold is None and prepared_statements():
        # Django opens connections with preparing switched off, which also refuses an
        # explicit prepare=True. Its own cursors bind on the client and never prepare, so
        # this reaches posting's statements only.
        raw_connection.prepare_threshold = PREPARE_THRESHOLD
    with db.wrap_database_errors:
        raw = _cursor_class[0](raw_connection)
    cursor = db._prepare_cursor(raw)  # type: ignore[attr-defined]
    try:
        yield cursor
    finally:
        cursor.close()
