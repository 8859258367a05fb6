"""Django admin for configurations: JSON editing with inline errors, versions with diffs,
restore, clone and a preview of the form a definition renders."""

from __future__ import annotations

import difflib
import json
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

from accounting.admin_scoping import OrganizationScopedAdmin
from accounting.models import VoucherType
from voucher_config.definition import VoucherDefinition
from voucher_config.form_factory import ConfiguredForms, EntryLookups, build_form_classes
from voucher_config.models import VoucherTypeConfig
from voucher_config.services import config_clone, config_create, config_restore, config_update
from voucher_config.validation import DefinitionInvalid, definition_errors


class PrettyJSONField(forms.JSONField):
    def prepare_value(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False)


class VoucherTypeConfigForm(forms.ModelForm):
    definition = PrettyJSONField(
        widget=forms.Textarea(attrs={"rows": 40, "cols": 120, "class": "vLargeTextField"}),
        help_text="JSON validated against voucher_config/schemas/voucher_type_config.schema.json.",
    )
    change_reason = forms.CharField(
        required=False, max_length=100, help_text="Recorded in the history with this version."
    )

    class Meta:
        model = VoucherTypeConfig
        fields = ["organization", "voucher_type", "is_active", "definition"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        organization = cleaned.get("organization") or getattr(self.instance, "organization", None)
        voucher_type = cleaned.get("voucher_type")
        if voucher_type and organization and voucher_type.organization_id != organization.pk:
            self.add_error("voucher_type", "This voucher type belongs to another organization.")
        definition = cleaned.get("definition")
        if definition is not None:
            for error in definition_errors(definition, organization=organization):
                self.add_error("definition", str(error))
        return cleaned


def definition_diff(
    old: VoucherDefinition, new: VoucherDefinition, old_label: str, new_label: str
) -> str:
    before = json.dumps(old, indent=2, sort_keys=True, ensure_ascii=False).splitlines()
    after = json.dumps(new, indent=2, sort_keys=True, ensure_ascii=False).splitlines()
    return "\n".join(difflib.unified_diff(before, after, old_label, new_label, lineterm=""))


class CloneForm(forms.Form):
    code = forms.RegexField(
        regex=r"^[A-Z][A-Z0-9]{1,9}$",
        help_text="2–10 capital letters or digits, e.g. PV2.",
        error_messages={"invalid": "Use 2–10 capital letters or digits, starting with a letter."},
    )
    name = forms.CharField(max_length=80)


@admin.register(VoucherTypeConfig)
class VoucherTypeConfigAdmin(OrganizationScopedAdmin, SimpleHistoryAdmin):
    """Scoped by organization like the ledger's admin, its own views (versions, restore, clone,
    preview) included: another organization's configuration answers 404 there too."""

    form = VoucherTypeConfigForm
    list_display = ["voucher_type", "name", "organization", "version", "is_active", "customised"]
    list_filter = ["organization", "is_active"]
    search_fields = ["name", "voucher_type__code"]
    readonly_fields = ["version", "definition_hash", "baseline_hash", "updated_at", "updated_by"]
    history_list_display = ["version", "is_active"]
    change_form_template = "admin/voucher_config/vouchertypeconfig/change_form.html"

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
        return own + super().get_urls()

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

    def versions_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Every version, newest first, each with a readable diff against the one before."""
        config = self._config(request, pk)
        records = list(config.history.order_by("history_date", "history_id"))  # type: ignore[attr-defined]
        versions = []
        previous = None
        for record in records:
            diff = ""
            if previous is not None and previous.definition != record.definition:
                diff = definition_diff(
                    previous.definition,
                    record.definition,
                    f"version {previous.version}",
                    f"version {record.version}",
                )
            versions.append({"record": record, "diff": diff})
            previous = record
        versions.reverse()
        return TemplateResponse(
            request,
            "admin/voucher_config/vouchertypeconfig/versions.html",
            self._context(request, config, versions=versions, title=f"Versions of {config}"),
        )

    def restore_view(self, request: HttpRequest, pk: int, version: int) -> HttpResponse:
        config = self._config(request, pk, change=True)
        if request.method != "POST":
            return HttpResponseRedirect(
                reverse("admin:voucher_config_vouchertypeconfig_versions", args=[pk])
            )
        try:
            restored = config_restore(config=config, version=version, user=request.user)
        except DefinitionInvalid as exc:
            self.message_user(request, f"Cannot restore version {version}: {exc}", messages.ERROR)
        else:
            self.message_user(
                request,
                f"Version {version} restored as version {restored.version}.",
                messages.SUCCESS,
            )
        return HttpResponseRedirect(
            reverse("admin:voucher_config_vouchertypeconfig_change", args=[pk])
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
            "admin/voucher_config/vouchertypeconfig/clone.html",
            self._context(request, config, form=form, title=f"Clone {config}"),
        )

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The header form and line grid this definition renders, as an entry screen shows it."""
        config = self._config(request, pk)
        definition = cast("VoucherDefinition", config.definition)
        entry_forms = ConfiguredForms(
            build_form_classes(definition), definition, EntryLookups(config.organization)
        )
        return TemplateResponse(
            request,
            "admin/voucher_config/vouchertypeconfig/preview.html",
            self._context(
                request,
                config,
                entry_forms=entry_forms,
                definition=definition,
                title=f"Preview of {config}",
            ),
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[VoucherTypeConfig]:
        return super().get_queryset(request).select_related("voucher_type", "organization")
