"""The legacy entry pages: plain server-rendered forms, one page per voucher, no scripting.

Each button posts the whole form with its `action`: save a draft, submit it for approval,
approve it, post it, or add a line (which only re-renders the form with one more blank line).
The rollout router calls these views directly, so they stay plain functions of a request.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounting.models import EDITABLE_STATUSES, Role, Voucher, VoucherStatus, VoucherType
from accounting.outcomes import CREATED, POST_FAILED, POSTED, SAVED, outcome_note
from accounting.permissions import (
    OrganizationRequest,
    forbidden,
    organization_object_or_404,
    organization_role_required,
)
from accounting.services.drafts import (
    voucher_approve,
    voucher_draft_create,
    voucher_draft_update,
    voucher_submit,
)
from accounting.services.posting import voucher_create_posted, voucher_post
from accounting.services.rules import Problem, VoucherRejected
from legacy_entry.forms import LINE_PREFIX, VOUCHER_FORMS
from legacy_entry.screen_forms import LegacyForms
from legacy_entry.vouchers import LegacyVoucher, legacy_initial, legacy_voucher, rejection_place

SAVE = "save"
SUBMIT = "submit"
APPROVE = "approve"
POST = "post"
ADD_LINE = "add_line"
ACTIONS = (SAVE, SUBMIT, APPROVE, POST, ADD_LINE)
ACCOUNTANT_ACTIONS = {APPROVE: "approve", POST: "post"}

TEMPLATE = "legacy_entry/entry.html"


def _voucher_type_or_404(request: OrganizationRequest, type_code: str) -> VoucherType:
    code = type_code.upper()
    voucher_type = VoucherType.objects.filter(
        organization=request.organization, code=code, is_active=True
    ).first()
    if voucher_type is None or code not in VOUCHER_FORMS:
        raise Http404(f"There is no legacy entry form for voucher type {type_code!r}.")
    return voucher_type


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
) -> HttpResponse:
    membership = request.membership
    is_accountant = membership.has_role(Role.ACCOUNTANT)
    stored_status = voucher.status if voucher is not None else VoucherStatus.DRAFT
    editable = stored_status in (VoucherStatus.DRAFT, VoucherStatus.SUBMITTED)
    if voucher is None:
        title = f"New {voucher_type.name.lower()} voucher"
        action_url = reverse("legacy-entry-new", args=[voucher_type.code])
    else:
        title = f"Edit {voucher_type.name.lower()} voucher {voucher}"
        action_url = reverse("legacy-entry-edit", args=[voucher.pk])
    context: dict[str, Any] = {
        "title": title,
        "voucher_type": voucher_type,
        "voucher": voucher,
        "header": legacy_forms.header,
        "lines": legacy_forms.lines,
        "problems": problems or [],
        "has_errors": legacy_forms.has_errors(),
        "action_url": action_url,
        "editable": editable,
        "can_submit": editable and stored_status == VoucherStatus.DRAFT,
        "can_approve": is_accountant and stored_status == VoucherStatus.SUBMITTED,
        "can_post": is_accountant
        and stored_status in (VoucherStatus.DRAFT, VoucherStatus.APPROVED),
    }
    return render(request, TEMPLATE, context)


def _refused(request: OrganizationRequest, action: str) -> HttpResponse | None:
    if action in ACCOUNTANT_ACTIONS and not request.membership.has_role(Role.ACCOUNTANT):
        return forbidden(
            request,
            f"Only an accountant or an administrator can {ACCOUNTANT_ACTIONS[action]} a voucher; "
            f"your role in {request.organization} is {request.membership.get_role_display()}.",
        )
    return None


def _store(
    request: OrganizationRequest, *, action: str, entered: LegacyVoucher, voucher: Voucher | None
) -> Voucher:
    """Saves the voucher entered and carries out the action, all or nothing."""
    user, voucher_input = request.user, entered.voucher_input
    if voucher is None and action == POST:
        # A new voucher posts in one step: a refusal leaves nothing behind.
        return voucher_create_posted(
            organization=request.organization, voucher_input=voucher_input, user=user
        )
    with transaction.atomic():
        if voucher is None:
            saved = voucher_draft_create(
                organization=request.organization, voucher_input=voucher_input, user=user
            )
        else:
            saved = voucher_draft_update(voucher=voucher, voucher_input=voucher_input, user=user)
        if action == SUBMIT:
            saved = voucher_submit(voucher=saved, user=user)
        elif action == POST:
            saved = voucher_post(voucher=saved, user=user)
    return saved


DONE = {
    SAVE: "Draft {voucher} is saved.",
    SUBMIT: "{voucher} is submitted for approval.",
    POST: "{voucher} is posted.",
}


def _entry_post(
    request: OrganizationRequest, *, voucher_type: VoucherType, voucher: Voucher | None
) -> HttpResponse:
    action = _action(request)
    refusal = _refused(request, action)
    if refusal is not None:
        return refusal
    organization, type_code = request.organization, voucher_type.code
    if action == ADD_LINE:
        legacy_forms = LegacyForms.with_added_line(
            organization=organization, type_code=type_code, data=request.POST
        )
        return _render(
            request, legacy_forms=legacy_forms, voucher_type=voucher_type, voucher=voucher
        )
    if voucher is not None and (
        action == APPROVE
        or voucher.status == VoucherStatus.APPROVED
        or (action == POST and voucher.status == VoucherStatus.SUBMITTED)
    ):
        # These act on the voucher as it was submitted or approved, not on the form's values.
        return _stored_voucher_action(request, action=action, voucher=voucher)

    legacy_forms = LegacyForms(organization=organization, type_code=type_code, data=request.POST)
    if voucher is None and action == APPROVE:
        legacy_forms.is_valid()
        problem = "Save the voucher and submit it for approval before approving it."
        return _render(
            request, legacy_forms=legacy_forms, voucher_type=voucher_type, problems=[problem]
        )
    if not legacy_forms.is_valid():
        return _render(
            request, legacy_forms=legacy_forms, voucher_type=voucher_type, voucher=voucher
        )
    entered = legacy_voucher(legacy_forms=legacy_forms, voucher_type=voucher_type)
    if voucher is not None:
        # The approval a voucher needs was decided when it was first entered; keep it.
        entered.voucher_input.requires_approval = voucher.requires_approval
    try:
        saved = _store(request, action=action, entered=entered, voucher=voucher)
    except VoucherRejected as rejected:
        if action == POST:
            outcome_note(request, kind=POST_FAILED, reason=rejected.reason)
        problems = rejection_place(
            legacy_forms=legacy_forms, sources=entered.sources, rejected=rejected
        )
        verb = "posted" if action == POST else "saved"
        summary = f"Nothing was {verb}: correct the errors shown below."
        return _render(
            request,
            legacy_forms=legacy_forms,
            voucher_type=voucher_type,
            voucher=voucher,
            problems=[summary, *problems],
        )
    outcome_note(request, kind=CREATED if voucher is None else SAVED, voucher_id=saved.pk)
    if action == POST:
        outcome_note(request, kind=POSTED, voucher_id=saved.pk)
    messages.success(request, DONE.get(action, DONE[SAVE]).format(voucher=saved))
    return redirect(reverse("voucher-detail", args=[saved.pk]))


def _stored_voucher_action(
    request: OrganizationRequest, *, action: str, voucher: Voucher
) -> HttpResponse:
    """Approving, or posting an approved voucher: acts on the voucher as stored, not the form."""
    try:
        if action == APPROVE:
            done = voucher_approve(voucher=voucher, user=request.user)
            message = f"{done} is approved."
        elif action == POST:
            done = voucher_post(voucher=voucher, user=request.user)
            outcome_note(request, kind=POSTED, voucher_id=done.pk)
            message = f"{done} is posted."
        else:
            status = voucher.get_status_display().lower()
            problem = Problem(f"is {status} and can no longer be changed; post it", rule="status")
            raise VoucherRejected(str(voucher), [problem])
    except VoucherRejected as rejected:
        if action == POST:
            outcome_note(request, kind=POST_FAILED, reason=rejected.reason)
        if voucher.status == VoucherStatus.APPROVED or not _has_entry(request):
            legacy_forms = _stored_forms(request, voucher=voucher)
        else:
            # Keep what the user typed; the refusal is about the voucher, not the values.
            legacy_forms = LegacyForms(
                organization=request.organization,
                type_code=voucher.voucher_type.code,
                data=request.POST,
            )
        return _render(
            request,
            legacy_forms=legacy_forms,
            voucher_type=voucher.voucher_type,
            voucher=voucher,
            problems=rejected.messages,
        )
    messages.success(request, message)
    return redirect(reverse("voucher-detail", args=[done.pk]))


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


@organization_role_required(Role.CLERK)
@require_http_methods(["GET", "POST"])
def legacy_entry_new(request: OrganizationRequest, type_code: str) -> HttpResponse:
    voucher_type = _voucher_type_or_404(request, type_code)
    if request.method == "POST":
        return _entry_post(request, voucher_type=voucher_type, voucher=None)
    legacy_forms = LegacyForms(organization=request.organization, type_code=voucher_type.code)
    return _render(request, legacy_forms=legacy_forms, voucher_type=voucher_type)


@organization_role_required(Role.CLERK)
@require_http_methods(["GET", "POST"])
def legacy_entry_edit(request: OrganizationRequest, pk: int) -> HttpResponse:
    voucher = organization_object_or_404(
        request, Voucher.objects.select_related("voucher_type", "party"), pk=pk
    )
    if voucher.voucher_type.code not in VOUCHER_FORMS:
        raise Http404(f"There is no legacy entry form for voucher type {voucher.voucher_type}.")
    if voucher.status not in EDITABLE_STATUSES:
        messages.info(
            request, f"{voucher} is {voucher.get_status_display().lower()}; it cannot be edited."
        )
        return redirect(reverse("voucher-detail", args=[voucher.pk]))
    if request.method == "POST":
        return _entry_post(request, voucher_type=voucher.voucher_type, voucher=voucher)
    return _render(
        request,
        legacy_forms=_stored_forms(request, voucher=voucher),
        voucher_type=voucher.voucher_type,
        voucher=voucher,
    )
