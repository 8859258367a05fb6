"""Flag routing: which entry UI, configuration-driven or legacy, serves a request.

One entry URL per voucher type. The django-waffle flag `voucher_config_ui` picks, per user, the
configuration-driven UI or the legacy one; a type whose configuration is inactive or invalid falls
back to legacy (and `rollout.recording` counts the fallback).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from django.http import HttpRequest
from waffle import flag_is_active
from waffle.models import Flag

from accounting.models import EntryChannel, Organization
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


def config_ui_enabled_for(request: HttpRequest) -> bool:
    """The waffle flag's answer for this request's user, with its percentage sticky per user.

    Waffle decides a percentage per browser cookie, so one accountant could see both UIs on two
    machines; here a signed-in user's place in 0–99.9 is fixed by their id instead.
    """
    flag = Flag.get(FLAG_NAME)
    if flag.pk and flag.everyone is not None:
        return bool(flag.everyone)
    user = getattr(request, "user", None)
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
    so a flag toggled while someone is typing loses nothing; anything else goes by the flag.
    """
    if drawn_by == EntryChannel.LEGACY:
        return Route(EntryChannel.LEGACY)
    if drawn_by != EntryChannel.CONFIG and not config_ui_enabled_for(request):
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
