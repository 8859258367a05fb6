"""Ledger pages: home, trial balance, account ledger, vouchers, reversal, organization switch."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounting import reports, selectors
from accounting.csv_export import csv_rows_write, download_filename
from accounting.forms import (
    AccountLedgerForm,
    PeriodForm,
    ReversalForm,
    TrialBalanceForm,
    VoucherFilterForm,
)
from accounting.middleware import SESSION_KEY
from accounting.models import FiscalYear, Membership, Role, Voucher, VoucherStatus, VoucherType
from accounting.permissions import (
    LEDGER_READ_ROLE,
    OrganizationRequest,
    forbidden,
    organization_object_or_404,
    organization_role_required,
)
from accounting.services import entering, posting
from accounting.services.checks import VoucherRejected
from accounting.services.entry_rules import EntryRefused
from accounting.voucher_terms import voucher_data_terms

VOUCHERS_PER_PAGE = 50


def _csv_download(filename: str, rows: Iterable[Sequence[object]]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    csv_rows_write(rows, response)
    return response


def _wants_csv(request: HttpRequest) -> bool:
    return request.GET.get("format") == "csv"


@organization_role_required(Role.VIEWER)
@require_GET
def home(request: OrganizationRequest) -> HttpResponse:
    counts = selectors.voucher_counts(organization=request.organization)
    return render(request, "accounting/home.html", {"counts": counts})


@organization_role_required(Role.VIEWER)
@require_GET
def trial_balance(request: OrganizationRequest) -> HttpResponse:
    today = timezone.localdate()
    form = TrialBalanceForm(request.GET or None, initial={"as_of": today})
    as_of = form.as_of_or(today)
    report = reports.trial_balance(organization=request.organization, as_of=as_of)
    if _wants_csv(request):
        filename = download_filename("trial-balance", request.organization.slug, as_of.isoformat())
        return _csv_download(filename, report.csv_rows())
    return render(request, "accounting/trial_balance.html", {"form": form, "report": report})


@organization_role_required(Role.VIEWER)
@require_GET
def period_trial_balance(request: OrganizationRequest) -> HttpResponse:
    """Opening, debits, credits and closing per account for a period, with group subtotals."""
    today = timezone.localdate()
    organization = request.organization
    default_start = _year_start(organization.pk, today)
    form = PeriodForm(request.GET or None, initial={"start": default_start, "end": today})
    start, end = form.period_or(default_start, today)
    report = reports.period_trial_balance(organization=organization, start=start, end=end)
    if _wants_csv(request):
        filename = download_filename(
            "period-trial-balance", organization.slug, start.isoformat(), end.isoformat()
        )
        return _csv_download(filename, report.csv_rows())
    return render(request, "accounting/period_trial_balance.html", {"form": form, "report": report})


def _year_start(organization_id: int, on: date) -> date:
    """The start of the fiscal year containing `on`, or 1 January when no year contains it."""
    start = (
        FiscalYear.objects.filter(
            organization_id=organization_id, start_date__lte=on, end_date__gte=on
        )
        .values_list("start_date", flat=True)
        .first()
    )
    return start or date(on.year, 1, 1)


@organization_role_required(LEDGER_READ_ROLE)
@require_GET
def account_ledger(request: OrganizationRequest) -> HttpResponse:
    today = timezone.localdate()
    organization = request.organization
    default_start = _year_start(organization.pk, today)
    form = AccountLedgerForm(
        request.GET or None,
        organization=organization,
        initial={"start": default_start, "end": today},
    )
    ledger = None
    if form.is_bound and form.is_valid():
        start = form.cleaned_data["start"] or default_start
        end = form.cleaned_data["end"] or max(today, start)
        ledger = reports.account_ledger(
            organization=organization, account=form.cleaned_data["account"], start=start, end=end
        )
        if _wants_csv(request):
            filename = download_filename(
                "ledger", organization.slug, ledger.account.code, start.isoformat(), end.isoformat()
            )
            return _csv_download(filename, ledger.csv_rows())
    return render(request, "accounting/account_ledger.html", {"form": form, "ledger": ledger})


@organization_role_required(Role.VIEWER)
@require_GET
def voucher_list(request: OrganizationRequest) -> HttpResponse:
    form = VoucherFilterForm(request.GET or None, organization=request.organization)
    vouchers = selectors.voucher_list(organization=request.organization, filters=form.filters())
    if _wants_csv(request):
        filename = download_filename(
            "vouchers", request.organization.slug, timezone.localdate().isoformat()
        )
        return _csv_download(filename, selectors.voucher_list_csv_rows(vouchers))
    page = Paginator(vouchers, VOUCHERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "accounting/voucher_list.html", {"form": form, "page": page})


@organization_role_required(Role.VIEWER)
@require_GET
def voucher_detail(request: OrganizationRequest, pk: int) -> HttpResponse:
    voucher = organization_object_or_404(
        request,
        Voucher.objects.select_related(
            "voucher_type",
            "party",
            "fiscal_year",
            "created_by",
            "posted_by",
            "approved_by",
            "reversal_of",
        ),
        pk=pk,
    )
    history = voucher.history  # type: ignore[attr-defined]
    context = {
        "voucher": voucher,
        "lines": voucher.lines.select_related("account", "party").order_by("order", "id"),
        "entries": voucher.ledger_entries.select_related("account", "party").order_by("line_order"),
        "history": history.select_related("history_user").order_by("-history_date", "-history_id"),
        "reversed_by": Voucher.objects.filter(reversal_of=voucher).only("pk", "number").first(),
        "data_fields": selectors.voucher_data_fields(
            voucher=voucher, terms=voucher_data_terms(voucher=voucher)
        ),
        "can_give_up": voucher.is_editable and request.membership.has_role(Role.CLERK),
        "can_duplicate": request.membership.has_role(Role.CLERK),
        "can_reverse": voucher.status == VoucherStatus.POSTED
        and voucher.reversal_of_id is None
        and may_reverse(request.membership, voucher.voucher_type),
    }
    return render(request, "accounting/voucher_detail.html", context)


def may_reverse(membership: Membership, voucher_type: VoucherType) -> bool:
    """An accountant may reverse, and so may whoever may post the voucher's type."""
    return membership.has_role(Role.ACCOUNTANT) or membership.has_role(voucher_type.poster_role)


@organization_role_required(Role.CLERK)
@require_http_methods(["GET", "POST"])
def voucher_reverse(request: OrganizationRequest, pk: int) -> HttpResponse:
    """Asks for the reversal's date and reason (GET), then posts the reversal (POST)."""
    voucher = organization_object_or_404(
        request, Voucher.objects.select_related("voucher_type"), pk=pk
    )
    if not may_reverse(request.membership, voucher.voucher_type):
        return forbidden(
            request,
            f"Reversing a {voucher.voucher_type.name.lower()} voucher needs the accountant role "
            f"or the {voucher.voucher_type.get_poster_role_display().lower()} role.",
        )
    default_date = posting.reversal_default_date(voucher=voucher, today=timezone.localdate())
    form = ReversalForm(request.POST or None, initial={"date": default_date})
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            reversal = posting.voucher_reverse(
                voucher=voucher,
                user=request.user,
                on=form.cleaned_data["date"],
                reason=form.cleaned_data["reason"],
            )
        except VoucherRejected as rejected:
            problems = rejected.messages
        else:
            messages.success(request, f"{voucher.number} is reversed by {reversal.number}.")
            return redirect("voucher-detail", pk=reversal.pk)
    blocked = [problem.describe(voucher.label) for problem in posting.reversal_problems(voucher)]
    if request.method == "GET":
        problems = blocked
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "accounting/voucher_reverse.html",
        {"voucher": voucher, "form": form, "problems": problems, "blocked": bool(blocked)},
        status=status,
    )


@organization_role_required(Role.CLERK)
@require_POST
def voucher_duplicate(request: OrganizationRequest, pk: int) -> HttpResponse:
    """A new draft with the voucher's header and lines, dated today, opened in the entry screen."""
    voucher = organization_object_or_404(
        request, Voucher.objects.select_related("voucher_type", "organization"), pk=pk
    )
    try:
        outcome = entering.voucher_duplicate(
            voucher=voucher,
            membership=request.membership,
            user=request.user,
            on=timezone.localdate(),
        )
    except EntryRefused as refused:
        return forbidden(request, refused.message)
    except VoucherRejected as rejected:
        for message in rejected.messages:
            messages.error(request, message)
        return redirect("voucher-detail", pk=voucher.pk)
    assert outcome.voucher is not None
    messages.success(
        request, f"{outcome.voucher} is a copy of {voucher.label}, dated today: check it and save."
    )
    return redirect("entry-edit", pk=outcome.voucher.pk)


def _draft_give_up(request: OrganizationRequest, pk: int, *, deleting: bool) -> HttpResponse:
    voucher = organization_object_or_404(
        request, Voucher.objects.select_related("voucher_type", "organization"), pk=pk
    )
    verb = "delete" if deleting else "cancel"
    problems: list[str] = []
    if request.method == "POST":
        try:
            if deleting:
                entering.entry_delete(
                    voucher=voucher, membership=request.membership, user=request.user
                )
            else:
                entering.entry_cancel(
                    voucher=voucher, membership=request.membership, user=request.user
                )
        except EntryRefused as refused:
            return forbidden(request, refused.message)
        except VoucherRejected as rejected:
            problems = rejected.messages
        else:
            if deleting:
                messages.success(request, f"{voucher} is deleted.")
                return redirect("voucher-list")
            messages.success(request, f"{voucher.label} is cancelled.")
            return redirect("voucher-detail", pk=voucher.pk)
    return render(
        request,
        "accounting/voucher_give_up.html",
        {"voucher": voucher, "verb": verb, "deleting": deleting, "problems": problems},
        status=400 if problems else 200,
    )


@organization_role_required(Role.CLERK)
@require_http_methods(["GET", "POST"])
def voucher_cancel(request: OrganizationRequest, pk: int) -> HttpResponse:
    """Asks (GET), then cancels (POST) an unposted voucher; it stays on record, cancelled."""
    return _draft_give_up(request, pk, deleting=False)


@organization_role_required(Role.CLERK)
@require_http_methods(["GET", "POST"])
def voucher_delete(request: OrganizationRequest, pk: int) -> HttpResponse:
    """Asks (GET), then deletes (POST) a draft that was never submitted."""
    return _draft_give_up(request, pk, deleting=True)


@organization_role_required(Role.VIEWER)
@require_POST
def organization_switch(request: OrganizationRequest) -> HttpResponse:
    try:
        organization_id = int(request.POST.get("organization", ""))
    except ValueError:
        raise Http404("Choose an organization to switch to.") from None
    membership = (
        Membership.objects.select_related("organization")
        .filter(user_id=request.user.pk, organization_id=organization_id)
        .first()
    )
    if membership is None:
        raise Http404("You are not a member of that organization.")
    request.session[SESSION_KEY] = membership.organization_id
    messages.success(request, f"You are now working in {membership.organization}.")
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(next_url)
    return redirect("home")
