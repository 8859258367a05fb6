"""Ledger pages. /vouchers/<type>/new/ is left free for the entry screens."""

from django.urls import path

from accounting import views
from config.db_router import reports_from_replica

urlpatterns = [
    path("", views.home, name="home"),
    # Reports may read from a replica when one is configured (config/db_router.py); the voucher
    # list stays on the primary, where a voucher just posted is always found.
    path("reports/trial-balance/", reports_from_replica(views.trial_balance), name="trial-balance"),
    path(
        "reports/period-trial-balance/",
        reports_from_replica(views.period_trial_balance),
        name="period-trial-balance",
    ),
    path(
        "reports/account-ledger/",
        reports_from_replica(views.account_ledger),
        name="account-ledger",
    ),
    path("vouchers/", views.voucher_list, name="voucher-list"),
    path("vouchers/<int:pk>/", views.voucher_detail, name="voucher-detail"),
    path("vouchers/<int:pk>/reverse/", views.voucher_reverse, name="voucher-reverse"),
    path("vouchers/<int:pk>/duplicate/", views.voucher_duplicate, name="voucher-duplicate"),
    path("vouchers/<int:pk>/cancel/", views.voucher_cancel, name="voucher-cancel"),
    path("vouchers/<int:pk>/delete/", views.voucher_delete, name="voucher-delete"),
    path("organization/switch/", views.organization_switch, name="organization-switch"),
]
