"""The one entry URL per voucher type: the rollout flag picks which UI serves it."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from accounting.legacy.views import legacy_entry_edit, legacy_entry_new
from accounting.models import EntryChannel, Role, Voucher
from accounting.permissions import OrganizationRequest, organization_role_required
from voucher_config.rollout import route_for, routed
from voucher_config.views import page as config_views


@organization_role_required(Role.CLERK)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request", "Cookie")
def voucher_entry_new(request: OrganizationRequest, type_code: str) -> HttpResponse:
    route = route_for(request, organization=request.organization, type_code=type_code)
    view = config_views.entry_new if route.channel == EntryChannel.CONFIG else legacy_entry_new
    return routed(request, route=route, voucher_type=type_code, view=view, type_code=type_code)


@organization_role_required(Role.CLERK)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request", "Cookie")
def voucher_entry_edit(request: OrganizationRequest, pk: int) -> HttpResponse:
    voucher = get_object_or_404(
        Voucher.objects.select_related("voucher_type"), pk=pk, organization=request.organization
    )
    type_code = voucher.voucher_type.code
    route = route_for(request, organization=request.organization, type_code=type_code)
    view = config_views.entry_edit if route.channel == EntryChannel.CONFIG else legacy_entry_edit
    return routed(request, route=route, voucher_type=type_code, view=view, pk=pk)
