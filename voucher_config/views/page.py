"""The configuration-driven entry page: the voucher type menu, a new voucher and a saved one.

Every button works without JavaScript: a plain POST acts on it and re-renders the page. With htmx
the same POST returns only the `entry` partial of `voucher_config/entry.html`. The rules are in
`voucher_config.entry`; these views read the request, call them and render what they return.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseClientRedirect, push_url

from accounting.dates import active_date_format, date_show
from accounting.entry_pages import (
    OutcomeListener,
    ignore_outcome,
    screen_mark,
    submission_key_new,
    submission_key_of,
)
from accounting.models import EntryChannel, Role, Voucher, VoucherStatus, VoucherType
from accounting.permissions import LEDGER_READ_ROLE, OrganizationRequest
from accounting.services.entering import EntryOutcome
from accounting.services.entry_rules import EntryAction, EntryRefused
from voucher_config.entry.actions import EntryInvalid, available_actions, entry_act
from voucher_config.entry.definitions import (
    ACTIONS,
    SAVE,
    ConfigChanged,
    EntryDefinition,
    EntryUnavailable,
    entry_definition_for_voucher,
    entry_definition_of,
)
from voucher_config.entry.forms import (
    entry_forms_blank,
    entry_forms_bound,
    entry_forms_carried_over,
    entry_forms_for_voucher,
    form_data_with_line,
    form_data_without_line,
    posted_line_count,
)
from voucher_config.entry.preview import (
    EntryPreview,
    EntryTotals,
    entry_preview,
    entry_totals,
    totals_from_lines,
)
from voucher_config.entry.problems import form_errors
from voucher_config.form_factory import ConfiguredForms, EntryLookups
from voucher_config.models import VoucherTypeConfig
from voucher_config.views.presentation import (
    TEMPLATE,
    entry_urls,
    grid_rows,
    header_sections,
    line_columns,
)
from voucher_config.views.request import HtmxHttpRequest, entry_role_required, posted_definition

REFUSED_HEADER = "X-Entry-Refused"  # tells entry.js a 403 is a refusal to show, not a lost session


def _screen(
    request: HtmxHttpRequest,
    *,
    entry_def: EntryDefinition,
    forms_: ConfiguredForms,
    lookups: EntryLookups,
    voucher: Voucher | None = None,
    show_errors: bool = True,
    totals: EntryTotals | None = None,
    preview: EntryPreview | None = None,
    notice: str = "",
    alert: str = "",
    autofocus_index: int | None = None,
) -> dict[str, Any]:
    columns = line_columns(entry_def)
    formset = forms_.lines
    type_name = entry_def.type_name
    heading = f"{type_name} voucher" + (
        f" {voucher.label} of {date_show(voucher.date)}" if voucher is not None else ": new"
    )
    return {
        "entry_def": entry_def,
        "heading": heading,
        "voucher": voucher,
        "sections": header_sections(entry_def, forms_.header, lookups, show_errors=show_errors),
        "columns": columns,
        "rows": grid_rows(
            entry_def,
            forms_,
            lookups,
            columns,
            show_errors=show_errors,
            autofocus_index=autofocus_index,
        ),
        "total_forms": formset.total_form_count(),
        "initial_forms": formset.initial_form_count(),
        "max_lines": entry_def.max_lines,
        "form_errors": form_errors(forms_) if show_errors else [],
        "totals": totals or EntryTotals(),
        "preview": preview,
        "notice": notice,
        "alert": alert,
        "urls": entry_urls(entry_def, voucher),
        "date_format": active_date_format(),
        # Posted balances beside the accounts and parties chosen: for whoever may read the ledger.
        "shows_balances": request.membership.has_role(LEDGER_READ_ROLE),
        "screen_mark": screen_mark(EntryChannel.CONFIG),
        "submission_key": submission_key_new(),
        "actions": available_actions(
            entry_def=entry_def, membership=request.membership, voucher=voucher
        ),
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


def _removed_line(action: str) -> int:
    """The line a "remove_line-<index>" button names; -1 when it names none."""
    try:
        return int(action.removeprefix("remove_line-"))
    except ValueError:
        return -1


def _entry_page(
    request: HtmxHttpRequest,
    *,
    entry_def: EntryDefinition,
    current: EntryDefinition | None,
    voucher: Voucher | None,
    on_outcome: OutcomeListener,
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

    posted_def = posted_definition(request, entry_def)
    action = request.POST.get("action") or SAVE

    def show(
        forms_: ConfiguredForms,
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
        data = form_data_with_line(request.POST, entry_def=posted_def)
        forms_ = entry_forms_bound(entry_def=posted_def, lookups=lookups, data=data)
        focus = min(posted_line_count(request.POST), posted_def.max_lines - 1)
        return show(forms_, show_errors=False, autofocus_index=focus)
    if action.startswith("remove_line-"):
        data = form_data_without_line(
            request.POST, entry_def=posted_def, index=_removed_line(action)
        )
        forms_ = entry_forms_bound(entry_def=posted_def, lookups=lookups, data=data)
        return show(forms_, show_errors=False)

    if voucher is not None and voucher.status == VoucherStatus.APPROVED:
        # Shown read-only, an approved voucher's fields are not sent: it is acted on as stored.
        forms_, _ = entry_forms_for_voucher(entry_def=posted_def, lookups=lookups, voucher=voucher)
    else:
        forms_ = entry_forms_bound(entry_def=posted_def, lookups=lookups, data=request.POST)
    if action == "preview":
        try:
            preview = entry_preview(entry_def=posted_def, forms_=forms_, lookups=lookups)
        except EntryInvalid:
            return show(forms_, status=422)
        return show(forms_, preview=preview)

    try:
        outcome = entry_act(
            action=action if action in ACTIONS else SAVE,
            entry_def=posted_def,
            current=current,
            forms_=forms_,
            membership=request.membership,
            user=request.user,
            voucher=voucher,
            submission_key=submission_key_of(request.POST),
        )
    except EntryInvalid as invalid:
        if invalid.rejected is not None:
            on_outcome(EntryOutcome.failed(EntryAction(action), invalid.rejected))
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
    on_outcome(outcome)
    assert outcome.voucher is not None
    return _after_action(
        request,
        outcome.voucher,
        outcome.message,
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


def config_entry_page(
    request: OrganizationRequest,
    *,
    config: VoucherTypeConfig,
    voucher: Voucher | None,
    on_outcome: OutcomeListener = ignore_outcome,
) -> HttpResponse:
    """The configuration-driven page of a new voucher of `config`'s type, or of the stored
    `voucher`: GET draws the form, POST acts on the button used and tells `on_outcome` what it
    did. A new voucher is entered with the active version; a stored one reopens with the
    version it was entered with.

    Whoever serves it has checked that the user is a member (a clerk at least) of the voucher's
    organization and read the type's configuration, active or not.
    """
    htmx_request = cast(HtmxHttpRequest, request)
    if voucher is None:
        if not config.is_active and request.method == "GET":
            raise Http404(f"{config.voucher_type} has no active configuration.")
        entry_def = entry_definition_of(config)
        current = entry_def if config.is_active else None
    else:
        if not voucher.is_editable:
            return redirect("voucher-detail", pk=voucher.pk)
        try:
            entry_def = entry_definition_for_voucher(voucher=voucher, config=config)
        except EntryUnavailable as exc:
            messages.info(request, str(exc))
            return redirect("voucher-detail", pk=voucher.pk)
        current = entry_def.current if config.is_active else None
    return _entry_page(
        htmx_request, entry_def=entry_def, current=current, voucher=voucher, on_outcome=on_outcome
    )
