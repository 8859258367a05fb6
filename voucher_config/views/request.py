"""What every entry view reads from its request: the role it needs and the configuration version."""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, cast

from django.http import Http404, HttpRequest, HttpResponse
from django_htmx.middleware import HtmxDetails

from accounting.permissions import OrganizationRequest, organization_role_required
from voucher_config.entry.definitions import (
    EntryDefinition,
    EntryUnavailable,
    entry_definition,
    entry_definition_as_posted,
)


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


def posted_version(request: HttpRequest) -> int | None:
    """The configuration version the posted form was rendered with, if it says."""
    try:
        return int(request.POST.get("config_version", ""))
    except ValueError:
        return None


def posted_definition(request: HttpRequest, entry_def: EntryDefinition) -> EntryDefinition:
    """The configuration version the posted form was rendered with."""
    return entry_definition_as_posted(entry_def=entry_def, version=posted_version(request))


def definition_or_404(
    request: HtmxHttpRequest, type_code: str, version: int | None
) -> EntryDefinition:
    """`version` of the type's configuration, active or not, for a partial of a form showing it."""
    try:
        return entry_definition(
            organization=request.organization,
            type_code=type_code,
            version=version,
            require_active=False,
        )
    except EntryUnavailable as exc:
        raise Http404(str(exc)) from exc
