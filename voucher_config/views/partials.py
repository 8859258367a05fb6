"""The entry page's HTMX endpoints: each returns only the fragment of the page it changes.

Add and remove a line, the running totals, the errors of the field just changed, the ledger
preview and the account and party searches, each rendered from a partial of
`voucher_config/entry.html`.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from accounting.dates import date_show
from accounting.models import Account, Party, Role
from accounting.permissions import LEDGER_READ_ROLE
from accounting.selectors import posted_balance
from voucher_config.entry.actions import EntryInvalid
from voucher_config.entry.definitions import lookup_spec
from voucher_config.entry.forms import (
    BalanceForm,
    changed_line_field,
    entry_forms_bound,
    line_form,
    line_limit_problem,
    lines_shown,
    posted_line_count,
)
from voucher_config.entry.preview import entry_preview, entry_totals
from voucher_config.entry.problems import all_errors
from voucher_config.entry.search import account_search, party_search
from voucher_config.form_factory import EntryLookups, filter_description
from voucher_config.views.presentation import (
    TEMPLATE,
    LineRow,
    checked_line_row,
    entry_urls,
    header_control,
    line_columns,
    line_row,
)
from voucher_config.views.request import (
    HtmxHttpRequest,
    definition_or_404,
    entry_role_required,
    posted_version,
)


@entry_role_required(Role.CLERK)
@require_POST
def entry_add_line(request: HtmxHttpRequest, type_code: str) -> HttpResponse:
    """One more blank line at the end of the grid, with the focus in it."""
    entry_def = definition_or_404(request, type_code, posted_version(request))
    lookups = EntryLookups(request.organization)
    index = posted_line_count(request.POST)
    shown = lines_shown(request.POST)
    context: dict[str, Any] = {"total_forms": index + 1}
    problem = line_limit_problem(entry_def, shown=shown)
    if problem:
        context["alert"] = problem
        return render(request, f"{TEMPLATE}#entry-alert-oob", context)
    form = line_form(entry_def=entry_def, lookups=lookups, index=index)
    columns = line_columns(entry_def)
    context["row"] = line_row(
        form, index, shown + 1, columns, entry_def, lookups, show_errors=False, autofocus=True
    )
    context["urls"] = entry_urls(entry_def, None)
    return render(request, f"{TEMPLATE}#added-line", context)


@entry_role_required(Role.CLERK)
@require_POST
def entry_remove_line(request: HtmxHttpRequest, type_code: str) -> HttpResponse:
    """Takes a line out of the grid: it stays in the form only as a deletion mark."""
    definition_or_404(request, type_code, posted_version(request))
    action = request.POST.get("action", "")
    try:
        index = int(action.removeprefix("remove_line-") if action else request.POST["line"])
    except (KeyError, ValueError):
        return HttpResponse("Say which line to remove.", status=400)
    if not 0 <= index < posted_line_count(request.POST):
        return HttpResponse(f"There is no line {index + 1}.", status=400)
    response = render(request, f"{TEMPLATE}#removed-line", {"row": LineRow(index, 0, deleted=True)})
    return trigger_client_event(response, "entry:lines-changed")


@entry_role_required(Role.CLERK)
@require_POST
def entry_totals_partial(request: HtmxHttpRequest, type_code: str) -> HttpResponse:
    """Live totals: debits, credits, the difference and whether the voucher balances."""
    entry_def = definition_or_404(request, type_code, posted_version(request))
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
    entry_def = definition_or_404(request, type_code, posted_version(request))
    lookups = EntryLookups(request.organization)
    changed = request.POST.get("changed", "")
    if changed in entry_def.header_specs:
        header = entry_def.form_classes[0](data=request.POST, lookups=lookups)
        control = header_control(header, entry_def.header_specs[changed], lookups, show_errors=True)
        return render(request, f"{TEMPLATE}#field-errors-oob", {"control": control})
    line_field = changed_line_field(entry_def, changed)
    if line_field is None:
        return HttpResponse(status=204)
    index, key = line_field
    form = line_form(entry_def=entry_def, lookups=lookups, index=index, data=request.POST)
    row = checked_line_row(entry_def, form, index, key)
    return render(request, f"{TEMPLATE}#row-errors-oob", {"row": row})


@entry_role_required(Role.CLERK)
@require_POST
def entry_preview_partial(request: HtmxHttpRequest, type_code: str) -> HttpResponse:
    """The exact ledger lines the voucher would post, or what still stops it."""
    entry_def = definition_or_404(request, type_code, posted_version(request))
    lookups = EntryLookups(request.organization)
    forms_ = entry_forms_bound(entry_def=entry_def, lookups=lookups, data=request.POST)
    context: dict[str, Any] = {"entry_def": entry_def}
    try:
        context["preview"] = entry_preview(entry_def=entry_def, forms_=forms_, lookups=lookups)
    except EntryInvalid:
        context["preview_errors"] = all_errors(entry_def, forms_)
    return render(request, f"{TEMPLATE}#preview", context)


def _search(request: HtmxHttpRequest, type_code: str, kind: str) -> HttpResponse:
    try:
        version = int(request.GET.get("version", ""))
    except ValueError:
        version = None
    entry_def = definition_or_404(request, type_code, version)
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


@entry_role_required(LEDGER_READ_ROLE)
@require_GET
def entry_balance(request: HtmxHttpRequest, type_code: str) -> HttpResponse:
    """The posted balance of the chosen account (`account=CODE`) or party (`party=CODE`) on the
    voucher's date (`date=`, ISO or the organization's format; today without one), as one line
    of text beside the field. For whoever may read the account ledger."""
    definition_or_404(request, type_code, None)
    organization = request.organization
    form = BalanceForm(request.GET)
    if not form.is_valid():
        return HttpResponse(" ".join(form.errors_text()), status=400, content_type="text/plain")
    code = form.cleaned_data["code"]
    on = form.cleaned_data["date"] or timezone.localdate()
    account = party = None
    if form.cleaned_data["kind"] == "account":
        account = Account.objects.filter(organization=organization, code=code).first()
        missing = account is None
    else:
        party = Party.objects.filter(organization=organization, code=code).first()
        missing = party is None
    if missing:
        raise Http404(f"{organization} has no {form.cleaned_data['kind']} {code!r}.")
    balance = posted_balance(organization=organization, on=on, account=account, party=party)
    text = f"Balance on {date_show(on)}: {balance.amount:,.2f} {balance.side}".rstrip()
    return HttpResponse(text, content_type="text/plain; charset=utf-8")
