"""URL configuration."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Before the ledger's URLs: /vouchers/<type>/new/ and /vouchers/<id>/edit/ are the entry
    # screens, served by the legacy or the configuration UI as the rollout flag decides.
    path("", include("rollout.urls")),
    path("", include("voucher_config.urls")),
    path("", include("support.urls")),
    path("", include("accounting.urls")),
]

# A database connection that failed outside an entry page's own handling answers 503, plainly.
handler500 = "config.errors.server_error"
