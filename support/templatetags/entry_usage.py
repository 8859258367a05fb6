"""`{% entry_usage_fields %}`: the hidden fields with which an entry form tells how it was
filled in — when it was opened (signed) and whether a pointer was used (static/js/usage.js)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

from support.usage import OPENED_FIELD, POINTER_FIELD, form_marks

register = template.Library()


@register.simple_tag(takes_context=True)
def entry_usage_fields(context: dict[str, Any]) -> str:
    request = context.get("request")
    posted = request.POST if request is not None and request.method == "POST" else None
    marks = form_marks(posted)
    return format_html(
        '<input type="hidden" name="{}" value="{}">'
        '<input type="hidden" name="{}" value="{}" data-usage-pointer>',
        OPENED_FIELD,
        marks["opened"],
        POINTER_FIELD,
        marks["pointer"],
    )
