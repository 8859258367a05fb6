"""What the entry template shows, made from the forms: header sections, grid columns and rows.

Each input is a `Control` (drawn by `controls.control_html`); the page around them is laid out
by `voucher_config/entry.html`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django import forms
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from accounting.dates import date_text
from accounting.models import Account, Party, Voucher
from voucher_config.definition import FieldSpec, Layout
from voucher_config.entry.definitions import EntryDefinition
from voucher_config.entry.forms import is_removed
from voucher_config.form_factory import LINE_PREFIX, ConfiguredForms, EntryLookups
from voucher_config.views.controls import Control, control_html

TEMPLATE = "voucher_config/entry.html"


@dataclass
class Column:
    key: str
    label: str
    width: int | None
    required: bool
    help_text: str


@dataclass
class Section:
    title: str
    controls: list[Control]


@dataclass
class LineRow:
    index: int
    number: int
    controls: list[Control] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    deleted: bool = False

    @property
    def ref(self) -> str:
        # Text, not a number: the template would localize an int, a thousand times a page.
        return str(self.index)

    @property
    def cells(self) -> SafeString:
        return mark_safe(  # control_html escapes every value
            "".join(f'<td class="cell-{c.type}">{control_html(c)}</td>' for c in self.controls)
        )

    @property
    def html(self) -> SafeString:
        """The row's markup (the template's `line-row`): drawn here, not by a template per row,
        because a long grid has hundreds of rows and the template took most of the page's time.

        Remove line posts the whole form without JavaScript; with it, entry.js sends the line to
        the remove-line endpoint. It has no `type` attribute (a button in a form submits anyway)
        so that htmx, which starts up every `[type=submit]` on the page, skips hundreds of them.
        A removed line keeps its errors cell: a check of one of its fields sent before the
        removal still finds its place when it answers.
        """
        ref = self.ref
        if self.deleted:
            return mark_safe(
                f'<tr id="line-{ref}" class="line-removed" hidden><td><input type="hidden"'
                f' name="{LINE_PREFIX}-{ref}-DELETE" value="on"></td>'
                f'<td id="line-{ref}-errors"></td></tr>'
            )
        errors = (
            render_to_string("includes/error_list.html", {"errors": self.errors})
            if self.errors
            else ""
        )
        return mark_safe(  # control_html and the error list escape every value; ref is a number
            f'<tr id="line-{ref}" class="line{" has-errors" if self.errors else ""}"'
            f' data-index="{ref}"><th scope="row" class="line-number" id="line-{ref}-number">'
            f"{self.number:d}</th>{self.cells}"
            f'<td class="line-actions"><button name="action" value="remove_line-{ref}"'
            ' class="remove-line" tabindex="-1" aria-keyshortcuts="Control+Delete"'
            f' aria-describedby="line-{ref}-number">Remove line</button></td>'
            f'<td class="line-problems" id="line-{ref}-errors">{errors}</td></tr>'
        )


def _messages(errors: Iterable[object]) -> list[str]:
    return [str(error) for error in errors]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Account | Party):
        return value.code
    return str(value)


def _lookup_name(kind: str, value: str, lookups: EntryLookups) -> str:
    code = value.split(" ", 1)[0]
    if not code:
        return ""
    found = (lookups.accounts if kind == "account" else lookups.parties).get(code)
    return found.name if found is not None else ""


def _make_control(
    spec: FieldSpec,
    field_: forms.Field,
    html_name: str,
    raw: Any,
    lookups: EntryLookups,
    *,
    errors: list[str] | None = None,
    aria_label: str = "",
    described_by: str = "",
) -> Control:
    kind = spec["type"]
    control = Control(
        key=spec["key"],
        name=html_name,
        id=f"id_{html_name}",
        type=kind,
        label=spec["label"],
        value="" if kind == "boolean" else date_text(raw) if kind == "date" else _text(raw),
        required=bool(spec.get("required")) and kind != "boolean",
        read_only=bool(spec.get("read_only")),
        aria_label=aria_label,
        help_text=spec.get("help_text", ""),
        max_length=spec.get("max_length"),
        checked=kind == "boolean" and raw not in (None, False, "", "false", "off"),
        errors=errors or [],
        described_by=described_by,
    )
    if kind == "choice":
        control.choices = [(str(v), str(label)) for v, label in field_.choices]  # type: ignore[attr-defined]
    if control.lookup and control.value:
        control.lookup_name = _lookup_name(kind, control.value, lookups)
    return control


def header_control(
    form: forms.Form, spec: FieldSpec, lookups: EntryLookups, *, show_errors: bool
) -> Control:
    """A header input, bound (what was posted, with its errors) or not (its initial value)."""
    bound = form[spec["key"]]
    return _make_control(
        spec,
        bound.field,
        bound.html_name,
        bound.value(),
        lookups,
        errors=_messages(bound.errors) if show_errors and form.is_bound else None,
    )


def line_columns(entry_def: EntryDefinition) -> list[Column]:
    specs = entry_def.line_specs
    layout: Layout = entry_def.definition.get("layout") or {}
    columns = [
        Column(
            key=column["field"],
            label=specs[column["field"]]["label"],
            width=column.get("width"),
            required=bool(specs[column["field"]].get("required")),
            help_text=specs[column["field"]].get("help_text", ""),
        )
        for column in layout.get("line_columns") or []
        if column["field"] in specs
    ]
    placed = {column.key for column in columns}
    columns += [
        Column(key, spec["label"], None, bool(spec.get("required")), spec.get("help_text", ""))
        for key, spec in specs.items()
        if key not in placed
    ]
    return columns


def header_sections(
    entry_def: EntryDefinition, form: forms.Form, lookups: EntryLookups, *, show_errors: bool
) -> list[Section]:
    specs = entry_def.header_specs
    layout: Layout = entry_def.definition.get("layout") or {}
    sections, placed = [], set()
    for section in layout.get("header_sections") or []:
        keys = [key for key in section["fields"] if key in specs]
        placed.update(keys)
        sections.append(
            Section(
                section["title"],
                [header_control(form, specs[k], lookups, show_errors=show_errors) for k in keys],
            )
        )
    rest = [key for key in specs if key not in placed]
    if rest:
        sections.append(
            Section(
                "More details" if sections else entry_def.type_name,
                [header_control(form, specs[k], lookups, show_errors=show_errors) for k in rest],
            )
        )
    return sections


def _line_control(
    entry_def: EntryDefinition,
    column: Column,
    field_: forms.Field,
    index: int,
    number: int,
    raw: Any,
    lookups: EntryLookups,
    errors: list[str] | None = None,
) -> Control:
    control = _make_control(
        entry_def.line_specs[column.key],
        field_,
        f"{LINE_PREFIX}-{index}-{column.key}",
        raw,
        lookups,
        errors=errors,
        aria_label=f"{column.label}, line {number}",
        described_by=f"line-{index}-errors",
    )
    # A blank line is skipped, not refused: the column header marks what a filled line needs.
    control.required = False
    return control


def line_row(
    form: forms.Form,
    index: int,
    number: int,
    columns: list[Column],
    entry_def: EntryDefinition,
    lookups: EntryLookups,
    *,
    show_errors: bool,
    autofocus: bool = False,
) -> LineRow:
    """A grid row drawn from a line form (posted values and errors, or its initial values)."""
    row = LineRow(index=index, number=number)
    show = show_errors and form.is_bound
    for column in columns:
        bound = form[column.key]
        errors = _messages(bound.errors) if show else None
        row.controls.append(
            _line_control(
                entry_def, column, bound.field, index, number, bound.value(), lookups, errors
            )
        )
        row.errors += [f"{column.label}: {error}" for error in errors or []]
    if show:
        row.errors = _messages(form.non_field_errors()) + row.errors
    if autofocus and row.controls:
        row.controls[0].autofocus = True
    return row


def _initial_rows(
    entry_def: EntryDefinition,
    forms_: ConfiguredForms,
    lookups: EntryLookups,
    columns: list[Column],
) -> list[LineRow]:
    """The rows of an unbound grid straight from its initial values: a form per line would
    cost more than the rest of a 1,000-line page together, and an unbound form adds nothing."""
    formset = forms_.lines
    fields = entry_def.form_classes[1].form.base_fields
    values = list(formset.initial or []) + [{}] * formset.extra
    rows = []
    for index, initial in enumerate(values):
        row = LineRow(index=index, number=index + 1)
        for column in columns:
            field_ = fields[column.key]
            raw = initial.get(column.key, field_.initial)
            if callable(raw):
                raw = raw()
            row.controls.append(
                _line_control(entry_def, column, field_, index, index + 1, raw, lookups)
            )
        rows.append(row)
    return rows


def grid_rows(
    entry_def: EntryDefinition,
    forms_: ConfiguredForms,
    lookups: EntryLookups,
    columns: list[Column],
    *,
    show_errors: bool,
    autofocus_index: int | None = None,
) -> list[LineRow]:
    """The grid's rows: the posted lines (a removed one as its deletion mark), or the initial
    values of an unbound grid."""
    if not forms_.lines.is_bound:
        return _initial_rows(entry_def, forms_, lookups, columns)
    rows, number = [], 0
    for index, form in enumerate(forms_.lines.forms):
        if is_removed(form):
            rows.append(LineRow(index=index, number=0, deleted=True))
            continue
        number += 1
        rows.append(
            line_row(
                form,
                index,
                number,
                columns,
                entry_def,
                lookups,
                show_errors=show_errors,
                autofocus=index == autofocus_index,
            )
        )
    return rows


def checked_line_row(
    entry_def: EntryDefinition, form: forms.Form, index: int, changed_key: str
) -> LineRow:
    """A line's errors once one of its fields has changed: that field's, and those of the fields
    already filled in (a field the user has not reached yet is not wrong yet)."""
    row = LineRow(index=index, number=0)
    if form.has_changed():
        for column in line_columns(entry_def):
            value = form.data.get(form.add_prefix(column.key), "")
            if column.key == changed_key or value:
                row.errors += [f"{column.label}: {error}" for error in form[column.key].errors]
        row.errors = _messages(form.non_field_errors()) + row.errors
    return row


def entry_urls(entry_def: EntryDefinition, voucher: Voucher | None) -> dict[str, str]:
    """Where the page and its partials post: the page itself and one endpoint per partial."""
    code = entry_def.config.voucher_type.code
    urls = {
        name: reverse(f"entry-{name.replace('_', '-')}", args=[code])
        for name in (
            "add_line",
            "remove_line",
            "totals",
            "validate",
            "preview",
            "account_search",
            "party_search",
            "balance",
        )
    }
    urls["self"] = (
        reverse("entry-edit", args=[voucher.pk])
        if voucher is not None
        else reverse("entry-new", args=[code])
    )
    urls["menu"] = reverse("entry-menu")
    if voucher is not None:  # what the actions offer beside saving
        for name in ("duplicate", "cancel", "delete"):
            urls[name] = reverse(f"voucher-{name}", args=[voucher.pk])
    return urls
