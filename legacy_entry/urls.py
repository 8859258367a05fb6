"""URLs of the legacy entry pages; the rollout router also calls the views directly."""

from django.urls import path

from legacy_entry import views

urlpatterns = [
    path(
        "legacy/vouchers/<str:type_code>/new/",
        views.legacy_entry_new,
        name="legacy-entry-new",
    ),
    path("legacy/vouchers/<int:pk>/edit/", views.legacy_entry_edit, name="legacy-entry-edit"),
]
