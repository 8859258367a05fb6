"""The active organization's date format: how pages write a date and which forms read.

The middleware sets it for the request it serves; `org_date` (the template filter) and the
forms' date fields read it. ISO is the format outside a request and the one forms always accept.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime

from accounting.models import DateFormat

_active_format: ContextVar[str] = ContextVar("active_date_format", default=DateFormat.ISO.value)


@contextmanager
def date_format_active(pattern: str) -> Iterator[None]:
    """Dates are written with `pattern` (a DateFormat value) inside the block."""
    token = _active_format.set(pattern)
    try:
        yield
    finally:
        _active_format.reset(token)


def active_date_format() -> str:
    return _active_format.get()


def date_show(value: date | datetime | None, *, pattern: str | None = None) -> str:
    """A date as the organization writes it; a datetime keeps its time as HH:MM."""
    if value is None or value == "":
        return ""
    chosen = pattern or active_date_format()
    if isinstance(value, datetime):
        return f"{value.strftime(chosen)} {value.strftime('%H:%M')}"
    return value.strftime(chosen)


def date_format_hint() -> str:
    """How the active organization's dates are typed, as a field's hint ("DD/MM/YYYY")."""
    return str(DateFormat(active_date_format()).label)


def date_text(value: object) -> str:
    """A field's date as the organization writes it: a date, or an ISO date kept as text (a
    voucher's own fields keep theirs so); anything else is what was typed, unchanged."""
    if isinstance(value, date):
        return date_show(value)
    if isinstance(value, str):
        try:
            return date_show(date.fromisoformat(value.strip()))
        except ValueError:
            return value
    return "" if value is None else str(value)


def date_input_formats() -> list[str]:
    """What a date field accepts: ISO, and the active organization's format."""
    formats = [DateFormat.ISO.value]
    if active_date_format() not in formats:
        formats.append(active_date_format())
    return formats
