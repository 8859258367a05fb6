"""Ledger admin: masters are editable with history; posted vouchers and ledger rows are not."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from simple_history.admin import SimpleHistoryAdmin

from accounting.models import (
    EDITABLE_STATUSES,
    Account,
    AccountingPeriod,
    FiscalYear,
    LedgerEntry,
    Membership,
    Organization,
    Party,
    Voucher,
    VoucherLine,
    VoucherSequence,
    VoucherType,
)


class ReadOnlyAdminMixin:
    """For rows only services write: they can be looked at, never added, changed or deleted."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "base_currency", "created_at"]
    search_fields = ["slug", "name"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role"]
    list_filter = ["organization", "role"]
    list_select_related = ["user", "organization"]
    search_fields = ["user__username", "user__email", "organization__slug"]
    raw_id_fields = ["user"]


@admin.register(Account)
class AccountAdmin(SimpleHistoryAdmin):
    list_display = [
        "code",
        "name",
        "account_type",
        "subtype",
        "parent",
        "is_active",
        "organization",
    ]
    list_filter = ["organization", "account_type", "subtype", "is_active"]
    list_select_related = ["parent", "organization"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]
    ordering = ["organization", "code"]


class AccountingPeriodInline(admin.TabularInline):
    model = AccountingPeriod
    fields = ["number", "start_date", "end_date", "is_closed"]
    extra = 0


@admin.register(FiscalYear)
class FiscalYearAdmin(SimpleHistoryAdmin):
    list_display = ["code", "organization", "start_date", "end_date"]
    list_filter = ["organization"]
    list_select_related = ["organization"]
    inlines = [AccountingPeriodInline]


@admin.register(AccountingPeriod)
class AccountingPeriodAdmin(SimpleHistoryAdmin):
    list_display = ["fiscal_year", "number", "start_date", "end_date", "is_closed"]
    list_filter = ["fiscal_year__organization", "is_closed"]
    list_select_related = ["fiscal_year"]
    list_editable = ["is_closed"]


@admin.register(Party)
class PartyAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "role", "control_account", "is_active", "organization"]
    list_filter = ["organization", "role", "is_active"]
    list_select_related = ["control_account", "organization"]
    search_fields = ["code", "name", "tax_number"]
    raw_id_fields = ["control_account"]


@admin.register(VoucherType)
class VoucherTypeAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "numbering_pattern", "is_active", "organization"]
    list_filter = ["organization", "is_active"]
    list_select_related = ["organization"]
    search_fields = ["code", "name"]


@admin.register(VoucherSequence)
class VoucherSequenceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Only posting moves a counter; an edited counter would skip or repeat numbers."""

    list_display = ["voucher_type", "fiscal_year", "last_value", "organization"]
    list_filter = ["organization"]
    list_select_related = ["voucher_type", "fiscal_year", "organization"]


def _voucher_editable(voucher_id: int | None) -> bool:
    """Whether the stored voucher may still change; asks the database, not a historical copy."""
    if voucher_id is None:
        return True
    status = Voucher.objects.filter(pk=voucher_id).values_list("status", flat=True).first()
    return status is None or status in EDITABLE_STATUSES


class VoucherLineInline(admin.TabularInline):
    model = VoucherLine
    fields = ["order", "account", "debit", "credit", "description", "party"]
    raw_id_fields = ["account", "party"]
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (obj is None or obj.is_editable) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (obj is None or obj.is_editable) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (obj is None or obj.is_editable) and super().has_delete_permission(request, obj)


class GuardedHistoryAdmin(SimpleHistoryAdmin):
    """History admin that never reverts a posted voucher to an earlier (draft) version.

    The revert form saves the historical copy as it was, which would bypass the model's
    immutability check; so reverting is offered only while the stored voucher is editable.
    """

    def stored_voucher_id(self, obj: Any) -> int | None:
        raise NotImplementedError

    def revert_disabled(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and not _voucher_editable(self.stored_voucher_id(obj)):
            return True
        return bool(super().revert_disabled(request, obj))

    def history_form_view(
        self,
        request: HttpRequest,
        object_id: str,
        version_id: str,
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method == "POST":
            history = self.model.history.filter(pk=version_id).first()  # type: ignore[attr-defined]
            if history is not None and self.revert_disabled(request, history.instance):
                raise PermissionDenied("A posted voucher cannot be reverted to an earlier version.")
        return super().history_form_view(request, object_id, version_id, extra_context)


@admin.register(Voucher)
class VoucherAdmin(GuardedHistoryAdmin):
    list_display = ["__str__", "date", "voucher_type", "status", "party", "organization"]
    list_filter = ["organization", "status", "voucher_type__code", "entry_channel"]
    list_select_related = ["voucher_type", "party", "organization"]
    search_fields = ["number", "reference", "narration"]
    date_hierarchy = "date"
    inlines = [VoucherLineInline]
    actions = None  # bulk delete would skip the per-voucher check below
    raw_id_fields = ["party", "voucher_type"]
    # Numbers, status and the audit fields change only through the posting services.
    readonly_fields = [
        "status",
        "number",
        "sequence",
        "fiscal_year",
        "reversal_of",
        "created_by",
        "created_at",
        "updated_at",
        "submitted_by",
        "approved_by",
        "approved_at",
        "posted_by",
        "posted_at",
        "config_version",
        "config_hash",
    ]

    def stored_voucher_id(self, obj: Any) -> int | None:
        return obj.pk

    def get_queryset(self, request: HttpRequest) -> QuerySet[Voucher]:
        return super().get_queryset(request).select_related("voucher_type")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (obj is None or obj.is_editable) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (obj is None or obj.is_editable) and super().has_delete_permission(request, obj)


@admin.register(VoucherLine)
class VoucherLineAdmin(GuardedHistoryAdmin):
    list_display = ["voucher", "order", "account", "debit", "credit", "description"]
    list_filter = ["voucher__organization", "voucher__status"]
    list_select_related = ["voucher__voucher_type", "account"]
    search_fields = ["voucher__number", "account__code", "description"]
    raw_id_fields = ["voucher", "account", "party"]
    actions = None  # bulk delete would skip the per-line check below

    def stored_voucher_id(self, obj: Any) -> int | None:
        return obj.voucher_id

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Lines are added on their voucher's page, where a posted voucher refuses them.
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        editable = obj is None or _voucher_editable(obj.voucher_id)
        return editable and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        editable = obj is None or _voucher_editable(obj.voucher_id)
        return editable and super().has_delete_permission(request, obj)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["date", "voucher", "line_order", "account", "debit", "credit", "party"]
    list_filter = ["organization", "date"]
    list_select_related = ["voucher__voucher_type", "account", "party"]
    search_fields = ["voucher__number", "account__code", "account__name", "description"]
    date_hierarchy = "date"
