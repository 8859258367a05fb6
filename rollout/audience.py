"""Who in an organization gets which entry screen, and why: per member, counted, and what a change
of the organization's rollout state would move."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from waffle.models import Flag

from accounting.models import EntryChannel, Membership, Organization
from rollout.organization_state import OrganizationState
from rollout.routing import (
    FALLBACK_INVALID,
    FALLBACK_NO_CONFIG,
    FLAG_NAME,
    Decision,
    config_is_usable,
    organization_decision,
    user_percentage_bucket,
)
from voucher_config.models import VoucherTypeConfig


@dataclass(frozen=True)
class MemberScreen:
    user: Any
    role: str
    channel: str
    reason: str

    @property
    def on_config(self) -> bool:
        return self.channel == EntryChannel.CONFIG


@dataclass(frozen=True)
class GlobalFlag:
    """The global flag's fields as the explanation needs them, read once."""

    flag: Flag | None
    user_ids: frozenset[int]
    groups: dict[int, str]

    @classmethod
    def read(cls) -> GlobalFlag:
        flag = Flag.objects.filter(name=FLAG_NAME).first()
        if flag is None:
            return cls(None, frozenset(), {})
        return cls(
            flag,
            frozenset(flag.users.values_list("pk", flat=True)),
            dict(flag.groups.values_list("pk", "name")),
        )

    def decision(self, user: Any, group_ids: set[int]) -> Decision:
        """The global flag's answer for a signed-in user, as `config_ui_enabled_for` gives it."""
        flag = self.flag
        if flag is None:
            return Decision(False, "global flag: missing")
        if flag.everyone is True:
            return Decision(True, "global flag: everyone")
        if flag.everyone is False:
            return Decision(False, "global flag: off")
        if flag.authenticated:
            return Decision(True, "global flag: every signed-in user")
        if flag.staff and user.is_staff:
            return Decision(True, "global flag: staff")
        if flag.superusers and user.is_superuser:
            return Decision(True, "global flag: superusers")
        if user.pk in self.user_ids:
            return Decision(True, "global flag: chosen user")
        shared = sorted(self.groups[pk] for pk in group_ids if pk in self.groups)
        if shared:
            return Decision(True, f"global flag: group {shared[0]}")
        if flag.percent:
            bucket = user_percentage_bucket(FLAG_NAME, user.pk)
            if bucket < flag.percent:
                return Decision(True, f"global flag: percentage bucket {bucket} < {flag.percent}")
            return Decision(False, f"global flag: percentage bucket {bucket} ≥ {flag.percent}")
        return Decision(False, "global flag: not selected")


def organization_members(*, organization: Organization) -> list[Membership]:
    return list(
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .prefetch_related("user__groups")
        .order_by("user__username")
    )


def member_screens(
    *,
    members: list[Membership],
    state: OrganizationState,
    global_flag: GlobalFlag,
) -> list[MemberScreen]:
    """Each member's screen on the entry pages under `state`, with why."""
    rows = []
    for membership in members:
        user = membership.user
        decision = organization_decision(state, user_id=user.pk) or global_flag.decision(
            user, {group.pk for group in user.groups.all()}
        )
        channel = EntryChannel.CONFIG if decision.config else EntryChannel.LEGACY
        rows.append(MemberScreen(user, membership.get_role_display(), channel, decision.reason))
    return rows


@dataclass(frozen=True)
class Move:
    to_config: int
    to_legacy: int
    total: int

    def __str__(self) -> str:
        if not (self.to_config or self.to_legacy):
            return f"No one of the {self.total} users changes screen."
        parts = []
        if self.to_config:
            parts.append(
                f"{self.to_config} of {self.total} users will move to the configuration screen"
            )
        if self.to_legacy:
            parts.append(f"{self.to_legacy} of {self.total} users will move to the legacy screen")
        return "; ".join(parts) + "."


def screen_moves(before: list[MemberScreen], after: list[MemberScreen]) -> Move:
    was = {row.user.pk: row.on_config for row in before}
    to_config = sum(1 for row in after if row.on_config and not was.get(row.user.pk, False))
    to_legacy = sum(1 for row in after if not row.on_config and was.get(row.user.pk, False))
    return Move(to_config, to_legacy, len(after))


def fallback_types(*, organization: Organization) -> list[tuple[str, str]]:
    """The organization's active voucher types served by the legacy screen whatever the rollout
    says, with why: no active configuration, or an invalid one."""
    configs = {
        config.voucher_type.code: config
        for config in VoucherTypeConfig.objects.filter(organization=organization).select_related(
            "voucher_type"
        )
    }
    fallbacks = []
    for voucher_type in organization.voucher_types.filter(is_active=True).order_by("code"):
        config = configs.get(voucher_type.code)
        if config is None or not config.is_active:
            fallbacks.append((voucher_type.code, FALLBACK_NO_CONFIG))
        elif not config_is_usable(config):
            fallbacks.append((voucher_type.code, FALLBACK_INVALID))
    return fallbacks
