"""Changing one organization's rollout: its mode, groups and percentage, and its rollout groups.

An organization's administrator (or a superuser, or an operator at the shell) changes it; every
change is one history row with who made it, the reason, and the values before and after, and the
cached state is dropped so the next request on every process goes by the change.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import transaction

from accounting.models import Membership, Organization, Role
from rollout.models import OrganizationRollout, RolloutGroup, RolloutMode
from rollout.organization_state import organization_state_forget
from rollout.switch import RolloutRefused

REASON_MAX = 100  # the history's change reason column
MAX_PERCENT = Decimal("99.9")

ActingUser = AbstractBaseUser | AnonymousUser | None


def rollout_may_change(*, user: ActingUser, organization: Organization) -> bool:
    """Whether `user` may change the organization's rollout: its administrator or a superuser."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if getattr(user, "is_superuser", False):
        return True
    return Membership.objects.filter(
        user_id=user.pk, organization=organization, role=Role.ADMIN
    ).exists()


def _check(*, acting_user: ActingUser, organization: Organization, reason: str) -> str:
    if acting_user is not None and not rollout_may_change(
        user=acting_user, organization=organization
    ):
        raise RolloutRefused(
            f"Only an administrator of {organization} or a superuser may change its rollout; "
            f"{acting_user} is neither."
        )
    reason = reason.strip()
    if not reason:
        raise ValueError("Give a reason for the change: it is kept in the rollout's history.")
    if len(reason) > REASON_MAX:
        raise ValueError(f"The reason is {len(reason)} characters long; at most {REASON_MAX}.")
    return reason


def organization_rollout_of(*, organization: Organization) -> OrganizationRollout:
    """The organization's rollout row, unsaved in `inherit` mode when it has none yet."""
    row = OrganizationRollout.objects.filter(organization=organization).first()
    return row or OrganizationRollout(organization=organization)


def organization_rollout_set(
    *,
    organization: Organization,
    acting_user: ActingUser,
    mode: str,
    reason: str,
    percent: Decimal | None = None,
    groups: list[RolloutGroup] | None = None,
) -> OrganizationRollout:
    """Sets who in the organization gets the configuration screen.

    `acting_user` None is an operator at the shell, named in `reason`. `percent` is kept only in
    percent mode and `groups` only in groups mode (each must be one of the organization's rollout
    groups). Nothing changes when the user is refused or a value is wrong.
    """
    reason = _check(acting_user=acting_user, organization=organization, reason=reason)
    if mode not in RolloutMode.values:
        raise ValueError(f"unknown mode '{mode}'; one of {', '.join(RolloutMode.values)}")
    if mode == RolloutMode.PERCENT and (percent is None or not 0 <= percent <= MAX_PERCENT):
        raise ValueError(f"the percentage must be between 0 and {MAX_PERCENT}")
    chosen = list(groups or []) if mode == RolloutMode.GROUPS else []
    if mode == RolloutMode.GROUPS and not chosen:
        raise ValueError("choose at least one group")
    foreign = sorted(g.name for g in chosen if g.organization_id != organization.pk)
    if foreign:
        raise ValueError(f"not groups of {organization}: {', '.join(foreign)}")
    with transaction.atomic():
        row = OrganizationRollout.objects.select_for_update().filter(organization=organization)
        rollout = row.first()
        if rollout is None:
            # The state before the first change, so the change's history row shows what it was.
            rollout = OrganizationRollout(organization=organization)
            _save(rollout, acting_user=acting_user, reason="state before the change")
        rollout.mode = mode
        rollout.percent = percent if mode == RolloutMode.PERCENT and percent else Decimal(0)
        # One history row for the whole change, written by the save below with the new groups.
        rollout.skip_history_when_saving = True  # type: ignore[attr-defined]
        rollout.groups.set(chosen)
        del rollout.skip_history_when_saving  # type: ignore[attr-defined]
        _save(rollout, acting_user=acting_user, reason=reason)
        organization_state_forget(organization_id=organization.pk)
    return rollout


def rollout_group_save(
    *,
    organization: Organization,
    acting_user: ActingUser,
    name: str,
    members: list[Any],
    reason: str,
) -> RolloutGroup:
    """Creates the organization's rollout group `name`, or sets its members; each member must be
    a member of the organization."""
    reason = _check(acting_user=acting_user, organization=organization, reason=reason)
    name = name.strip()
    if not name:
        raise ValueError("Give the group a name.")
    allowed = set(
        Membership.objects.filter(organization=organization).values_list("user_id", flat=True)
    )
    outsiders = sorted(str(user) for user in members if user.pk not in allowed)
    if outsiders:
        raise ValueError(f"not members of {organization}: {', '.join(outsiders)}")
    with transaction.atomic():
        group = (
            RolloutGroup.objects.select_for_update()
            .filter(organization=organization, name=name)
            .first()
        )
        if group is None:
            group = RolloutGroup(organization=organization, name=name)
            _save(group, acting_user=acting_user, reason=reason)
        group.skip_history_when_saving = True  # type: ignore[attr-defined]
        group.members.set(members)
        del group.skip_history_when_saving  # type: ignore[attr-defined]
        _save(group, acting_user=acting_user, reason=reason)
        organization_state_forget(organization_id=organization.pk)
    return group


def _save(row: Any, *, acting_user: ActingUser, reason: str) -> None:
    row._history_user = acting_user if acting_user is not None and acting_user.pk else None
    row._change_reason = reason
    row.save()
