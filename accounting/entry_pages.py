"""What every entry page shares with whoever serves it: the outcome it reports, and the signed
mark an entry form carries of the screen that drew it, so that its POST returns to that screen."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.core import signing

from accounting.services.entering import EntryOutcome

# Told what each POST did (created, saved, posted, or a refused post with its reasons).
OutcomeListener = Callable[[EntryOutcome], None]

SCREEN_FIELD = "entry_screen"
_SCREEN_SALT = "accounting.entry_pages.screen"


def ignore_outcome(outcome: EntryOutcome) -> None:
    """The listener of a page served directly, where nobody counts what it did."""


def screen_mark(channel: str) -> str:
    """The value of the hidden `entry_screen` field of a form drawn by `channel`'s screen."""
    return signing.dumps(str(channel), salt=_SCREEN_SALT)


def screen_of(data: Mapping[str, Any]) -> str | None:
    """The screen that drew a posted form, or None when the mark is missing or forged."""
    try:
        return str(signing.loads(str(data.get(SCREEN_FIELD, "")), salt=_SCREEN_SALT))
    except signing.BadSignature:
        return None
