"""Ledger admin: masters are editable with history; posted vouchers and ledger rows are not.

Every admin here is scoped by organization (accounting.admin_scoping): a staff user works only in
the organizations they administer. Users and groups are for superusers only.
"""

from __future__ import annotations

from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from simple_history.admin import SimpleHistoryAdmin

from accounting.admin_scoping import OrganizationScopedAdmin, superuser_only
from accounting.models import (
    Account,
    AccountingPeriod,
    EntryRefusal,
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


# Users and groups reach every organization: only superusers manage them.
superuser_only(get_user_model())
superuser_only(Group)
# Login attempts and lockouts name users and addresses of every organization.
for _model in (AccessAttempt, AccessFailureLog, AccessLog):
    superuser_only(_model)


@admin.register(Organization)
class OrganizationAdmin(OrganizationScopedAdmin, SimpleHistoryAdmin):
    """An organization admin changes their own organization; only superusers add or delete one."""

    organization_path = "pk"
    list_display = ["slug", "name", "base_currency", "date_format", "created_at"]
    search_fields = ["slug", "name"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return bool(request.user.is_superuser) and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser) and super().has_delete_permission(request, obj)

    def get_history_queryset(
        self, request: HttpRequest, history_manager: Any, pk_name: str, object_id: Any
    ) -> QuerySet[Any]:
        # An organization has no foreign key to fetch with its history, and the library's
        # select_related() of none is deprecated: only the user who made each change.
        return history_manager.filter(**{pk_name: object_id}).select_related("history_user")


@admin.register(Membership)
class MembershipAdmin(OrganizationScopedAdmin, SimpleHistoryAdmin):
    """Roles are granted only in an organization one administers: the organization choice
    offers no other, whoever the member is."""

    list_display = ["user", "organization", "role"]
    list_filter = ["organization", "role"]
    list_select_related = ["user", "organization"]
    search_fields = ["user__username", "user__email", "organization__slug"]
    raw_id_fields = ["user"]


@admin.register(Account)
class AccountAdmin(OrganizationScopedAdmin, SimpleHistoryAdmin):
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
class FiscalYearAdmin(OrganizationScopedAdmin, SimpleHistoryAdmin):
    list_display = ["code", "organization", "start_date", "end_date"]
    list_filter = ["organization"]
    list_select_related = ["organization"]
    inlines = [AccountingPeriodInline]


@admin.register(AccountingPeriod)
class AccountingPeriodAdmin(OrganizationScopedAdmin, SimpleHistoryAdmin):
    organization_path = "fiscal_year__organization"
    list_display = ["fiscal_year", "number", "start_date", "end_date", "is_closed"]
    list_filter = ["fiscal_year__organization", "is_closed"]
    list_select_related = ["fiscal_year"]
    list_editable = ["is_closed"]


@admin.register(Party)
class PartyAdmin(OrganizationScopedAdmin, SimpleHistoryAdmin):
    list_display = ["code", "name", "role", "control_account", "is_active", "organization"]
    list_filter = ["organization", "role", "is_active"]
    list_select_related = ["control_account", "organization"]
    search_fields = ["code", "name", "tax_number"]
    raw_id_fields = ["control_account"]


@admin.register(VoucherType)
class VoucherTypeAdmin(OrganizationScopedAdmin, SimpleHistoryAdmin):
    list_display = ["code", "name", "numbering_pattern", "requires_approval", "organization"]
    list_filter = ["organization", "is_active", "requires_approval"]
    list_select_related = ["organization"]
    search_fields = ["code", "name"]
    # The workflow is set by the type's configuration (voucher_type_workflow_set), with its
    # history; here it is shown, never changed.
    readonly_fields = ["requires_approval", "approver_role", "poster_role"]


@admin.register(VoucherSequence)
class VoucherSequenceAdmin(OrganizationScopedAdmin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Only posting moves a counter; an edited counter would skip or repeat numbers."""

    list_display = ["voucher_type", "fiscal_year", "last_value", "organization"]
    list_filter = ["organization"]
    list_select_related = ["voucher_type", "fiscal_year", "organization"]


@admin.register(LedgerChainHead)
class LedgerChainHeadAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
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
class VoucherAdmin(OrganizationScopedAdmin, ReadOnlyHistoryAdmin):
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
class VoucherLineAdmin(OrganizationScopedAdmin, ReadOnlyHistoryAdmin):
    organization_path = "voucher__organization"
    list_display = ["voucher", "order", "account", "debit", "credit", "description"]
    list_filter = ["voucher__organization", "voucher__status"]
    list_select_related = ["voucher__voucher_type", "account"]
    search_fields = ["voucher__number", "account__code", "description"]
    actions = None


@admin.register(EntryRefusal)
class EntryRefusalAdmin(OrganizationScopedAdmin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """What the ledger refused from the entry screens: written by `voucher_enter` only."""

    list_display = ["refused_at", "user", "voucher_type", "action", "channel", "rule", "message"]
    list_filter = ["organization", "channel", "rule", "action"]
    list_select_related = ["user", "voucher_type"]
    search_fields = ["rule", "message", "user__username"]
    date_hierarchy = "refused_at"


@admin.register(LedgerEntry)
class LedgerEntryAdmin(OrganizationScopedAdmin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["date", "voucher", "line_order", "account", "debit", "credit", "party"]
    list_filter = ["organization", "date"]
    list_select_related = ["voucher__voucher_type", "account", "party"]
    search_fields = ["voucher__number", "account__code", "account__name", "description"]
    date_hierarchy = "date"
