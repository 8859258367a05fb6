"""Who sees what in the admin: organization admins their own organizations, superusers the rest.

Every admin of a model that belongs to an organization mixes in `OrganizationScopedAdmin` and
names the path from the model to its organization (`organization`, `voucher__organization` …).
A staff user then sees, changes, adds and deletes only rows of the organizations where they hold
the admin role, and every choice of a related row is limited to those organizations. Admins of
site-wide models (users, groups, rollout flags) mix in `SuperuserOnlyAdmin`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import ForeignKey, Model, QuerySet
from django.forms import ModelChoiceField
from django.http import Http404, HttpRequest, HttpResponse

from accounting.models import Membership, Organization, Role

ADMINISTERED_CACHE = "_administered_organization_ids"


def administered_organization_ids(request: HttpRequest) -> frozenset[int] | None:
    """The organizations the signed-in user administers; None for a superuser (every one).

    Read once per request: an admin page asks for every permission and every choice.
    """
    user = request.user
    if user.is_active and user.is_superuser:
        return None
    cached: frozenset[int] | None = getattr(request, ADMINISTERED_CACHE, None)
    if cached is None:
        cached = frozenset(
            Membership.objects.filter(user_id=user.pk, role=Role.ADMIN).values_list(
                "organization_id", flat=True
            )
            if user.is_authenticated
            else ()
        )
        setattr(request, ADMINISTERED_CACHE, cached)
    return cached


def organization_id_of(obj: Model, path: str) -> int | None:
    """The organization a row belongs to, following `path` (`pk` for an organization itself)."""
    *hops, last = path.split("__")
    target: Any = obj
    for hop in hops:
        target = getattr(target, hop, None)
        if target is None:
            return None
    if last == "pk":
        return target.pk
    return getattr(target, f"{last}_id", None)


class OrganizationScopedAdmin(admin.ModelAdmin):
    """Limits an admin to the organizations the user administers (superusers: all of them).

    Rows of other organizations are left out of every list and answer 404 on their change,
    delete and history pages, as an id that does not exist does, so an id reveals nothing.
    """

    # The lookup path from the model to its organization; "pk" for Organization itself.
    organization_path = "organization"

    def _scope(self, request: HttpRequest) -> frozenset[int] | None:
        return administered_organization_ids(request)

    def in_scope(self, request: HttpRequest, obj: Model | None) -> bool:
        """Whether `obj` (None: the model as a whole) is within the user's organizations."""
        scope = self._scope(request)
        if scope is None:
            return True
        if obj is None:
            return bool(scope)
        return organization_id_of(obj, self.organization_path) in scope

    def scoped(self, queryset: QuerySet[Any], request: HttpRequest) -> QuerySet[Any]:
        scope = self._scope(request)
        if scope is None:
            return queryset
        return queryset.filter(**{f"{self.organization_path}__in": scope})

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return self.scoped(super().get_queryset(request), request)

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(f"No {self.opts.verbose_name} with the id {object_id!r}.")
        return obj

    def has_module_permission(self, request: HttpRequest) -> bool:
        return super().has_module_permission(request) and self.in_scope(request, None)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) and self.in_scope(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self.in_scope(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and self.in_scope(request, obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return super().has_add_permission(request, *args) and self.in_scope(request, None)

    def has_view_history_or_change_history_permission(
        self, request: HttpRequest, obj: Any = None
    ) -> bool:
        """The history pages find their object through its history, not through get_queryset:
        another organization's row answers 404 here too, as on its change page."""
        if obj is not None and not self.in_scope(request, obj):
            raise Http404(f"No {self.opts.verbose_name} with that id.")
        return super().has_view_history_or_change_history_permission(request, obj)  # type: ignore[misc]

    def history_form_view(
        self,
        request: HttpRequest,
        object_id: str,
        version_id: str,
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """One version of a row (simple-history admins only): 404 for another organization's,
        before any other answer, a refused revert included."""
        history = getattr(self.model, self.opts.simple_history_manager_attribute)  # type: ignore[attr-defined]
        record = history.filter(**{self.opts.pk.attname: object_id, "history_id": version_id})
        found = record.first()
        if found is not None and not self.in_scope(request, found.instance):
            raise Http404(f"No {self.opts.verbose_name} with that id.")
        return super().history_form_view(  # type: ignore[misc]
            request, object_id, version_id, extra_context
        )

    def formfield_for_foreignkey(
        self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        """Offers only rows of the user's organizations, so a forged id fails validation."""
        scope = self._scope(request)
        if scope is not None and "queryset" not in kwargs:
            related = db_field.related_model
            if related is Organization:
                kwargs["queryset"] = Organization.objects.filter(pk__in=scope)
            elif self.admin_site.is_registered(related):
                related_admin = self.admin_site.get_model_admin(related)
                if isinstance(related_admin, OrganizationScopedAdmin):
                    kwargs["queryset"] = related_admin.scoped(
                        related._default_manager.all(), request
                    )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_list_filter(self, request: HttpRequest) -> Any:
        """Filters on a related row list only the rows the user can see: the full list of
        organizations would name those the user does not administer."""
        filters = []
        for entry in super().get_list_filter(request):
            if isinstance(entry, str) and _is_relation(self.model, entry):
                entry = (entry, admin.RelatedOnlyFieldListFilter)
            filters.append(entry)
        return filters

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not self.in_scope(request, obj):
            raise PermissionDenied("That organization is not one you administer.")
        super().save_model(request, obj, form, change)


def _is_relation(model: type[Model], path: str) -> bool:
    field: Any = None
    for name in path.split("__"):
        field = model._meta.get_field(name)
        if field.is_relation:
            model = field.related_model
    return bool(field is not None and field.is_relation)


class SuperuserOnlyAdmin(admin.ModelAdmin):
    """Site-wide models (users, groups, flags): for superusers only, whatever model permissions
    a staff user holds, since changing them reaches every organization."""

    def _superuser(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._superuser(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._superuser(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._superuser(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._superuser(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._superuser(request)


def superuser_only(model: type[Model], site: admin.AdminSite = admin.site) -> None:
    """Registers `model` again with its current admin class made superuser-only."""
    current = type(site.get_model_admin(model))
    site.unregister(model)
    scoped = type(f"SuperuserOnly{current.__name__}", (SuperuserOnlyAdmin, current), {})
    site.register(model, scoped)
