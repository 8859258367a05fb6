"""Django admin for configurations: the structured editor (raw JSON as its advanced view),
every problem in one round at its place, versions compared field by field, restore with a
reason, clone, and a preview that is the entry screen itself."""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import wraps
from itertools import pairwise
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from simple_history.admin import SimpleHistoryAdmin

from accounting.admin_scoping import OrganizationScopedAdmin, administered_organization_ids
from accounting.models import VoucherType
from voucher_config.definition import VoucherDefinition
from voucher_config.editor.diff import Change, change_summary, definition_changes
from voucher_config.editor.forms import (
    DefinitionField,
    Problem,
    RestoreForm,
    VoucherTypeConfigForm,
)
from voucher_config.editor.preview import preview_context
from voucher_config.editor.ui_schema import editor_schema
from voucher_config.models import VoucherTypeConfig
from voucher_config.services import (
    baseline_definitions,
    config_clone,
    config_create,
    config_definition_at,
    config_restore,
    config_update,
)
from voucher_config.validation import DefinitionInvalid, definition_errors

ADMIN_TEMPLATES = "admin/voucher_config/vouchertypeconfig"


class CloneForm(forms.Form):
    code = forms.RegexField(
        regex=r"^[A-Z][A-Z0-9]{1,9}$",
        help_text="2–10 capital letters or digits, e.g. PV2.",
        error_messages={"invalid": "Use 2–10 capital letters or digits, starting with a letter."},
    )
    name = forms.CharField(max_length=80)


def user_shown(user: Any) -> str:
    """Who did it, as a person reads it; a change without a user came from seeding or a command."""
    if user is None:
        return "the system (seeding or a command)"
    return str(user.get_full_name() or user.get_username())


def administrators_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A signed-in user who administers no organization is refused (403) on every page of
    the configurations and every POST to them, rather than sent to the admin's login page."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated and administered_organization_ids(request) == frozenset():
            raise PermissionDenied("Only an organization's administrators configure voucher types.")
        return view(request, *args, **kwargs)

    return guarded


@admin.register(VoucherTypeConfig)
class VoucherTypeConfigAdmin(OrganizationScopedAdmin, SimpleHistoryAdmin):
    """Scoped by organization like the ledger's admin, its own views (versions, restore, clone,
    preview) included: another organization's configuration answers 404 there too."""

    form = VoucherTypeConfigForm
    list_display = ["voucher_type", "name", "organization", "version", "is_active", "customised"]
    list_filter = ["organization", "is_active"]
    search_fields = ["name", "voucher_type__code"]
    readonly_fields = ["version", "definition_hash", "baseline_hash", "updated_at", "updated_by"]
    change_form_template = f"{ADMIN_TEMPLATES}/change_form.html"
    object_history_list_template = f"{ADMIN_TEMPLATES}/history_list.html"

    @admin.display(boolean=True)
    def customised(self, obj: VoucherTypeConfig) -> bool:
        return obj.is_customised

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += ["organization", "voucher_type"]
        return fields

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [
            "organization",
            "voucher_type",
            "is_active",
            "definition",
            "change_reason",
            *self.readonly_fields,
        ]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        """A new configuration starts from the shipped journal, to be changed in the editor."""
        initial: dict[str, Any] = dict(super().get_changeform_initial_data(request))
        starter = copy.deepcopy(baseline_definitions()["JV"])
        starter.pop("examples", None)
        starter.update(code="NEW", name="New voucher type", description="")
        initial.setdefault("definition", starter)
        return initial

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> Any:
        """Adds what the structured editor draws from: the UI schema, the problems found, and
        the version the editor starts from (after a refused save: the version now stored)."""
        form = context["adminform"].form
        problems: list[Problem] = getattr(form, "problems", [])
        conflict = getattr(form, "conflict", None)
        base_version = obj.version if obj is not None else None
        if conflict is not None:
            base_version = conflict.current_version
        context["editor"] = {
            "data": {
                "schema": editor_schema(),
                "problems": [p.as_json() for p in problems],
            },
            "base_version": base_version,
            "conflict": conflict,
            "problems": problems,
        }
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(
        self, request: HttpRequest, obj: VoucherTypeConfig, form: Any, change: bool
    ) -> None:
        """Saves through the services, so every admin change is a new, validated version."""
        reason = form.cleaned_data.get("change_reason") or "edited in admin"
        try:
            if change:
                saved = config_update(
                    config=obj,
                    definition=form.cleaned_data["definition"],
                    is_active=form.cleaned_data["is_active"],
                    user=request.user,
                    reason=reason,
                )
            else:
                saved = config_create(
                    organization=form.cleaned_data["organization"],
                    voucher_type=form.cleaned_data["voucher_type"],
                    definition=form.cleaned_data["definition"],
                    user=request.user,
                    reason=reason,
                )
        except DefinitionInvalid as exc:  # pragma: no cover - the form validated the same rules
            raise PermissionDenied(str(exc)) from exc
        obj.pk, obj.version = saved.pk, saved.version

    def get_urls(self) -> list[Any]:
        own = [
            path(
                "<int:pk>/versions/",
                self.admin_site.admin_view(self.versions_view),
                name="voucher_config_vouchertypeconfig_versions",
            ),
            path(
                "<int:pk>/restore/<int:version>/",
                self.admin_site.admin_view(self.restore_view),
                name="voucher_config_vouchertypeconfig_restore",
            ),
            path(
                "<int:pk>/clone/",
                self.admin_site.admin_view(self.clone_view),
                name="voucher_config_vouchertypeconfig_clone",
            ),
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="voucher_config_vouchertypeconfig_preview",
            ),
        ]
        patterns = own + super().get_urls()
        for pattern in patterns:
            pattern.callback = administrators_only(pattern.callback)
        return patterns

    def _config(self, request: HttpRequest, pk: int, *, change: bool = False) -> VoucherTypeConfig:
        config = get_object_or_404(self.get_queryset(request), pk=pk)
        allowed = (
            self.has_change_permission(request, config)
            if change
            else self.has_view_permission(request, config)
        )
        if not allowed:
            raise PermissionDenied
        return config

    def _context(self, request: HttpRequest, config: VoucherTypeConfig, **extra: Any) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": config,
            "config": config,
            **extra,
        }

    # --- history ---------------------------------------------------------------------------

    def revert_disabled(self, request: HttpRequest, obj: Any = None) -> bool:
        """Bringing back a version goes through Restore (a reason, a new version), never
        through the history page's revert, which would overwrite the current one."""
        return True

    def set_history_delta_changes(self, request: HttpRequest, page_obj: Any, **kwargs: Any) -> None:
        """Each version of the history list told as who changed what, when and why."""
        records = list(page_obj.object_list)
        if not records:
            return
        # Every version of this configuration in one query, to find each one's predecessor.
        ordered = list(
            type(records[0])
            .objects.filter(id=records[0].id)
            .order_by("history_date", "history_id")
            .only("history_id", "is_active", "definition")
        )
        before = {later.history_id: earlier for earlier, later in pairwise(ordered)}
        for record in records:
            previous = before.get(record.history_id)
            record.who = user_shown(record.history_user)
            if previous is None:
                record.what = "created"
                continue
            parts = []
            if previous.is_active != record.is_active:
                parts.append("switched on" if record.is_active else "switched off")
            changes = definition_changes(previous.definition, record.definition)
            if changes:
                parts.append(change_summary(changes, limit=6))
            record.what = "; ".join(parts) or "no change to the definition"

    # --- own views -------------------------------------------------------------------------

    def versions_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Every version, newest first, each compared field by field with the one before."""
        config = self._config(request, pk)
        records = list(
            config.history.select_related("history_user").order_by("history_date", "history_id")  # type: ignore[attr-defined]
        )
        versions = []
        previous: Any = None
        for record in records:
            changes: list[Change] = (
                definition_changes(previous.definition, record.definition) if previous else []
            )
            versions.append(
                {
                    "record": record,
                    "who": user_shown(record.history_user),
                    "changes": changes,
                    "previous": previous,
                    "caption": f"Changes from version {previous.version}" if previous else "",
                    "before_label": f"Version {previous.version}" if previous else "",
                    "after_label": f"Version {record.version}",
                }
            )
            previous = record
        versions.reverse()
        return TemplateResponse(
            request,
            f"{ADMIN_TEMPLATES}/versions.html",
            self._context(
                request,
                config,
                versions=versions,
                title=f"Versions of {config.voucher_type.code} {config.name}",
                can_restore=self.has_change_permission(request, config),
            ),
        )

    def restore_view(self, request: HttpRequest, pk: int, version: int) -> HttpResponse:
        """Asks for a reason and a confirmation, showing what would change; then brings the
        version back as a new one."""
        config = self._config(request, pk, change=True)
        definition = config_definition_at(config, version)
        if definition is None:
            self.message_user(request, f"{config} has no version {version}.", messages.ERROR)
            return HttpResponseRedirect(
                reverse("admin:voucher_config_vouchertypeconfig_versions", args=[pk])
            )
        form = RestoreForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                restored = config_restore(
                    config=config,
                    version=version,
                    user=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except DefinitionInvalid as exc:
                self.message_user(
                    request, f"Cannot restore version {version}: {exc}", messages.ERROR
                )
            else:
                self.message_user(
                    request,
                    f"Version {version} restored as version {restored.version}.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:voucher_config_vouchertypeconfig_versions", args=[pk])
                )
        return TemplateResponse(
            request,
            f"{ADMIN_TEMPLATES}/restore.html",
            self._context(
                request,
                config,
                form=form,
                version=version,
                changes=definition_changes(config.definition, definition),
                before_label=f"Current (version {config.version})",
                after_label=f"Restored (version {version})",
                title=f"Restore version {version} of {config.voucher_type.code} {config.name}",
            ),
        )

    def clone_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        config = self._config(request, pk, change=True)
        form = CloneForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            code = form.cleaned_data["code"]
            if VoucherType.objects.filter(organization=config.organization, code=code).exists():
                form.add_error("code", f"{config.organization} already has a voucher type {code}.")
            else:
                clone = config_clone(
                    config=config, code=code, name=form.cleaned_data["name"], user=request.user
                )
                self.message_user(request, f"Created {clone}.", messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:voucher_config_vouchertypeconfig_change", args=[clone.pk])
                )
        return TemplateResponse(
            request,
            f"{ADMIN_TEMPLATES}/clone.html",
            self._context(request, config, form=form, title=f"Clone {config}"),
        )

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The entry screen of the stored definition (GET) or of the editor's unsaved one
        (POST), read-only with sample data; nothing is saved either way."""
        config = self._config(request, pk)
        definition: Any = config.definition
        draft = request.method == "POST"
        if draft:
            field = DefinitionField()
            try:
                definition = field.clean(request.POST.get("definition", ""))
            except forms.ValidationError as exc:
                return self._preview_refused(request, config, list(exc.messages))
            errors = definition_errors(definition, organization=config.organization)
            if errors:
                return self._preview_refused(request, config, [str(e) for e in errors])
        context = preview_context(
            config=config, definition=cast("VoucherDefinition", definition), draft=draft
        )
        return TemplateResponse(request, "voucher_config/entry.html", context)

    def _preview_refused(
        self, request: HttpRequest, config: VoucherTypeConfig, errors: list[str]
    ) -> HttpResponse:
        return TemplateResponse(
            request,
            f"{ADMIN_TEMPLATES}/preview_refused.html",
            self._context(
                request, config, errors=errors, title=f"Preview of {config.voucher_type.code}"
            ),
            status=422,
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[VoucherTypeConfig]:
        return super().get_queryset(request).select_related("voucher_type", "organization")
