"""The legacy forms' renderer: Django's input, select and textarea templates written out in Python.

Drawn by Django's widget templates, an account select includes one template per account, on
every line, and that was most of the legacy screen's server time. This renderer returns the
same markup as those templates (tests compare the two for every widget the forms use) and hands
every other template, and any widget whose options are drawn by another template, to Django's
renderer as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.forms.renderers import DjangoTemplates
from django.http import HttpRequest
from django.template.base import render_value_in_context
from django.template.context import Context
from django.utils.html import escape
from django.utils.safestring import SafeData, mark_safe

WIDGETS = "django/forms/widgets/"
OPTION_TEMPLATE = f"{WIDGETS}select_option.html"
# Each of these templates is `{% include "django/forms/widgets/input.html" %}` and nothing else.
INPUT_TEMPLATES = {
    f"{WIDGETS}{name}.html"
    for name in (
        "input", "text", "number", "email", "url", "password", "hidden", "date", "datetime",
        "time", "search", "tel", "color",
    )
}  # fmt: skip

_CONTEXT = Context(autoescape=True)


def _show(value: Any) -> str:
    """`{{ value }}` in a template: localized and escaped, unless already safe."""
    if type(value) is str:  # nearly every value: nothing to localize, only to escape
        return escape(value)
    return str(render_value_in_context(value, _CONTEXT))


def _as_text(value: Any) -> Any:
    """`value|stringformat:'s'`, which keeps a safe value safe."""
    text = "%s" % (str(value) if isinstance(value, tuple) else value)
    return mark_safe(text) if isinstance(value, SafeData) else text


def _attrs(attrs: Mapping[str, Any]) -> str:
    """django/forms/widgets/attrs.html."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        parts.append(f" {_show(name)}")
        if value is not True:
            parts.append(f'="{_show(_as_text(value))}"')
    return "".join(parts)


def _input(widget: Mapping[str, Any]) -> str:
    value = widget["value"]
    shown = f' value="{_show(_as_text(value))}"' if value is not None else ""
    return (
        f'<input type="{_show(widget["type"])}" name="{_show(widget["name"])}"'
        f"{shown}{_attrs(widget['attrs'])}>"
    )


def _select(widget: Mapping[str, Any]) -> str | None:
    parts = [f'<select name="{_show(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_show(group_name)}">')
        for option in group_choices:
            if option["template_name"] != OPTION_TEMPLATE:
                return None
            parts.append(
                f'\n  <option value="{_show(_as_text(option["value"]))}"'
                f"{_attrs(option['attrs'])}>{_show(option['label'])}</option>\n"
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _textarea(widget: Mapping[str, Any]) -> str:
    value = widget["value"]
    text = _show(value) if value else ""
    return f'<textarea name="{_show(widget["name"])}"{_attrs(widget["attrs"])}>\n{text}</textarea>'


DRAWN: dict[str, Callable[[Mapping[str, Any]], str | None]] = {
    **dict.fromkeys(INPUT_TEMPLATES, _input),
    f"{WIDGETS}select.html": _select,
    f"{WIDGETS}textarea.html": _textarea,
}


class LegacyFormRenderer(DjangoTemplates):
    """Django's template renderer, with the plain inputs, selects and textareas drawn directly."""

    def render(
        self, template_name: str, context: dict[str, Any], request: HttpRequest | None = None
    ) -> str:
        draw = DRAWN.get(template_name)
        if draw is not None and request is None and set(context) == {"widget"}:
            html = draw(context["widget"])
            if html is not None:
                return html
        return str(super().render(template_name, context, request=request))


# One instance: its template engine, and the templates it has loaded, are kept between forms.
LEGACY_RENDERER = LegacyFormRenderer()
