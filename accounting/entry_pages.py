"""What every entry page shares with whoever serves it: the outcome it reports, and what an entry
form carries — the signed mark of the screen that drew it, so that its POST returns to that
screen, and the signed key of the form itself, so that submitting it twice makes one voucher."""

from __future__ import annotations

import secrets
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


SUBMISSION_FIELD = "submission_key"
_SUBMISSION_SALT = "accounting.entry_pages.submission"


def submission_key_new() -> str:
    """A fresh key for a form being drawn: random, signed, and written nowhere until a save
    succeeds with it."""
    return signing.dumps(secrets.token_urlsafe(24), salt=_SUBMISSION_SALT)


def submission_key_of(data: Mapping[str, Any]) -> str | None:
    """The key a posted form carries, or None when it carries none or a forged one."""
    try:
        key = str(signing.loads(str(data.get(SUBMISSION_FIELD, "")), salt=_SUBMISSION_SALT))
    except signing.BadSignature:
        return None
    return key if 0 < len(key) <= 64 else None
