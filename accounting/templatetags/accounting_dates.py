"""`{{ value|org_date }}`: a date as the active organization writes it."""

from __future__ import annotations

from datetime import date, datetime

from django import template
from django.utils import timezone

from accounting.dates import date_show

register = template.Library()


@register.filter
def org_date(value: date | datetime | None) -> str:
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_show(value)
