"""URLs of the rollout: the routed entry screens, the legacy screen by its own address, /metrics, the browser beacon, the dashboard, the rollout page.

Included at the site root, so /metrics needs no redirect.
"""

from django.urls import path

from rollout import beacon, dashboard, prometheus, router, settings_page

urlpatterns = [
    # One URL per type and voucher; the rollout flag picks the configuration or the legacy UI.
    path("vouchers/<int:pk>/edit/", router.voucher_entry_edit, name="entry-edit"),
    path("vouchers/<str:type_code>/new/", router.voucher_entry_new, name="entry-new"),
    path("legacy/vouchers/<str:type_code>/new/", router.legacy_entry_new, name="legacy-entry-new"),
    path("legacy/vouchers/<int:pk>/edit/", router.legacy_entry_edit, name="legacy-entry-edit"),
    path("metrics", prometheus.metrics, name="metrics"),
    path("metrics/beacon/", beacon.beacon, name="metrics-beacon"),
    path("metrics/dashboard/", dashboard.dashboard, name="metrics-dashboard"),
    path("rollout/", settings_page.rollout_settings, name="rollout-settings"),
]
