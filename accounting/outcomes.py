"""What an entry view did with a voucher, noted on the request for whoever routed it there.

The entry views (legacy and configuration-driven) note each outcome; the rollout router reads
them to count vouchers created, posted and failed per channel without knowing either UI.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

CREATED = "created"
SAVED = "saved"
POSTED = "posted"
POST_FAILED = "post_failed"


@dataclass(frozen=True)
class EntryOutcome:
    kind: str
    voucher_id: int | None = None
    reason: str = ""


def outcome_note(
    request: HttpRequest, *, kind: str, voucher_id: int | None = None, reason: str = ""
) -> None:
    outcomes: list[EntryOutcome] = request.__dict__.setdefault("entry_outcomes", [])
    outcomes.append(EntryOutcome(kind=kind, voucher_id=voucher_id, reason=reason[:100]))


def outcomes_of(request: HttpRequest) -> list[EntryOutcome]:
    return list(request.__dict__.get("entry_outcomes", []))
