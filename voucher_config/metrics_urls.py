"""URLs of the parallel-run metrics: included at the site root, so /metrics needs no redirect."""

from django.urls import path

from voucher_config import metrics_views

urlpatterns = [
    path("metrics", metrics_views.metrics, name="metrics"),
    path("metrics/beacon/", metrics_views.beacon, name="metrics-beacon"),
    path("metrics/dashboard/", metrics_views.dashboard, name="metrics-dashboard"),
]
