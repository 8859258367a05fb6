"""Changing the rollout: who the `voucher_config_ui` flag gives the configuration UI, described.

The flag is global, so only a superuser changes it (or an operator at the shell, who can reach
the database anyway); every change is recorded in the flag's history with who made it.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, Group
from django.db import transaction
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


class RolloutRefused(Exception):
    """Raised when someone who may not change the rollout flag tries to."""


def rollout_set(
    *,
    acting_user: AbstractBaseUser | AnonymousUser | None,
    operator: str,
    everyone: bool | None = None,
    groups: list[str] | None = None,
    percent: Decimal | None = None,
    staff: bool | None = None,
    reason: str | None = None,
) -> str:
    """Sets who gets the configuration UI; `everyone` True or False overrides all the rest.

    `acting_user` is who changes the flag and must be a superuser; None is an operator at the
    shell, trusted since shell access is database access. `operator` names whoever acted in the
    history's change reason (`reason`, when given, is the change reason instead); the history
    row also holds `acting_user` and the values before and after. Nothing is changed when the
    user is refused or a value is wrong.
    """
    if acting_user is not None and not (
        acting_user.is_active and getattr(acting_user, "is_superuser", False)
    ):
        raise RolloutRefused(
            f"Only a superuser may change the rollout of the configuration UI; "
            f"{acting_user} is not one."
        )
    with transaction.atomic():
        return _rollout_set(
            acting_user=acting_user,
            reason=(reason or f"voucher_rollout by {operator}")[:100],
            everyone=everyone,
            groups=groups,
            percent=percent,
            staff=staff,
        )


def _rollout_set(
    *,
    acting_user: AbstractBaseUser | AnonymousUser | None,
    reason: str,
    everyone: bool | None,
    groups: list[str] | None,
    percent: Decimal | None,
    staff: bool | None,
) -> str:
    found: list[Group] | None = None
    if groups is not None:
        found = list(Group.objects.filter(name__in=groups))
        missing = sorted(set(groups) - {g.name for g in found})
        if missing:
            raise ValueError(f"no such group(s): {', '.join(missing)}")
    if percent is not None and not 0 <= percent <= Decimal("99.9"):
        raise ValueError("the percentage must be between 0 and 99.9")
    flag = Flag.objects.select_for_update().get(name=FLAG_NAME)
    history = flag.history  # type: ignore[attr-defined]
    if not history.exists():
        # A flag made before its history was kept: record where it stood, so this change shows
        # the values before it.
        history.bulk_history_create([flag], default_change_reason="state before the change")
    flag.everyone = everyone
    if percent is not None:
        flag.percent = percent or None
    if staff is not None:
        flag.staff = staff
    if found is not None:
        # One history row for the whole change, written by save() below with the new groups.
        flag.skip_history_when_saving = True  # type: ignore[attr-defined]
        flag.groups.set(found)
        del flag.skip_history_when_saving  # type: ignore[attr-defined]
    flag._history_user = acting_user  # type: ignore[attr-defined]
    flag._change_reason = reason  # type: ignore[attr-defined]
    flag.save()
    return rollout_describe()
