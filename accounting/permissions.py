"""Who may open a ledger page: a signed-in member of the active organization with the role."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Concatenate, cast

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from accounting.models import Membership, Organization, Role

NOT_A_MEMBER = "You are not a member of any organization. Ask an administrator to add you to one."


class OrganizationRequest(HttpRequest):
    """A request that passed organization_role_required: signed in, with an active membership."""

    user: AbstractBaseUser  # type: ignore[assignment]
    organization: Organization
    membership: Membership


# The least role that may read the ledger: the account ledger, the reports, a posted balance.
LEDGER_READ_ROLE = Role.VIEWER


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "accounting/forbidden.html", {"message": message}, status=403)


def organization_role_required[**P](
    role: str,
) -> Callable[
    [Callable[Concatenate[OrganizationRequest, P], HttpResponse]],
    Callable[Concatenate[HttpRequest, P], HttpResponse],
]:
    """Lets a view run only for a member of the active organization holding `role` or above.

    Anonymous users go to the login page; a user with no organization, or with a lower role,
    gets a 403 page saying why.
    """
    required = Role(role)

    def decorator(
        view: Callable[Concatenate[OrganizationRequest, P], HttpResponse],
    ) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
        @wraps(view)
        def checked(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
            membership: Membership | None = getattr(request, "membership", None)
            if getattr(request, "organization", None) is None or membership is None:
                return forbidden(request, NOT_A_MEMBER)
            if not membership.has_role(required):
                return forbidden(
                    request,
                    f"This needs the {required.label} role in {membership.organization}; "
                    f"your role is {membership.get_role_display()}.",
                )
            return view(cast(OrganizationRequest, request), *args, **kwargs)

        return login_required(checked)

    return decorator


def organization_object_or_404[M: Model](
    request: OrganizationRequest, queryset: QuerySet[M], **lookup: Any
) -> M:
    """The object matching `lookup` in the active organization; 404 for any other organization's.

    A 404 rather than a 403 so that ids belonging to other organizations reveal nothing.
    """
    return get_object_or_404(queryset, organization=request.organization, **lookup)
