"""URLs of support: feedback, announcements, the support view of a member, usage figures."""

from django.urls import path

from support import views

urlpatterns = [
    path("feedback/", views.feedback_new, name="feedback-new"),
    path("support/feedback/", views.feedback_list, name="support-feedback"),
    path("support/feedback/<int:pk>/", views.feedback_detail, name="support-feedback-detail"),
    path(
        "support/feedback/<int:pk>/handled/",
        views.feedback_handled,
        name="support-feedback-handled",
    ),
    path("support/announcements/", views.announcements, name="support-announcements"),
    path(
        "support/announcements/<int:pk>/withdraw/",
        views.announcement_withdrawn,
        name="support-announcement-withdraw",
    ),
    path(
        "announcements/<int:pk>/dismiss/",
        views.announcement_dismissed,
        name="announcement-dismiss",
    ),
    path("support/members/", views.support_members, name="support-members"),
    path("support/members/<int:user_id>/", views.support_member, name="support-member"),
    path("support/usage/", views.usage, name="support-usage"),
]
