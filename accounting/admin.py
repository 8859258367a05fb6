"""Ledger admin: masters are editable with history; posted vouchers and ledger rows are not."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from simple_history.admin import SimpleHistoryAdmin

from accounting.models import (
    Account,
    AccountingPeriod,
    FiscalYear,
    LedgerChainHead,
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


@admin.register(LedgerChainHead)
class LedgerChainHeadAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Only posting moves a chain head; `verify_ledger` checks it against the vouchers."""

    list_display = ["organization", "last_position", "last_hash"]
    list_select_related = ["organization"]


class VoucherLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = VoucherLine
    fields = ["order", "account", "debit", "credit", "description", "party"]
    extra = 0


class ReadOnlyHistoryAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    """A voucher's rows and their history, to look at: reverting would write around the
    ledger's entry service."""

    def revert_disabled(self, request: HttpRequest, obj: Any = None) -> bool:
        return True

    def history_form_view(
        self,
        request: HttpRequest,
        object_id: str,
        version_id: str,
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method == "POST":
            raise PermissionDenied("A voucher cannot be reverted to an earlier version.")
        return super().history_form_view(request, object_id, version_id, extra_context)


# Vouchers are entered, changed, approved and posted only through the ledger's entry service
# (accounting.services.entering), on the entry screens or by import, so that no rule about them
# can be skipped here: the admin shows them, and links a draft to its entry screen.


@admin.register(Voucher)
class VoucherAdmin(ReadOnlyHistoryAdmin):
    list_display = ["__str__", "date", "voucher_type", "status", "party", "organization"]
    list_filter = ["organization", "status", "voucher_type__code", "entry_channel"]
    list_select_related = ["voucher_type", "party", "organization"]
    search_fields = ["number", "reference", "narration"]
    date_hierarchy = "date"
    inlines = [VoucherLineInline]
    actions = None

    def get_queryset(self, request: HttpRequest) -> QuerySet[Voucher]:
        return super().get_queryset(request).select_related("voucher_type")


@admin.register(VoucherLine)
class VoucherLineAdmin(ReadOnlyHistoryAdmin):
    list_display = ["voucher", "order", "account", "debit", "credit", "description"]
    list_filter = ["voucher__organization", "voucher__status"]
    list_select_related = ["voucher__voucher_type", "account"]
    search_fields = ["voucher__number", "account__code", "description"]
    actions = None


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["date", "voucher", "line_order", "account", "debit", "credit", "party"]
    list_filter = ["organization", "date"]
    list_select_related = ["voucher__voucher_type", "account", "party"]
    search_fields = ["voucher__number", "account__code", "account__name", "description"]
    date_hierarchy = "date"
