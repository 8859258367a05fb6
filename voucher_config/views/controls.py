"""One input of the entry screen as the page draws it, and its markup.

Drawn in Python rather than by a template per input: a 1,000-line grid has thousands of inputs,
and a template per input would take most of the page's time. Every value is escaped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from html import escape

from django.utils.safestring import SafeString, mark_safe

from accounting.dates import date_format_hint
from accounting.models import DateFormat

# A date is one text field (one Tab stop, unlike the browser's date input with a stop per part)
# taking what the server's date field parses; Alt+Down opens a calendar (entry.js).
INPUT_TYPES = {"integer": "number"}


@dataclass
class Control:
    """One input as the page draws it: name, value, label and errors, already resolved."""

    key: str
    name: str
    id: str
    type: str
    label: str
    value: str
    required: bool
    read_only: bool
    aria_label: str = ""
    help_text: str = ""
    max_length: int | None = None
    checked: bool = False
    choices: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lookup_name: str = ""
    described_by: str = ""
    autofocus: bool = False

    @property
    def lookup(self) -> str:
        return self.type if self.type in ("account", "party") else ""

    @property
    def html(self) -> SafeString:
        return mark_safe(control_html(self))  # control_html escapes every value


def _attributes(pairs: list[tuple[str, str | int | bool | None]]) -> str:
    parts = []
    for name, value in pairs:
        if value is True:
            parts.append(f" {name}")
        elif value is not None and value is not False and value != "":
            parts.append(f' {name}="{escape(str(value))}"')
    return "".join(parts)


@lru_cache(maxsize=256)
def _kind_attributes(kind: str, max_length: int | None, key: str, hint: str, iso: str) -> str:
    """The attributes a text input has for its type: the same for every line of a column, so
    worked out once (a long grid draws thousands of inputs)."""
    pairs: list[tuple[str, str | int | bool | None]] = [("maxlength", max_length)]
    if kind == "amount":
        pairs += [("inputmode", "decimal"), ("class", "amount")]
    elif kind == "date":
        pairs += [
            ("class", "date"),
            ("inputmode", "text" if "Mon" in hint else "numeric"),
            ("placeholder", hint),
            ("title", hint if hint == iso else f"{hint}, or {iso}"),
            ("autocomplete", "off"),
            ("aria-keyshortcuts", "Alt+ArrowDown"),
        ]
    elif kind in ("account", "party"):
        pairs += [
            ("class", "lookup"),
            ("data-lookup", kind),
            ("data-field", key),
            ("autocomplete", "off"),
            ("role", "combobox"),
            ("aria-autocomplete", "list"),
            ("aria-expanded", "false"),
            ("aria-controls", "lookup-results"),
        ]
    return _attributes(pairs)


def control_html(control: Control) -> str:
    """The markup of one input; every value is escaped."""
    c = control
    if c.described_by:
        described_by = c.described_by
    elif c.help_text:
        described_by = f"{c.id}-help {c.id}-errors"
    else:
        described_by = f"{c.id}-errors"
    fixed = c.read_only and c.type in ("choice", "boolean")
    tail = _attributes(
        [
            ("aria-label", c.aria_label),
            ("required", c.required),
            ("disabled", fixed),
            ("readonly", c.read_only and not fixed),
            ("aria-invalid", "true" if c.errors else None),
            ("aria-describedby", described_by),
            ("autofocus", c.autofocus),
        ]
    )
    named = _attributes([("id", c.id), ("name", c.name)])
    if c.type == "textarea":
        size = _attributes([("rows", 2), ("maxlength", c.max_length)])
        return f"<textarea{named}{size}{tail}>{escape(c.value)}</textarea>"
    if c.type == "choice":
        options = "".join(
            f'<option value="{escape(value)}"{" selected" if value == c.value else ""}>'
            f"{escape(label)}</option>"
            for value, label in c.choices
        )
        return f"<select{named}{tail}>{options}</select>"
    if c.type == "boolean":
        return f'<input type="checkbox"{named}{" checked" if c.checked else ""}{tail}>'
    # The date hint follows the organization's format, so it is part of what is cached.
    dated = c.type == "date"
    hint, iso = (date_format_hint(), str(DateFormat.ISO.label)) if dated else ("", "")
    kind = _kind_attributes(c.type, c.max_length, c.key, hint, iso)
    input_type = INPUT_TYPES.get(c.type, "text")
    value = f' value="{escape(c.value)}"'
    html = f'<input type="{input_type}"{named}{value}{kind}{tail}>'
    if c.lookup:
        html += f'<span class="lookup-name" id="{c.id}-name">{escape(c.lookup_name)}</span>'
    return html
