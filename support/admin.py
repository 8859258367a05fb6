"""Support's rows in the admin, read only and limited to the organizations the staff user
administers: feedback is handled and announcements published on support's own pages."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from accounting.admin import ReadOnlyAdminMixin
from accounting.admin_scoping import OrganizationScopedAdmin
from support.models import Announcement, EntryTiming, Feedback


@admin.register(Feedback)
class FeedbackAdmin(OrganizationScopedAdmin, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["created_at", "user", "screen", "channel", "voucher_type", "handled"]
    list_filter = ["organization", "channel", "handled"]
    list_select_related = ["user"]
    search_fields = ["message", "screen", "voucher_type"]
    date_hierarchy = "created_at"


@admin.register(Announcement)
class AnnouncementAdmin(OrganizationScopedAdmin, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["published_at", "title", "published_by", "withdrawn_at"]
    list_filter = ["organization"]
    list_select_related = ["published_by"]


@admin.register(EntryTiming)
class EntryTimingAdmin(OrganizationScopedAdmin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["voucher", "channel", "voucher_type", "opened_at", "posted_at", "keyboard_only"]
    list_filter = ["organization", "channel", "keyboard_only"]
    list_select_related = ["voucher"]
