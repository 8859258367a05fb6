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


def date_input_formats() -> list[str]:
    """What a date field accepts: ISO, and the active organization's format."""
    formats = [DateFormat.ISO.value]
    if active_date_format() not in formats:
        formats.append(active_date_format())
    return formats
