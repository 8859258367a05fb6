"""The entry URLs: the rollout flag, or the form's own mark, picks the screen that serves them.

The router reads the voucher type, the voucher and the configuration once, checks the role once,
and hands them to the chosen screen's page; the page tells the router what it did.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from accounting.entry_pages import screen_of
from accounting.models import EntryChannel, Role, Voucher, VoucherType
from accounting.permissions import OrganizationRequest, organization_role_required
from legacy_entry.views import legacy_entry_page
from rollout.recording import OutcomeTally, routed
from rollout.routing import Route, route_for
from voucher_config.views.page import config_entry_page


def _voucher_type_or_404(request: OrganizationRequest, type_code: str) -> VoucherType:
    return get_object_or_404(
        VoucherType, organization=request.organization, code=type_code.upper(), is_active=True
    )


def _voucher_or_404(request: OrganizationRequest, pk: int) -> Voucher:
    return get_object_or_404(
        Voucher.objects.select_related("voucher_type", "party", "organization"),
        pk=pk,
        organization=request.organization,
    )


def _serve(
    request: OrganizationRequest,
    route: Route,
    *,
    voucher_type: VoucherType,
    voucher: Voucher | None,
) -> HttpResponse:
    def page(tally: OutcomeTally) -> HttpResponse:
        if route.channel == EntryChannel.CONFIG:
            assert route.config is not None
            return config_entry_page(
                request, config=route.config, voucher=voucher, on_outcome=tally
            )
        return legacy_entry_page(
            request, voucher_type=voucher_type, voucher=voucher, on_outcome=tally
        )

    return routed(request, route=route, voucher_type=voucher_type.code, page=page)


def _drawn_by(request: OrganizationRequest) -> str | None:
    return screen_of(request.POST) if request.method == "POST" else None


@organization_role_required(Role.CLERK)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request", "Cookie")
def voucher_entry_new(request: OrganizationRequest, type_code: str) -> HttpResponse:
    voucher_type = _voucher_type_or_404(request, type_code)
    route = route_for(
        request,
        organization=request.organization,
        type_code=voucher_type.code,
        drawn_by=_drawn_by(request),
    )
    return _serve(request, route, voucher_type=voucher_type, voucher=None)


@organization_role_required(Role.CLERK)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request", "Cookie")
def voucher_entry_edit(request: OrganizationRequest, pk: int) -> HttpResponse:
    voucher = _voucher_or_404(request, pk)
    route = route_for(
        request,
        organization=request.organization,
        type_code=voucher.voucher_type.code,
        drawn_by=_drawn_by(request),
    )
    return _serve(request, route, voucher_type=voucher.voucher_type, voucher=voucher)


# The legacy screen by its own address, whatever the flag says: for support and for comparing
# the two screens side by side. Its form posts to the routed URLs above, and is counted there.


@organization_role_required(Role.CLERK)
@require_http_methods(["GET"])
def legacy_entry_new(request: OrganizationRequest, type_code: str) -> HttpResponse:
    voucher_type = _voucher_type_or_404(request, type_code)
    return _serve(request, Route(EntryChannel.LEGACY), voucher_type=voucher_type, voucher=None)


@organization_role_required(Role.CLERK)
@require_http_methods(["GET"])
def legacy_entry_edit(request: OrganizationRequest, pk: int) -> HttpResponse:
    voucher = _voucher_or_404(request, pk)
    route = Route(EntryChannel.LEGACY)
    return _serve(request, route, voucher_type=voucher.voucher_type, voucher=voucher)
