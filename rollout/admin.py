"""The rollout flags in the admin: for superusers only, with every change kept in the history.

waffle registers its Flag, Switch and Sample admins; they are registered again here so that no
staff user, whatever model permissions they hold, changes what every organization is served.
"""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin
from waffle.admin import FlagAdmin
from waffle.models import Flag, Sample, Switch

from accounting.admin_scoping import SuperuserOnlyAdmin, superuser_only


class RolloutFlagAdmin(SuperuserOnlyAdmin, SimpleHistoryAdmin, FlagAdmin):
    """waffle's flag admin, for superusers, with the history of each flag."""


if admin.site.is_registered(Flag):
    admin.site.unregister(Flag)
admin.site.register(Flag, RolloutFlagAdmin)
for model in (Switch, Sample):
    if admin.site.is_registered(model):
        superuser_only(model)
