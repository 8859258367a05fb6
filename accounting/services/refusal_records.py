"""The ledger's record of what it refused from an entry screen: each rule broken, with its
message, written after the refused transaction rolled back, for support and the usage figures."""

from __future__ import annotations

import logging

from django.db import DatabaseError, transaction
from django.utils import timezone

from accounting.models import EntryChannel, EntryRefusal, Organization, Voucher, VoucherType
from accounting.services.checks import Problem, VoucherRejected
from accounting.services.entry_rules import EntryAction, EntryRefused
from accounting.services.inputs import User

logger = logging.getLogger(__name__)

# A voucher with every line wrong names each line; a few rows tell support all they need.
MAX_ROWS_PER_REFUSAL = 20
# Refusals the screens record; an import reports its refusals in its own result, all or nothing.
RECORDED_CHANNELS = (EntryChannel.LEGACY, EntryChannel.CONFIG)


def refusal_problems(refusal: EntryRefused | VoucherRejected) -> list[Problem]:
    """The rules and messages of a refusal, the ledger's checks or the entry rules alike."""
    if isinstance(refusal, VoucherRejected):
        return [
            Problem(message, rule=problem.rule or "rejected")
            for problem, message in zip(refusal.problems, refusal.messages, strict=True)
        ]
    return [Problem(refusal.message, rule=refusal.rule)]


def entry_refusal_record(
    *,
    organization: Organization,
    user: User,
    voucher_type: VoucherType,
    voucher: Voucher | None,
    action: EntryAction,
    channel: str,
    refusal: EntryRefused | VoucherRejected,
) -> list[EntryRefusal]:
    """Writes the rules `refusal` names, one row each; nothing for a channel not recorded.

    Called once the refused entry's own transaction has rolled back, so the record is its own
    small write and survives the refusal. A record that cannot be written (a caller's
    transaction already broken, the database gone) is logged and never hides the refusal itself.
    """
    if channel not in RECORDED_CHANNELS or transaction.get_connection().needs_rollback:
        return []
    now = timezone.now()
    user_id = user.pk if user is not None and user.is_authenticated else None
    rows = [
        EntryRefusal(
            organization=organization,
            user_id=user_id,
            voucher_type=voucher_type,
            voucher=voucher,
            action=str(action),
            channel=channel,
            rule=problem.rule[:50],
            message=problem.message,
            refused_at=now,
        )
        for problem in refusal_problems(refusal)[:MAX_ROWS_PER_REFUSAL]
    ]
    try:
        with transaction.atomic():
            return EntryRefusal.objects.bulk_create(rows)
    except DatabaseError:
        logger.exception("the refusal of a %s entry could not be recorded", voucher_type.code)
        return []
