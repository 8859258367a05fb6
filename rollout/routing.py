"""Flag routing: which entry UI, configuration-driven or legacy, serves a request.

One entry URL per voucher type. The django-waffle flag `voucher_config_ui` picks, per user, the
configuration-driven UI or the legacy one, unless the user's organization has its own rollout state
(`rollout.organization_state`), which then decides instead; a type whose configuration is inactive
or invalid falls back to legacy (and `rollout.recording` counts the fallback).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from django.http import HttpRequest
from waffle import flag_is_active
from waffle.models import Flag

from accounting.models import EntryChannel, Organization
from rollout.models import RolloutMode
from rollout.organization_state import OrganizationState, organization_state
from voucher_config.config_cache import type_config_cached
from voucher_config.models import VoucherTypeConfig
from voucher_config.validation import definition_errors

FLAG_NAME = "voucher_config_ui"

FALLBACK_NO_CONFIG = "no active config"
FALLBACK_INVALID = "config invalid"


def user_percentage_bucket(flag_name: str, user_id: int) -> Decimal:
    """A user's fixed place in 0.0–99.9 for a flag: the same user always lands in the same place,
    so a percentage rollout is sticky per user on every device."""
    digest = hashlib.sha256(f"{flag_name}:{user_id}".encode()).hexdigest()
    return Decimal(int(digest[:12], 16) % 1000) / 10


@dataclass(frozen=True)
class Route:
    channel: str  # EntryChannel.CONFIG or EntryChannel.LEGACY
    config: VoucherTypeConfig | None = None
    fallback_reason: str = ""


# Validity per config version: validation is pure, so a (pk, version, hash) answer never changes.
_VALIDITY: dict[tuple[int, int, str], bool] = {}


def config_is_usable(config: VoucherTypeConfig) -> bool:
    key = (config.pk, config.version, config.definition_hash)
    if key not in _VALIDITY:
        _VALIDITY[key] = not definition_errors(config.definition)
        if len(_VALIDITY) > 1024:
            _VALIDITY.clear()
    return _VALIDITY[key]


@dataclass(frozen=True)
class Decision:
    config: bool
    reason: str


def organization_decision(state: OrganizationState, *, user_id: int | None) -> Decision | None:
    """The organization's own answer for a user, with why; None when it follows the global flag."""
    if state.mode == RolloutMode.OFF:
        return Decision(False, "organization: legacy for everyone")
    if state.mode == RolloutMode.EVERYONE:
        return Decision(True, "organization: everyone")
    if state.mode == RolloutMode.GROUPS:
        for name, members in state.groups:
            if user_id in members:
                return Decision(True, f"organization: group {name}")
        return Decision(False, "organization: in none of the chosen groups")
    if state.mode == RolloutMode.PERCENT:
        if user_id is None:
            return Decision(False, "organization: percentage, not signed in")
        bucket = user_percentage_bucket(FLAG_NAME, user_id)
        if bucket < state.percent:
            return Decision(True, f"organization: percentage bucket {bucket} < {state.percent}")
        return Decision(False, f"organization: percentage bucket {bucket} ≥ {state.percent}")
    return None


def config_ui_enabled_for(
    request: HttpRequest, *, organization: Organization | None = None
) -> bool:
    """The answer for this request's user: legacy for everyone while the global flag is off for
    everyone (the one-toggle rollback); else the organization's own state when it has one, else
    the waffle flag's, with its percentage sticky per user.

    Waffle decides a percentage per browser cookie, so one accountant could see both UIs on two
    machines; here a signed-in user's place in 0–99.9 is fixed by their id instead.
    """
    user = getattr(request, "user", None)
    flag = Flag.get(FLAG_NAME)
    if flag.pk and flag.everyone is False:
        # The global rollback: off for everyone means every organization, whatever its own state.
        return False
    if organization is not None:
        signed_in = user is not None and user.is_authenticated
        decision = organization_decision(
            organization_state(organization_id=organization.pk),
            user_id=user.pk if signed_in else None,  # type: ignore[union-attr]
        )
        if decision is not None:
            return decision.config
    if flag.pk and flag.everyone is not None:
        return bool(flag.everyone)
    if not flag.pk or user is None or not user.is_authenticated:
        return bool(flag_is_active(request, FLAG_NAME))
    if flag.is_active_for_user(user):
        return True
    percent = flag.percent
    return percent is not None and user_percentage_bucket(FLAG_NAME, user.pk) < percent


def route_for(
    request: HttpRequest, *, organization: Organization, type_code: str, drawn_by: str | None = None
) -> Route:
    """The screen that serves an entry request, with the configuration it needs, read once.

    A POST returns to the screen that drew its form (`drawn_by`, from the form's signed mark),
    so a flag toggled while someone is typing loses nothing; anything else goes by the
    organization's rollout state or the flag.
    """
    if drawn_by == EntryChannel.LEGACY:
        return Route(EntryChannel.LEGACY)
    if drawn_by != EntryChannel.CONFIG and not config_ui_enabled_for(
        request, organization=organization
    ):
        return Route(EntryChannel.LEGACY)
    config = type_config_cached(organization=organization, type_code=type_code)
    if drawn_by == EntryChannel.CONFIG and config is not None:
        # Its screen says why it can no longer take the entry, keeping what was typed.
        return Route(EntryChannel.CONFIG, config=config)
    if config is None or not config.is_active:
        return Route(EntryChannel.LEGACY, fallback_reason=FALLBACK_NO_CONFIG)
    if not config_is_usable(config):
        return Route(EntryChannel.LEGACY, config=config, fallback_reason=FALLBACK_INVALID)
    return Route(EntryChannel.CONFIG, config=config)
