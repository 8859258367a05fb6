"""Support's pages, thin: feedback (send, list, handle), announcements (publish, withdraw,
dismiss), a member's support view, and the first month's usage figures with their CSV.

Sending feedback and dismissing an announcement are any member's; everything else is for the
administrators of the active organization, and reads that organization's rows only.
"""

from __future__ import annotations

import io

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounting.csv_export import csv_rows_write, download_filename
from accounting.models import EntryRefusal, Membership, Role, Voucher, VoucherType
from accounting.permissions import OrganizationRequest, organization_role_required
from support.announcements import (
    AnnouncementInvalid,
    announcement_dismiss,
    announcement_publish,
    announcement_withdraw,
)
from support.feedback import FeedbackInvalid, feedback_mark_handled, feedback_of, feedback_send
from support.forms import AnnouncementForm, FeedbackFilterForm, FeedbackForm
from support.models import Announcement, Feedback
from support.screens import screen_decisions
from support.usage import usage_csv_rows, usage_rows, usage_window

RECENT = 20
FEEDBACK_PAGE = 200


def _back(request: OrganizationRequest, fallback: str = "home") -> str:
    wanted = str(request.POST.get("next") or request.GET.get("next") or "")
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return reverse(fallback)


# --- feedback ---------------------------------------------------------------------------------


@organization_role_required(Role.VIEWER)
@require_http_methods(["GET", "POST"])
def feedback_new(request: OrganizationRequest) -> HttpResponse:
    """The feedback form: the dialog every page opens posts here; without script, its link
    opens this page, which names the page it came from."""
    came_from = str(request.GET.get("next") or request.POST.get("next") or "")
    form = FeedbackForm(request.POST or None, initial={"path": came_from})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            feedback_send(
                organization=request.organization,
                user=request.user,
                message=data["message"],
                path=data["path"] or came_from,
                channel=data["channel"],
                voucher_type=data["voucher_type"],
                load_ms=data["load_ms"],
            )
        except FeedbackInvalid as exc:
            form.add_error("message", str(exc))
        else:
            messages.success(request, "Thank you: your feedback was sent to your administrators.")
            return redirect(_back(request))
    status = 422 if form.errors else 200
    return render(
        request, "support/feedback_new.html", {"form": form, "next": came_from}, status=status
    )


@organization_role_required(Role.ADMIN)
@require_GET
def feedback_list(request: OrganizationRequest) -> HttpResponse:
    type_codes = list(
        VoucherType.objects.filter(organization=request.organization)
        .order_by("code")
        .values_list("code", flat=True)
    )
    form = FeedbackFilterForm(request.GET or None, type_codes=type_codes)
    rows = feedback_of(organization=request.organization, **form.filters())
    return render(
        request,
        "support/feedback_list.html",
        {"form": form, "rows": rows[:FEEDBACK_PAGE], "count": rows.count()},
    )


def _feedback_or_404(request: OrganizationRequest, pk: int) -> Feedback:
    return get_object_or_404(
        Feedback.objects.select_related("user", "handled_by"),
        pk=pk,
        organization=request.organization,
    )


@organization_role_required(Role.ADMIN)
@require_GET
def feedback_detail(request: OrganizationRequest, pk: int) -> HttpResponse:
    feedback = _feedback_or_404(request, pk)
    history = feedback.history.select_related("history_user").order_by("-history_date")  # type: ignore[attr-defined]
    return render(
        request, "support/feedback_detail.html", {"feedback": feedback, "history": history}
    )


@organization_role_required(Role.ADMIN)
@require_POST
def feedback_handled(request: OrganizationRequest, pk: int) -> HttpResponse:
    feedback = _feedback_or_404(request, pk)
    handled = request.POST.get("handled", "1") != "0"
    feedback_mark_handled(feedback=feedback, user=request.user, handled=handled)
    messages.success(
        request, f"Feedback {feedback.pk} is {'handled' if handled else 'open again'}."
    )
    return redirect("support-feedback-detail", pk=feedback.pk)


# --- announcements ----------------------------------------------------------------------------


@organization_role_required(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def announcements(request: OrganizationRequest) -> HttpResponse:
    form = AnnouncementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            announcement_publish(
                organization=request.organization,
                user=request.user,
                title=form.cleaned_data["title"],
                message=form.cleaned_data["message"],
            )
        except AnnouncementInvalid as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "The announcement is shown to the organization's users.")
            return redirect("support-announcements")
    rows = Announcement.objects.filter(organization=request.organization).select_related(
        "published_by"
    )
    history = (
        Announcement.history.filter(organization_id=request.organization.pk)  # type: ignore[attr-defined]
        .select_related("history_user")
        .order_by("-history_date")[:50]
    )
    return render(
        request,
        "support/announcements.html",
        {"form": form, "rows": rows, "history": history},
        status=422 if form.errors else 200,
    )


@organization_role_required(Role.ADMIN)
@require_POST
def announcement_withdrawn(request: OrganizationRequest, pk: int) -> HttpResponse:
    announcement = get_object_or_404(Announcement, pk=pk, organization=request.organization)
    announcement_withdraw(announcement=announcement, user=request.user)
    messages.success(request, f"“{announcement.title}” is no longer shown.")
    return redirect("support-announcements")


@organization_role_required(Role.VIEWER)
@require_POST
def announcement_dismissed(request: OrganizationRequest, pk: int) -> HttpResponse:
    announcement = get_object_or_404(
        Announcement, pk=pk, organization=request.organization, withdrawn_at__isnull=True
    )
    announcement_dismiss(announcement=announcement, user=request.user)
    return HttpResponseRedirect(_back(request))


# --- the support view of a member -------------------------------------------------------------


@organization_role_required(Role.ADMIN)
@require_GET
def support_members(request: OrganizationRequest) -> HttpResponse:
    members = (
        Membership.objects.filter(organization=request.organization)
        .select_related("user")
        .order_by("user__username")
    )
    return render(request, "support/members.html", {"members": members})


@organization_role_required(Role.ADMIN)
@require_GET
def support_member(request: OrganizationRequest, user_id: int) -> HttpResponse:
    """A member's recent vouchers, their refused entries with rule and message, and the screen
    each voucher type opens in for them."""
    membership = get_object_or_404(
        Membership.objects.select_related("user"),
        organization=request.organization,
        user_id=user_id,
    )
    member = membership.user
    vouchers = (
        Voucher.objects.filter(organization=request.organization, created_by=member)
        .select_related("voucher_type")
        .order_by("-created_at", "-id")[:RECENT]
    )
    refusals = (
        EntryRefusal.objects.filter(organization=request.organization, user=member)
        .select_related("voucher_type", "voucher")
        .order_by("-refused_at", "-id")[:RECENT]
    )
    return render(
        request,
        "support/member.html",
        {
            "member": member,
            "membership": membership,
            "vouchers": vouchers,
            "refusals": refusals,
            "screens": screen_decisions(user=member, organization=request.organization),
        },
    )


# --- usage in the first month -----------------------------------------------------------------


@organization_role_required(Role.ADMIN)
@require_GET
def usage(request: OrganizationRequest) -> HttpResponse:
    window = usage_window(organization=request.organization)
    rows = usage_rows(organization=request.organization, window=window) if window else []
    if request.GET.get("format") == "csv":
        out = io.StringIO()
        csv_rows_write(usage_csv_rows(rows), out)
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        filename = download_filename("usage", request.organization.slug)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    return render(request, "support/usage.html", {"window": window, "rows": rows})
