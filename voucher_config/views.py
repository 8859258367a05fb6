"""The configuration-driven entry screen: one page for every voucher type, and its HTMX partials.

Every URL works without JavaScript (plain POSTs re-render the page); with htmx the same buttons
post to small endpoints that return only the fragment they change, rendered from the partials of
`voucher_config/entry.html`. The rules live in `voucher_config.entry`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from html import escape
from typing import Any, Concatenate, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, push_url, trigger_client_event
from django_htmx.middleware import HtmxDetails

from accounting.models import Account, Party, Role, Voucher, VoucherStatus, VoucherType
from accounting.outcomes import CREATED, POST_FAILED, POSTED, outcome_note
from accounting.permissions import (
    OrganizationRequest,
    organization_object_or_404,
    organization_role_required,
)
from voucher_config.entry import (
    ACTIONS,
    APPROVE,
    POST,
    SAVE,
    SUBMIT,
    ConfigChanged,
    EntryDefinition,
    EntryInvalid,
    EntryPreview,
    EntryRefused,
    EntryTotals,
    EntryUnavailable,
    account_search,
    entry_act,
    entry_definition,
    entry_definition_for_voucher,
    entry_forms_blank,
    entry_forms_bound,
    entry_forms_carried_over,
    entry_forms_for_voucher,
    entry_preview,
    entry_totals,
    is_removed,
    lookup_spec,
    party_search,
    totals_from_lines,
)
from voucher_config.form_factory import LINE_PREFIX, EntryForms, EntryLookups, filter_description

TEMPLATE = "voucher_config/entry.html"
LINES_LIMIT = 5000  # never trust a posted TOTAL_FORMS beyond what any definition allows
REFUSED_HEADER = "X-Entry-Refused"  # tells entry.js a 403 is a refusal to show, not a lost session


class HtmxHttpRequest(OrganizationRequest):
    htmx: HtmxDetails


def entry_role_required[**P](
    role: str,
) -> Callable[
    [Callable[Concatenate[HtmxHttpRequest, P], HttpResponse]],
    Callable[Concatenate[HttpRequest, P], HttpResponse],
]:
    """organization_role_required for views that also read `request.htmx`."""

    def decorator(
        view: Callable[Concatenate[HtmxHttpRequest, P], HttpResponse],
    ) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
        checked = cast("Callable[Concatenate[OrganizationRequest, P], HttpResponse]", view)
        return organization_role_required(role)(checked)

    return decorator


# --- what the template shows -----------------------------------------------------------------

INPUT_TYPES = {"date": "date", "integer": "number"}


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


def control_html(control: Control) -> str:
    """The markup of one input.

    Drawn here rather than in a template partial: a 1,000-line grid has thousands of inputs,
    and a template per input would take most of the page's time. Every value is escaped.
    """
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
    kind: list[tuple[str, str | int | bool | None]] = [("maxlength", c.max_length)]
    if c.type == "amount":
        kind += [("inputmode", "decimal"), ("class", "amount")]
    elif c.lookup:
        kind += [
            ("class", "lookup"),
            ("data-lookup", c.lookup),
            ("data-field", c.key),
            ("autocomplete", "off"),
            ("role", "combobox"),
            ("aria-autocomplete", "list"),
            ("aria-expanded", "false"),
            ("aria-controls", "lookup-results"),
        ]
    input_type = INPUT_TYPES.get(c.type, "text")
    value = f' value="{escape(c.value)}"'
    html = f'<input type="{input_type}"{named}{value}{_attributes(kind)}{tail}>'
    if c.lookup:
        html += f'<span class="lookup-name" id="{c.id}-name">{escape(c.lookup_name)}</span>'
    return html


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
    spec: Mapping[str, Any],
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
        value="" if kind == "boolean" else _text(raw),
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


def _control(
    form: forms.Form,
    spec: Mapping[str, Any],
    lookups: EntryLookups,
    *,
    show_errors: bool,
    aria_label: str = "",
    described_by: str = "",
) -> Control:
    """An input of a form, bound (what was posted, with its errors) or not (its initial)."""
    bound = form[spec["key"]]
    return _make_control(
        spec,
        bound.field,
        bound.html_name,
        bound.value(),
        lookups,
        errors=_messages(bound.errors) if show_errors and form.is_bound else None,
        aria_label=aria_label,
        described_by=described_by,
    )


def _columns(entry_def: EntryDefinition) -> list[Column]:
    specs = entry_def.line_specs
    layout = entry_def.definition.get("layout") or {}
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


def _sections(
    entry_def: EntryDefinition, form: forms.Form, lookups: EntryLookups, *, show_errors: bool
) -> list[Section]:
    specs = entry_def.header_specs
    layout = entry_def.definition.get("layout") or {}
    sections, placed = [], set()
    for section in layout.get("header_sections") or []:
        keys = [key for key in section["fields"] if key in specs]
        placed.update(keys)
        sections.append(
            Section(
                section["title"],
                [_control(form, specs[k], lookups, show_errors=show_errors) for k in keys],
            )
        )
    rest = [key for key in specs if key not in placed]
    if rest:
        sections.append(
            Section(
                "More details" if sections else entry_def.type_name,
                [_control(form, specs[k], lookups, show_errors=show_errors) for k in rest],
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


def _row(
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
    entry_def: EntryDefinition, forms_: EntryForms, lookups: EntryLookups, columns: list[Column]
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


def _rows(
    entry_def: EntryDefinition,
    forms_: EntryForms,
    lookups: EntryLookups,
    columns: list[Column],
    *,
    show_errors: bool,
    autofocus_index: int | None = None,
) -> list[LineRow]:
    if not forms_.lines.is_bound:
        return _initial_rows(entry_def, forms_, lookups, columns)
    rows, number = [], 0
    for index, form in enumerate(forms_.lines.forms):
        if is_removed(form):
            rows.append(LineRow(index=index, number=0, deleted=True))
            continue
        number += 1
        rows.append(
            _row(
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


@dataclass
class Actions:
    """Which workflow buttons the user sees; the server checks the same rules again."""

    save: bool = False
    submit: bool = False
    approve: bool = False
    post: bool = False
    read_only: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def primary(self) -> str:
        for name in (POST, APPROVE, SUBMIT, SAVE):
            if getattr(self, name):
                return name
        return ""


def _actions(
    entry_def: EntryDefinition, request: OrganizationRequest, voucher: Voucher | None
) -> Actions:
    status = voucher.status if voucher is not None else VoucherStatus.DRAFT
    needs_approval = (
        voucher.requires_approval if voucher is not None else entry_def.requires_approval
    )
    membership = request.membership
    actions = Actions(
        save=status in (VoucherStatus.DRAFT, VoucherStatus.SUBMITTED),
        submit=needs_approval and status == VoucherStatus.DRAFT,
        approve=status == VoucherStatus.SUBMITTED and entry_def.may(membership, APPROVE),
        read_only=status == VoucherStatus.APPROVED,
    )
    would_post = status == VoucherStatus.APPROVED or (
        status == VoucherStatus.DRAFT and not needs_approval
    )
    actions.post = would_post and entry_def.may(membership, POST)
    for action, shown, wanted in (
        (POST, actions.post, would_post),
        (APPROVE, actions.approve, status == VoucherStatus.SUBMITTED),
    ):
        if wanted and not shown:
            role = Role(entry_def.role_for(action)).label
            actions.notes.append(
                f"{'Posting' if action == POST else 'Approving'} a {entry_def.type_name} voucher "
                f"needs the {role} role; save it and someone with that role can "
                f"{'post' if action == POST else 'approve'} it."
            )
    if needs_approval and status == VoucherStatus.DRAFT:
        approver = Role(entry_def.role_for(APPROVE)).label
        actions.notes.append(
            f"{entry_def.type_name} vouchers are approved by an {approver.lower()} before posting."
        )
    return actions


def _urls(entry_def: EntryDefinition, voucher: Voucher | None) -> dict[str, str]:
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
        )
    }
    urls["self"] = (
        reverse("entry-edit", args=[voucher.pk])
        if voucher is not None
        else reverse("entry-new", args=[code])
    )
    urls["menu"] = reverse("entry-menu")
    return urls


def _form_errors(forms_: EntryForms) -> list[str]:
    errors = _messages(forms_.header.non_field_errors())
    if forms_.lines.is_bound:
        errors += _messages(forms_.lines.non_form_errors())
    return errors + forms_.line_problems


def _screen(
    request: HtmxHttpRequest,
    *,
    entry_def: EntryDefinition,
    forms_: EntryForms,
    lookups: EntryLookups,
    voucher: Voucher | None = None,
    show_errors: bool = True,
    totals: EntryTotals | None = None,
    preview: EntryPreview | None = None,
    notice: str = "",
    alert: str = "",
    autofocus_index: int | None = None,
) -> dict[str, Any]:
    columns = _columns(entry_def)
    formset = forms_.lines
    type_name = entry_def.type_name
    heading = f"{type_name} voucher" + (f" {voucher}" if voucher is not None else ": new")
    return {
        "entry_def": entry_def,
        "heading": heading,
        "voucher": voucher,
        "sections": _sections(entry_def, forms_.header, lookups, show_errors=show_errors),
        "columns": columns,
        "rows": _rows(
            entry_def,
            forms_,
            lookups,
            columns,
            show_errors=show_errors,
            autofocus_index=autofocus_index,
        ),
        "total_forms": formset.total_form_count(),
        "initial_forms": formset.initial_form_count(),
        "max_lines": entry_def.definition["lines"].get("max", 1000),
        "form_errors": _form_errors(forms_) if show_errors else [],
        "totals": totals or EntryTotals(),
        "preview": preview,
        "notice": notice,
        "alert": alert,
        "urls": _urls(entry_def, voucher),
        "actions": _actions(entry_def, request, voucher),
    }


def _render(
    request: HtmxHttpRequest,
    context: dict[str, Any],
    *,
    partial: str | None = None,
    status: int = 200,
) -> HttpResponse:
    if partial is None and not request.htmx:
        return render(request, TEMPLATE, context, status=status)
    return render(request, f"{TEMPLATE}#{partial or 'entry'}", context, status=status)


# --- the page --------------------------------------------------------------------------------


def _posted_version(request: HttpRequest) -> int | None:
    try:
        return int(request.POST.get("config_version", ""))
    except ValueError:
        return None


def _posted_definition(request: HttpRequest, entry_def: EntryDefinition) -> EntryDefinition:
    """The configuration version the posted form was rendered with."""
    version = _posted_version(request)
    if version is None or version == entry_def.version:
        return entry_def
    return entry_definition(
        organization=entry_def.config.organization,
        type_code=entry_def.config.voucher_type.code,
        version=version,
        require_active=False,
    )


def _line_keys(entry_def: EntryDefinition) -> list[str]:
    return [*entry_def.line_specs, "DELETE"]


def _total_forms(data: Mapping[str, Any]) -> int:
    try:
        return max(0, min(int(data.get(f"{LINE_PREFIX}-TOTAL_FORMS") or 0), LINES_LIMIT))
    except ValueError:
        return 0


def _without_line(data: QueryDict, index: int, keys: list[str]) -> QueryDict:
    """The posted form with one line taken out and the later ones moved up (no-JS remove)."""
    total = _total_forms(data)
    result = data.copy()
    for position in range(index, total):
        for key in keys:
            target = f"{LINE_PREFIX}-{position}-{key}"
            source = f"{LINE_PREFIX}-{position + 1}-{key}"
            if position + 1 < total and source in data:
                result.setlist(target, data.getlist(source))
            else:
                result.pop(target, None)
    result[f"{LINE_PREFIX}-TOTAL_FORMS"] = str(max(total - 1, 0))
    initial = int(data.get(f"{LINE_PREFIX}-INITIAL_FORMS") or 0)
    result[f"{LINE_PREFIX}-INITIAL_FORMS"] = str(min(initial, max(total - 1, 0)))
    return result


def _with_line(data: QueryDict, max_lines: int) -> QueryDict:
    result = data.copy()
    result[f"{LINE_PREFIX}-TOTAL_FORMS"] = str(min(_total_forms(data) + 1, max_lines))
    return result


def _refused(response: HttpResponse) -> HttpResponse:
    response[REFUSED_HEADER] = "1"
    return response


def _after_action(
    request: HtmxHttpRequest,
    voucher: Voucher,
    message: str,
    *,
    entry_def: EntryDefinition,
    lookups: EntryLookups,
    was_new: bool,
) -> HttpResponse:
    if voucher.status == VoucherStatus.POSTED:
        messages.success(request, message)
        detail = reverse("voucher-detail", args=[voucher.pk])
        return HttpResponseClientRedirect(detail) if request.htmx else redirect(detail)
    edit = reverse("entry-edit", args=[voucher.pk])
    if not request.htmx:
        messages.success(request, message)
        return redirect(edit)
    if voucher.config_version != entry_def.version:  # pragma: no cover - saved as rendered
        entry_def = entry_definition_for_voucher(voucher=voucher)
    forms_, stored = entry_forms_for_voucher(entry_def=entry_def, lookups=lookups, voucher=voucher)
    context = _screen(
        request,
        entry_def=entry_def,
        forms_=forms_,
        lookups=lookups,
        voucher=voucher,
        show_errors=False,
        totals=totals_from_lines(stored),
        notice=message,
    )
    response = _render(request, context)
    return push_url(response, edit) if was_new else response


def _entry_page(
    request: HtmxHttpRequest,
    *,
    entry_def: EntryDefinition,
    current: EntryDefinition | None,
    voucher: Voucher | None,
) -> HttpResponse:
    """The entry screen of a new or saved voucher: GET draws it, POST acts on the button used."""
    lookups = EntryLookups(request.organization)
    partial = "entry" if request.htmx else None
    if request.method == "GET":
        if voucher is None:
            forms_ = entry_forms_blank(entry_def=entry_def, lookups=lookups)
            totals = EntryTotals()
        else:
            forms_, stored = entry_forms_for_voucher(
                entry_def=entry_def, lookups=lookups, voucher=voucher
            )
            totals = totals_from_lines(stored)
        context = _screen(
            request,
            entry_def=entry_def,
            forms_=forms_,
            lookups=lookups,
            voucher=voucher,
            show_errors=False,
            totals=totals,
        )
        return _render(request, context, partial=partial)

    posted_def = _posted_definition(request, entry_def)
    action = request.POST.get("action") or SAVE

    def show(
        forms_: EntryForms,
        *,
        status: int = 200,
        show_errors: bool = True,
        preview: EntryPreview | None = None,
        alert: str = "",
        autofocus_index: int | None = None,
    ) -> HttpResponse:
        context = _screen(
            request,
            entry_def=posted_def,
            forms_=forms_,
            lookups=lookups,
            voucher=voucher,
            show_errors=show_errors,
            totals=preview.totals if preview else entry_totals(entry_def=posted_def, forms_=forms_),
            preview=preview,
            alert=alert,
            autofocus_index=autofocus_index,
        )
        return _render(request, context, partial=partial, status=status)

    # Without JavaScript, Add line and Remove line post the whole form here.
    if action == "add_line":
        max_lines = posted_def.definition["lines"].get("max", 1000)
        data = _with_line(request.POST, max_lines)
        forms_ = entry_forms_bound(entry_def=posted_def, lookups=lookups, data=data)
        focus = min(_total_forms(request.POST), max_lines - 1)
        return show(forms_, show_errors=False, autofocus_index=focus)
    if action.startswith("remove_line-"):
        try:
            index = int(action.removeprefix("remove_line-"))
        except ValueError:
            index = -1
        data = _without_line(request.POST, index, _line_keys(posted_def))
        forms_ = entry_forms_bound(entry_def=posted_def, lookups=lookups, data=data)
        return show(forms_, show_errors=False)

    forms_ = entry_forms_bound(entry_def=posted_def, lookups=lookups, data=request.POST)
    if action == "preview":
        try:
            preview = entry_preview(entry_def=posted_def, forms_=forms_, lookups=lookups)
        except EntryInvalid:
            return show(forms_, status=422)
        return show(forms_, preview=preview)

    try:
        result = entry_act(
            action=action if action in ACTIONS else SAVE,
            entry_def=posted_def,
            current=current,
            forms_=forms_,
            membership=request.membership,
            user=request.user,
            voucher=voucher,
        )
    except EntryInvalid as invalid:
        if invalid.rejected is not None and action == POST:
            outcome_note(
                request,
                kind=POST_FAILED,
                voucher_id=voucher.pk if voucher else None,
                reason=invalid.rejected.reason,
            )
        return show(forms_, status=422)
    except EntryRefused as refused:
        return _refused(show(forms_, status=403, show_errors=False, alert=refused.message))
    except ConfigChanged as changed:
        carried = entry_forms_carried_over(
            entry_def=changed.current, lookups=lookups, data=request.POST, previous=posted_def
        )
        context = _screen(
            request,
            entry_def=changed.current,
            forms_=carried,
            lookups=lookups,
            voucher=voucher,
            show_errors=False,
            alert=changed.change.explain(),
        )
        return _render(request, context, partial=partial, status=409)
    if voucher is None:
        outcome_note(request, kind=CREATED, voucher_id=result.voucher.pk)
    if result.action == POST:
        outcome_note(request, kind=POSTED, voucher_id=result.voucher.pk)
    return _after_action(
        request,
        result.voucher,
        result.message,
        entry_def=posted_def,
        lookups=lookups,
        was_new=voucher is None,
    )


@entry_role_required(Role.CLERK)
@require_GET
def entry_menu(request: HtmxHttpRequest) -> HttpResponse:
    """The "New voucher" menu: every active voucher type; the rollout decides which UI opens."""
    voucher_types = VoucherType.objects.filter(
        organization=request.organization, is_active=True
    ).order_by("code")
    return render(request, "voucher_config/menu.html", {"voucher_types": voucher_types})


@entry_role_required(Role.CLERK)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def entry_new(request: HtmxHttpRequest, type_code: str) -> HttpResponse:
    """A new voucher of `type_code`, entered with the type's active configuration."""
    try:
        entry_def = entry_definition(organization=request.organization, type_code=type_code)
    except EntryUnavailable as exc:
        raise Http404(str(exc)) from exc
    return _entry_page(request, entry_def=entry_def, current=entry_def, voucher=None)


@entry_role_required(Role.CLERK)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def entry_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A saved voucher, reopened with the configuration version it was entered with."""
    voucher = organization_object_or_404(
        request, Voucher.objects.select_related("organization", "voucher_type", "party"), pk=pk
    )
    if not voucher.is_editable:
        return redirect("voucher-detail", pk=voucher.pk)
    try:
        entry_def = entry_definition_for_voucher(voucher=voucher)
    except EntryUnavailable as exc:
        messages.info(request, str(exc))
        return redirect("voucher-detail", pk=voucher.pk)
    current = entry_def.current if entry_def.config.is_active else None
    return _entry_page(request, entry_def=entry_def, current=current, voucher=voucher)


# --- partials --------------------------------------------------------------------------------


def _partial_definition(
    request: HtmxHttpRequest, type_code: str, version: int | None
) -> EntryDefinition:
    try:
        return entry_definition(
            organization=request.organization,
            type_code=type_code,
            version=version,
            require_active=False,
        )
    except EntryUnavailable as exc:
        raise Http404(str(exc)) from exc


@entry_role_required(Role.CLERK)
@require_POST
def entry_add_line(request: HtmxHttpRequest, type_code: str) -> HttpResponse:
    """One more blank line at the end of the grid, with the focus in it."""
    entry_def = _partial_definition(request, type_code, _posted_version(request))
    lookups = EntryLookups(request.organization)
    index = _total_forms(request.POST)
    max_lines = entry_def.definition["lines"].get("max", 1000)
    visible = sum(1 for i in range(index) if not request.POST.get(f"{LINE_PREFIX}-{i}-DELETE"))
    context: dict[str, Any] = {"total_forms": index + 1}
    if visible >= max_lines:
        context["alert"] = f"A {entry_def.type_name} voucher takes at most {max_lines} lines."
        return render(request, f"{TEMPLATE}#entry-alert-oob", context)
    formset_class = entry_def.form_classes[1]
    form = formset_class.form(
        prefix=f"{LINE_PREFIX}-{index}",
        lookups=lookups,
        empty_permitted=True,
        use_required_attribute=False,
    )
    columns = _columns(entry_def)
    context["row"] = _row(
        form, index, visible + 1, columns, entry_def, lookups, show_errors=False, autofocus=True
    )
    context["urls"] = _urls(entry_def, None)
    return render(request, f"{TEMPLATE}#added-line", context)


@entry_role_required(Role.CLERK)
@require_POST
def entry_remove_line(request: HtmxHttpRequest, type_code: str) -> HttpResponse:
    """Takes a line out of the grid: it stays in the form only as a deletion mark."""
    _partial_definition(request, type_code, _posted_version(request))
    action = request.POST.get("action", "")
    try:
        index = int(action.removeprefix("remove_line-") if action else request.POST["line"])
    except (KeyError, ValueError):
        return HttpResponse("Say which line to remove.", status=400)
    if not 0 <= index < _total_forms(request.POST):
        return HttpResponse(f"There is no line {index + 1}.", status=400)
    response = render(request, f"{TEMPLATE}#removed-line", {"row": LineRow(index, 0, deleted=True)})
    return trigger_client_event(response, "entry:lines-changed")


@entry_role_required(Role.CLERK)
@require_POST
def entry_totals_partial(request: HtmxHttpRequest, type_code: str) -> HttpResponse:
    """Live totals: debits, credits, the difference and whether the voucher balances."""
    entry_def = _partial_definition(request, type_code, _posted_version(request))
    lookups = EntryLookups(request.organization)
    forms_ = entry_forms_bound(entry_def=entry_def, lookups=lookups, data=request.POST)
    totals = entry_totals(entry_def=entry_def, forms_=forms_)
    return render(request, f"{TEMPLATE}#totals", {"totals": totals, "entry_def": entry_def})


@entry_role_required(Role.CLERK)
@require_POST
def entry_validate(request: HtmxHttpRequest, type_code: str) -> HttpResponse:
    """Checks the one field (or line) just changed and returns its errors, out of band.

    Inputs are never sent back: a user typing on while the answer travels keeps what they typed.
    """
    entry_def = _partial_definition(request, type_code, _posted_version(request))
    lookups = EntryLookups(request.organization)
    changed = request.POST.get("changed", "")
    header_class, formset_class = entry_def.form_classes
    context: dict[str, Any] = {}
    if changed in entry_def.header_specs:
        form = header_class(data=request.POST, lookups=lookups)
        context["control"] = _control(
            form, entry_def.header_specs[changed], lookups, show_errors=True
        )
        return render(request, f"{TEMPLATE}#field-errors-oob", context)
    parts = changed.split("-", 2)
    if len(parts) != 3 or parts[0] != LINE_PREFIX or parts[2] not in entry_def.line_specs:
        return HttpResponse(status=204)
    try:
        index = int(parts[1])
    except ValueError:
        return HttpResponse(status=204)
    form = formset_class.form(
        data=request.POST,
        prefix=f"{LINE_PREFIX}-{index}",
        lookups=lookups,
        empty_permitted=True,
        use_required_attribute=False,
    )
    row = LineRow(index=index, number=0)
    if form.has_changed():
        for column in _columns(entry_def):
            value = request.POST.get(form.add_prefix(column.key), "")
            if column.key == parts[2] or value:
                row.errors += [f"{column.label}: {error}" for error in form[column.key].errors]
        row.errors = _messages(form.non_field_errors()) + row.errors
    context["row"] = row
    return render(request, f"{TEMPLATE}#row-errors-oob", context)


@entry_role_required(Role.CLERK)
@require_POST
def entry_preview_partial(request: HtmxHttpRequest, type_code: str) -> HttpResponse:
    """The exact ledger lines the voucher would post, or what still stops it."""
    entry_def = _partial_definition(request, type_code, _posted_version(request))
    lookups = EntryLookups(request.organization)
    forms_ = entry_forms_bound(entry_def=entry_def, lookups=lookups, data=request.POST)
    context: dict[str, Any] = {"entry_def": entry_def}
    try:
        context["preview"] = entry_preview(entry_def=entry_def, forms_=forms_, lookups=lookups)
    except EntryInvalid:
        context["preview_errors"] = _all_errors(entry_def, forms_)
    return render(request, f"{TEMPLATE}#preview", context)


def _all_errors(entry_def: EntryDefinition, forms_: EntryForms) -> list[str]:
    """Every problem of an entry as one list, each saying where it is."""
    errors = _form_errors(forms_)
    for key, messages_ in forms_.header.errors.items():
        if key != NON_FIELD_ERRORS:
            errors += [f"{entry_def.label(key)}: {message}" for message in messages_]
    number = 0
    for form in forms_.lines.forms:
        if is_removed(form):
            continue
        number += 1
        for key, messages_ in form.errors.items():
            where = f"Line {number}" + (
                "" if key == NON_FIELD_ERRORS else f", {entry_def.label(key)}"
            )
            errors += [f"{where}: {message}" for message in messages_]
    return errors


def _search(request: HtmxHttpRequest, type_code: str, kind: str) -> HttpResponse:
    try:
        version = int(request.GET.get("version", ""))
    except ValueError:
        version = None
    entry_def = _partial_definition(request, type_code, version)
    section = "line" if request.GET.get("section") == "line" else "header"
    try:
        spec = lookup_spec(entry_def, key=request.GET.get("field", ""), section=section, kind=kind)
    except KeyError as exc:
        raise Http404(str(exc.args[0])) from exc
    query = request.GET.get("q", "")[:100]
    search = account_search if kind == "account" else party_search
    results = search(organization=request.organization, spec=spec, query=query)
    context = {
        "results": results,
        "query": query,
        "kind": kind,
        "allowed": filter_description(spec) if kind == "account" else "",
    }
    return render(request, f"{TEMPLATE}#lookup-results", context)


@entry_role_required(Role.CLERK)
@require_GET
def entry_account_search(request: HtmxHttpRequest, type_code: str) -> HttpResponse:
    """Accounts for an account field as the user types: the organization's, the filter's."""
    return _search(request, type_code, "account")


@entry_role_required(Role.CLERK)
@require_GET
def entry_party_search(request: HtmxHttpRequest, type_code: str) -> HttpResponse:
    """Parties for a party field as the user types, limited to the field's role."""
    return _search(request, type_code, "party")
