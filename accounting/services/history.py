"""Audit history rows written the way django-simple-history writes them, in one statement.

Posting writes a voucher and its lines with the ORM's bulk paths or raw SQL, which skip
simple-history's signals; these helpers write the same history rows, as cheaply as the data.
"""

from __future__ import annotations

import getpass
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Field, Model
from django.utils import timezone

from accounting.models import Voucher
from accounting.services.inputs import User


def history_user(user: User) -> Any:
    """The user to stamp on rows and history: the acting user, or nobody when anonymous.

    Typed Any because the user foreign keys expect the configured user model.
    """
    return user if getattr(user, "pk", None) else None


@dataclass(frozen=True)
class HistoryStamp:
    """Who made a change, and why, for the history rows django-simple-history writes on save.

    Services take one from whoever acts: a view's user (the request middleware records that user
    anyway), or a command's operator (`operator_stamp`), which no request carries.
    """

    user: User = None
    reason: str | None = None

    def apply(self, instance: Model) -> Model:
        """Marks `instance` so that its next save's history row carries this stamp (the
        attributes django-simple-history documents for it)."""
        user = history_user(self.user)
        if user is not None:
            instance._history_user = user  # type: ignore[attr-defined]
        if self.reason:
            instance._change_reason = self.reason  # type: ignore[attr-defined]
        return instance


# The stamp of a change with no one to name: the request's user, if any, is recorded as usual.
NO_STAMP = HistoryStamp()


def os_user() -> str:
    """The operating-system account running this process, or "unknown" when it has none."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def operator_stamp(user: User = None) -> HistoryStamp:
    """The stamp of a management command: the Django user it names, if any, and always the
    operating-system account that ran it, so a history row is never without an author."""
    return HistoryStamp(user=user, reason=f"operator: {os_user()}")


@cache
def _historical_model(model: type[Model]) -> Any:
    # `Model.history` builds a new manager class on every access, which costs more than the
    # INSERT it is used for; the historical model behind it never changes.
    return model.history.model  # type: ignore[attr-defined]


@cache
def history_insert_sql(model: type[Model], source: str) -> str:
    """`INSERT INTO <model's history table> … SELECT … FROM <source>`: a history row for every
    row of `source` (the model's table, or a statement's RETURNING in a WITH clause), taking the
    four stamp values of `history_stamp` as parameters."""
    historical = _historical_model(model)
    quote = connection.ops.quote_name
    tracked = ", ".join(quote(f.column) for f in historical.tracked_fields)
    stamp = ", ".join(
        quote(historical._meta.get_field(name).column)
        for name in ("history_date", "history_user", "history_change_reason", "history_type")
    )
    return (
        f"INSERT INTO {quote(historical._meta.db_table)} ({tracked}, {stamp})"
        f" SELECT {tracked}, %s, %s, %s, %s FROM {source}"
    )


@cache
def _history_copy_sql(model: type[Model], key: str) -> str:
    quote = connection.ops.quote_name
    return (
        history_insert_sql(model, quote(model._meta.db_table))
        + f" WHERE {quote(column_of(model, key))} = %s"
    )


def history_enabled() -> bool:
    return bool(getattr(settings, "SIMPLE_HISTORY_ENABLED", True))


def history_stamp(
    *,
    user: User,
    when: datetime | None = None,
    history_type: str = "+",
    change_reason: str | None = None,
) -> list[Any]:
    """The stamp values of a history row, in the order `history_insert_sql` takes them."""
    return [
        connection.ops.adapt_datetimefield_value(when or timezone.now()),
        getattr(history_user(user), "pk", None),
        change_reason,
        history_type,
    ]


def column_of(model: type[Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, Field) and field.column, f"{name} is not a column of {model}"
    return field.column


def history_rows_copy(
    model: type[Model],
    *,
    key: str,
    value: int,
    user: User,
    when: datetime | None = None,
    history_type: str = "+",
    change_reason: str | None = None,
) -> None:
    """History rows for every row of `model` whose `key` field equals `value`, copied by the
    database in one INSERT … SELECT, so that a voucher's 1,000 lines cost what 2 lines cost.

    The rows are what django-simple-history writes: the stored values of every tracked field,
    stamped with date, user, change reason and type ("+" created, "~" changed, "-" deleted).
    """
    if not history_enabled():
        return
    stamp = history_stamp(
        user=user, when=when, history_type=history_type, change_reason=change_reason
    )
    with connection.cursor() as cursor:
        cursor.execute(_history_copy_sql(model, key), [*stamp, value])


def voucher_save_with_history(
    voucher: Voucher,
    *,
    user: User,
    when: datetime | None = None,
    update_fields: Sequence[str] | None = None,
) -> None:
    """Saves a voucher and writes its history row, copied from the row just saved."""
    adding = voucher._state.adding
    voucher.save_without_historical_record(update_fields=update_fields)  # type: ignore[attr-defined]
    history_rows_copy(
        Voucher,
        key="id",
        value=voucher.pk,
        user=user,
        when=when,
        history_type="+" if adding else "~",
    )
