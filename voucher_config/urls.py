"""The configuration-driven entry screen and its partials."""

from django.urls import path

from voucher_config.views import page, partials

urlpatterns = [
    path("vouchers/new/", page.entry_menu, name="entry-menu"),
    path(
        "vouchers/<str:type_code>/entry/add-line/", partials.entry_add_line, name="entry-add-line"
    ),
    path(
        "vouchers/<str:type_code>/entry/remove-line/",
        partials.entry_remove_line,
        name="entry-remove-line",
    ),
    path(
        "vouchers/<str:type_code>/entry/totals/", partials.entry_totals_partial, name="entry-totals"
    ),
    path(
        "vouchers/<str:type_code>/entry/validate/", partials.entry_validate, name="entry-validate"
    ),
    path(
        "vouchers/<str:type_code>/entry/preview/",
        partials.entry_preview_partial,
        name="entry-preview",
    ),
    path(
        "vouchers/<str:type_code>/entry/accounts/",
        partials.entry_account_search,
        name="entry-account-search",
    ),
    path("vouchers/<str:type_code>/entry/balance/", partials.entry_balance, name="entry-balance"),
    path(
        "vouchers/<str:type_code>/entry/parties/",
        partials.entry_party_search,
        name="entry-party-search",
    ),
]
