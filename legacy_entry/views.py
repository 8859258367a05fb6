"""The legacy entry pages: plain server-rendered forms, one page per voucher, no scripting.

Each button posts the whole form with its `action`: save a draft, submit it for approval,
approve it, post it, or add a line (which only re-renders the form with one more blank line).
Saving and acting go through the ledger's entry service, as on every screen. The page is served
by whoever routes entry requests; the form posts back to the routed entry URL with a signed mark
saying this screen drew it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from accounting.dates import date_show
from accounting.entry_pages import (
    OutcomeListener,
    ignore_outcome,
    screen_mark,
    submission_key_new,
    submission_key_of,
)
from accounting.models import EDITABLE_STATUSES, EntryChannel, Voucher, VoucherStatus, VoucherType
from accounting.permissions import OrganizationRequest
from accounting.services.checks import VoucherRejected
from accounting.services.entering import EntryOutcome, voucher_enter
from accounting.services.entry_rules import EntryAction, EntryRefused, EntryWorkflow, entry_refusal
from legacy_entry.forms import LINE_PREFIX, VOUCHER_FORMS
from legacy_entry.screen_forms import LegacyForms
from legacy_entry.vouchers import LegacyVoucher, legacy_initial, legacy_voucher, rejection_place

SAVE = "save"
SUBMIT = "submit"
APPROVE = "approve"
POST = "post"
ADD_LINE = "add_line"
ACTIONS = (SAVE, SUBMIT, APPROVE, POST, ADD_LINE)

TEMPLATE = "legacy_entry/entry.html"


def _action(request: OrganizationRequest) -> str:
    action = request.POST.get("action") or SAVE
    return action if action in ACTIONS else SAVE


def _render(
    request: OrganizationRequest,
    *,
    legacy_forms: LegacyForms,
    voucher_type: VoucherType,
    voucher: Voucher | None = None,
    problems: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    stored_status = voucher.status if voucher is not None else VoucherStatus.DRAFT
    editable = stored_status in (VoucherStatus.DRAFT, VoucherStatus.SUBMITTED)
    needs_approval = voucher_type.requires_approval or (
        voucher is not None and voucher.requires_approval
    )
    if voucher is None:
        title = f"New {voucher_type.name.lower()} voucher"
        action_url = reverse("entry-new", args=[voucher_type.code])
    else:
        title = (
            f"Edit {voucher_type.name.lower()} voucher {voucher.label} of {date_show(voucher.date)}"
        )
        action_url = reverse("entry-edit", args=[voucher.pk])
    context: dict[str, Any] = {
        "title": title,
        "voucher_type": voucher_type,
        "voucher": voucher,
        "header": legacy_forms.header,
        "lines": legacy_forms.lines,
        "problems": problems or [],
        "has_errors": legacy_forms.has_errors(),
        "action_url": action_url,
        "screen_mark": screen_mark(EntryChannel.LEGACY),
        "submission_key": submission_key_new(),
        "editable": editable,
        "can_submit": editable and stored_status == VoucherStatus.DRAFT,
        "can_approve": stored_status == VoucherStatus.SUBMITTED
        and _allowed(request, EntryAction.APPROVE, voucher_type=voucher_type, voucher=voucher),
        "can_post": (
            stored_status == VoucherStatus.APPROVED
            or (stored_status == VoucherStatus.DRAFT and not needs_approval)
        )
        and _allowed(request, EntryAction.POST, voucher_type=voucher_type, voucher=voucher),
    }
    return render(request, TEMPLATE, context, status=status)


def _allowed(
    request: OrganizationRequest,
    action: EntryAction,
    *,
    voucher_type: VoucherType,
    voucher: Voucher | None,
) -> bool:
    """Whether the ledger's entry rules let this user take `action`: the button is shown."""
    return (
        entry_refusal(
            organization=request.organization,
            membership=request.membership,
            workflow=EntryWorkflow.of(voucher_type),
            action=action,
            voucher=voucher,
            type_name=voucher_type.name,
        )
        is None
    )


def _refusal_shown(
    request: OrganizationRequest,
    refused: EntryRefused,
    *,
    voucher_type: VoucherType,
    voucher: Voucher | None,
) -> HttpResponse:
    """The form again, as the user left it, with why the action is not theirs to take."""
    legacy_forms = _forms_as_posted(request, voucher_type=voucher_type, voucher=voucher)
    return _render(
        request,
        legacy_forms=legacy_forms,
        voucher_type=voucher_type,
        voucher=voucher,
        problems=[refused.message],
        status=403,
    )


def _forms_as_posted(
    request: OrganizationRequest, *, voucher_type: VoucherType, voucher: Voucher | None
) -> LegacyForms:
    if voucher is not None and (
        voucher.status == VoucherStatus.APPROVED or not _has_entry(request)
    ):
        return _stored_forms(request, voucher=voucher)
    legacy_forms = LegacyForms(
        organization=request.organization, type_code=voucher_type.code, data=request.POST
    )
    legacy_forms.is_valid()
    return legacy_forms


def _acts_on_stored(action: str, voucher: Voucher | None) -> bool:
    """Approving, and posting a submitted or approved voucher, act on the voucher as it was
    submitted: an approved voucher's form is shown read-only and posts no values."""
    return voucher is not None and (
        action == APPROVE
        or voucher.status == VoucherStatus.APPROVED
        or (action == POST and voucher.status == VoucherStatus.SUBMITTED)
    )


def _entry_post(
    request: OrganizationRequest,
    *,
    voucher_type: VoucherType,
    voucher: Voucher | None,
    on_outcome: OutcomeListener,
) -> HttpResponse:
    action = _action(request)
    organization, type_code = request.organization, voucher_type.code
    if action == ADD_LINE:
        with_line = LegacyForms.with_added_line(
            organization=organization, type_code=type_code, data=request.POST
        )
        return _render(request, legacy_forms=with_line, voucher_type=voucher_type, voucher=voucher)
    entry_action = EntryAction(action)
    entered: LegacyVoucher | None = None
    legacy_forms: LegacyForms | None = None
    if not _acts_on_stored(action, voucher):
        legacy_forms = LegacyForms(
            organization=organization, type_code=type_code, data=request.POST
        )
        if not legacy_forms.is_valid():
            return _render(
                request,
                legacy_forms=legacy_forms,
                voucher_type=voucher_type,
                voucher=voucher,
                status=422,
            )
        entered = legacy_voucher(
            legacy_forms=legacy_forms, voucher_type=voucher_type, stored=voucher
        )
    try:
        outcome = voucher_enter(
            organization=organization,
            membership=request.membership,
            user=request.user,
            action=entry_action,
            voucher_input=entered.voucher_input if entered is not None else None,
            voucher=voucher,
            submission_key=submission_key_of(request.POST),
        )
    except EntryRefused as refused:
        return _refusal_shown(request, refused, voucher_type=voucher_type, voucher=voucher)
    except VoucherRejected as rejected:
        on_outcome(EntryOutcome.failed(entry_action, rejected))
        if legacy_forms is None or entered is None:
            legacy_forms = _forms_as_posted(request, voucher_type=voucher_type, voucher=voucher)
            problems = rejected.messages
        else:
            problems = rejection_place(
                legacy_forms=legacy_forms, sources=entered.sources, rejected=rejected
            )
        verb = "posted" if entry_action == EntryAction.POST else "saved"
        return _render(
            request,
            legacy_forms=legacy_forms,
            voucher_type=voucher_type,
            voucher=voucher,
            problems=[f"Nothing was {verb}: correct the errors shown below.", *problems],
            status=422,
        )
    on_outcome(outcome)
    assert outcome.voucher is not None
    messages.success(request, outcome.message)
    return redirect(reverse("voucher-detail", args=[outcome.voucher.pk]))


def _has_entry(request: OrganizationRequest) -> bool:
    return f"{LINE_PREFIX}-TOTAL_FORMS" in request.POST


def _stored_forms(request: OrganizationRequest, *, voucher: Voucher) -> LegacyForms:
    header, lines = legacy_initial(voucher=voucher)
    legacy_forms = LegacyForms(
        organization=request.organization,
        type_code=voucher.voucher_type.code,
        initial_header=header,
        initial_lines=lines,
        blank_lines=0 if voucher.status == VoucherStatus.APPROVED else 1,
    )
    if voucher.status == VoucherStatus.APPROVED:
        legacy_forms.disable()
    return legacy_forms


def legacy_entry_page(
    request: OrganizationRequest,
    *,
    voucher_type: VoucherType,
    voucher: Voucher | None,
    on_outcome: OutcomeListener = ignore_outcome,
) -> HttpResponse:
    """The legacy page of a new voucher of `voucher_type`, or of the stored `voucher`: GET draws
    the form, POST acts on the button used and tells `on_outcome` what it did.

    Whoever serves it has checked that the user is a member (a clerk at least) of the voucher's
    organization and that the voucher is theirs.
    """
    if voucher_type.code not in VOUCHER_FORMS:
        raise Http404(f"There is no legacy entry form for voucher type {voucher_type}.")
    if voucher is not None and voucher.status not in EDITABLE_STATUSES:
        messages.info(
            request, f"{voucher} is {voucher.get_status_display().lower()}; it cannot be edited."
        )
        return redirect(reverse("voucher-detail", args=[voucher.pk]))
    if request.method == "POST":
        return _entry_post(
            request, voucher_type=voucher_type, voucher=voucher, on_outcome=on_outcome
        )
    if voucher is None:
        legacy_forms = LegacyForms(organization=request.organization, type_code=voucher_type.code)
    else:
        legacy_forms = _stored_forms(request, voucher=voucher)
    return _render(request, legacy_forms=legacy_forms, voucher_type=voucher_type, voucher=voucher)
