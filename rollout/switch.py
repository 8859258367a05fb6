"""Changing the rollout: who the `voucher_config_ui` flag gives the configuration UI, described."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import Group
from waffle.models import Flag

from rollout.routing import FLAG_NAME


def rollout_flag() -> Flag:
    return Flag.objects.get(name=FLAG_NAME)


def rollout_describe() -> str:
    flag = rollout_flag()
    if flag.everyone is True:
        return "on for everyone"
    if flag.everyone is False:
        return "off for everyone (legacy UI)"
    parts = []
    groups = sorted(flag.groups.values_list("name", flat=True))
    if groups:
        parts.append("groups " + ", ".join(groups))
    users = sorted(flag.users.values_list("username", flat=True))
    if users:
        parts.append("users " + ", ".join(users))
    if flag.staff:
        parts.append("staff")
    if flag.superusers:
        parts.append("superusers")
    if flag.authenticated:
        parts.append("every signed-in user")
    if flag.percent:
        parts.append(f"{flag.percent}% of users (sticky per user)")
    return "on for " + "; ".join(parts) if parts else "off (no one selected)"


def rollout_set(
    *,
    everyone: bool | None = None,
    groups: list[str] | None = None,
    percent: Decimal | None = None,
    staff: bool | None = None,
) -> str:
    """Sets who gets the configuration UI; `everyone` True or False overrides all the rest."""
    flag = rollout_flag()
    flag.everyone = everyone
    if groups is not None:
        found = list(Group.objects.filter(name__in=groups))
        missing = sorted(set(groups) - {g.name for g in found})
        if missing:
            raise ValueError(f"no such group(s): {', '.join(missing)}")
        flag.groups.set(found)
    if percent is not None:
        if not 0 <= percent <= Decimal("99.9"):
            raise ValueError("the percentage must be between 0 and 99.9")
        flag.percent = percent or None
    if staff is not None:
        flag.staff = staff
    flag.save()
    return rollout_describe()
