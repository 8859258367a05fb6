"""Posting: the only code that writes ledger entries. Every view, command and test calls it.

Each function checks every rule before it writes, takes the voucher number from a locked counter,
and runs in one transaction, so a refusal or a failure leaves the database exactly as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounting.models import (
    Account,
    AccountingPeriod,
    EntryChannel,
    LedgerEntry,
    Organization,
    Voucher,
    VoucherLine,
    VoucherStatus,
)
from accounting.services.drafts import (
    LineInput,
    User,
    VoucherInput,
    build_lines,
    draft_line_problems,
    lines_save_with_history,
)
from accounting.services.numbering import number_take
from accounting.services.rules import (
    AccountFacts,
    LineFacts,
    Problem,
    VoucherRejected,
    line_problems,
    period_problems,
    status_problems,
)


def period_for(*, organization_id: int, on: date) -> AccountingPeriod | None:
    return (
        AccountingPeriod.objects.select_related("fiscal_year")
        .filter(fiscal_year__organization_id=organization_id, start_date__lte=on, end_date__gte=on)
        .first()
    )


def _stored_line_facts(voucher: Voucher) -> list[LineFacts]:
    rows = (
        VoucherLine.objects.filter(voucher_id=voucher.pk)
        .order_by("order", "id")
        .annotate(is_group=Exists(Account.objects.filter(parent_id=OuterRef("account_id"))))
        .values_list(
            "account_id",
            "debit",
            "credit",
            "account__code",
            "account__organization_id",
            "account__is_active",
            "is_group",
            "order",
            "party_id",
            "description",
        )
    )
    return [
        LineFacts(
            account_id=row[0],
            debit=row[1],
            credit=row[2],
            account=AccountFacts(row[0], row[3], row[4], row[5], row[6]),
            extra={"order": row[7], "party_id": row[8], "description": row[9]},
        )
        for row in rows
    ]


def _ledger_entries(
    voucher: Voucher, lines: Sequence[LineFacts | VoucherLine]
) -> list[LedgerEntry]:
    entries = []
    for number, line in enumerate(lines, start=1):
        if isinstance(line, LineFacts):
            party_id, description = line.extra["party_id"], line.extra["description"]
        else:
            party_id, description = line.party_id, line.description
        entries.append(
            LedgerEntry(
                organization_id=voucher.organization_id,
                voucher=voucher,
                line_order=number,
                account_id=line.account_id,
                date=voucher.date,
                debit=line.debit,
                credit=line.credit,
                party_id=party_id or voucher.party_id,
                description=str(description or ""),
            )
        )
    return entries


def _history_user(user: User) -> User:
    return user if getattr(user, "pk", None) else None


def voucher_post(*, voucher: Voucher, user: User) -> Voucher:
    """Posts a draft (or an approved voucher): numbers it and writes its ledger entries."""
    with transaction.atomic():
        # The voucher row is locked first, then the counter: every poster takes them in that
        # order, and a second poster of the same draft waits here and then sees it posted.
        locked = (
            Voucher.objects.select_for_update(of=("self",))
            .select_related("voucher_type")
            .filter(pk=voucher.pk)
            .first()
        )
        if locked is None:
            raise VoucherRejected(str(voucher), [Problem("no longer exists")])
        label = str(locked)
        problems = status_problems(locked.status, requires_approval=locked.requires_approval)
        if problems:
            raise VoucherRejected(label, problems)
        lines = _stored_line_facts(locked)
        period = period_for(organization_id=locked.organization_id, on=locked.date)
        problems = line_problems(lines, organization_id=locked.organization_id)
        problems += period_problems(period, on=locked.date)
        if problems:
            raise VoucherRejected(label, problems)
        assert period is not None
        locked.sequence, locked.number = number_take(
            voucher_type=locked.voucher_type, fiscal_year=period.fiscal_year
        )
        LedgerEntry.objects.bulk_create(_ledger_entries(locked, lines))
        locked.fiscal_year = period.fiscal_year
        locked.status = VoucherStatus.POSTED
        locked.posted_by = _history_user(user)  # type: ignore[assignment]
        locked.posted_at = timezone.now()
        locked._history_user = _history_user(user)  # type: ignore[attr-defined]
        locked.save(
            update_fields=[
                "sequence",
                "number",
                "fiscal_year",
                "status",
                "posted_by",
                "posted_at",
                "updated_at",
            ]
        )
    return locked


def voucher_create_posted(
    *,
    organization: Organization,
    voucher_input: VoucherInput,
    user: User = None,
    reversal_of: Voucher | None = None,
) -> Voucher:
    """Creates and posts a voucher in one transaction: the path imports and bulk entry take.

    Everything is checked before the transaction opens; inside it only the counter is locked.
    """
    label = f"New {voucher_input.voucher_type.code} voucher dated {voucher_input.date.isoformat()}"
    problems, facts = draft_line_problems(organization=organization, voucher_input=voucher_input)
    line_facts = [
        LineFacts(
            account_id=line.account_id,
            debit=line.debit,
            credit=line.credit,
            account=facts.get(line.account_id) if line.account_id else None,
        )
        for line in voucher_input.lines
    ]
    seen = {(p.line, p.message) for p in problems}
    problems += [
        p
        for p in line_problems(line_facts, organization_id=organization.pk)
        if (p.line, p.message) not in seen
    ]
    period = period_for(organization_id=organization.pk, on=voucher_input.date)
    problems += period_problems(period, on=voucher_input.date)
    if voucher_input.requires_approval:
        problems.append(Problem("needs approval before it can be posted"))
    if problems:
        raise VoucherRejected(label, problems)
    assert period is not None
    history_user = _history_user(user)
    with transaction.atomic():
        sequence, number = number_take(
            voucher_type=voucher_input.voucher_type, fiscal_year=period.fiscal_year
        )
        now = timezone.now()
        voucher = Voucher(
            organization=organization,
            voucher_type=voucher_input.voucher_type,
            fiscal_year=period.fiscal_year,
            sequence=sequence,
            number=number,
            date=voucher_input.date,
            reference=voucher_input.reference,
            narration=voucher_input.narration,
            party_id=voucher_input.party_id,
            data=voucher_input.data,
            status=VoucherStatus.POSTED,
            entry_channel=voucher_input.entry_channel,
            config_version=voucher_input.config_version,
            config_hash=voucher_input.config_hash,
            created_by=history_user,
            posted_by=history_user,
            posted_at=now,
            reversal_of=reversal_of,
        )
        voucher._history_user = history_user  # type: ignore[attr-defined]
        voucher.save()
        lines = build_lines(voucher, voucher_input.lines)
        lines_save_with_history(lines, user=user)
        LedgerEntry.objects.bulk_create(_ledger_entries(voucher, lines))
    return voucher


def voucher_reverse(
    *, voucher: Voucher, user: User, on: date | None = None, narration: str = ""
) -> Voucher:
    """Posts a new voucher with every line's sides swapped; the original becomes reversed."""
    with transaction.atomic():
        original = (
            Voucher.objects.select_for_update(of=("self",))
            .select_related("voucher_type", "organization")
            .get(pk=voucher.pk)
        )
        if original.status != VoucherStatus.POSTED:
            raise VoucherRejected(
                str(original),
                [Problem(f"is {original.status}; only a posted voucher can be reversed")],
            )
        lines = [
            LineInput(
                account_id=line.account_id,
                debit=line.credit,
                credit=line.debit,
                description=line.description,
                party_id=line.party_id,
                data=line.data,
            )
            for line in original.lines.all()
        ]
        reversal = voucher_create_posted(
            organization=original.organization,
            voucher_input=VoucherInput(
                voucher_type=original.voucher_type,
                date=on or original.date,
                lines=lines,
                reference=original.number or "",
                narration=narration or f"Reversal of {original.number}",
                party_id=original.party_id,
                data=original.data,
                entry_channel=EntryChannel.SYSTEM,
            ),
            user=user,
            reversal_of=original,
        )
        original.status = VoucherStatus.REVERSED
        original._history_user = _history_user(user)  # type: ignore[attr-defined]
        original.save(update_fields=["status", "updated_at"])
    return reversal
