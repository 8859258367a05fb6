"""The configuration-driven entry screen and its partials."""

from django.urls import path

from voucher_config import views

urlpatterns = [
    path("vouchers/new/", views.entry_menu, name="entry-menu"),
    path("vouchers/<str:type_code>/entry/add-line/", views.entry_add_line, name="entry-add-line"),
    path(
        "vouchers/<str:type_code>/entry/remove-line/",
        views.entry_remove_line,
        name="entry-remove-line",
    ),
    path("vouchers/<str:type_code>/entry/totals/", views.entry_totals_partial, name="entry-totals"),
    path("vouchers/<str:type_code>/entry/validate/", views.entry_validate, name="entry-validate"),
    path(
        "vouchers/<str:type_code>/entry/preview/", views.entry_preview_partial, name="entry-preview"
    ),
    path(
        "vouchers/<str:type_code>/entry/accounts/",
        views.entry_account_search,
        name="entry-account-search",
    ),
    path(
        "vouchers/<str:type_code>/entry/parties/",
        views.entry_party_search,
        name="entry-party-search",
    ),
]
