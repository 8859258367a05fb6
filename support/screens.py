"""Which entry screen a user gets, as support sees it: told by whoever decides it.

Support knows nothing of how the screen is chosen; the rollout registers the function that
answers when it is installed, and without one every voucher type is served by its one screen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from accounting.models import Organization


@dataclass(frozen=True)
class ScreenDecision:
    voucher_type: str
    channel: str  # EntryChannel.CONFIG or EntryChannel.LEGACY
    reason: str


ScreenProvider = Callable[..., list[ScreenDecision]]  # (*, user, organization)

_providers: list[ScreenProvider] = []


def screen_provider_register(provider: ScreenProvider) -> None:
    """Lets `provider(*, user, organization)` tell which screen serves each voucher type."""
    if provider not in _providers:
        _providers.append(provider)


def screen_decisions(*, user: Any, organization: Organization) -> list[ScreenDecision] | None:
    """The screen each active voucher type opens in for `user`; None when nothing decides it."""
    if not _providers:
        return None
    return _providers[-1](user=user, organization=organization)
