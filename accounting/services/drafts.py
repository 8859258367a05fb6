"""Draft vouchers: create, replace, submit, approve and cancel, each atomic and audited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounting.models import (
    ZERO,
    Account,
    EntryChannel,
    Organization,
    Party,
    Voucher,
    VoucherLine,
    VoucherStatus,
    VoucherType,
)
from accounting.services.rules import (
    AccountFacts,
    Problem,
    VoucherRejected,
    account_problems,
    amount_problems,
)

User = AbstractBaseUser | AnonymousUser | None


@dataclass
class LineInput:
    """One entered line: an account id, one side's amount, and what else the line carries."""

    account_id: int | None
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    description: str = ""
    party_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class VoucherInput:
    """A whole entered voucher, as the forms, the import and the tests hand it over."""

    voucher_type: VoucherType
    date: date
    lines: Sequence[LineInput]
    reference: str = ""
    narration: str = ""
    party_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    entry_channel: str = EntryChannel.LEGACY
    config_version: int | None = None
    config_hash: str = ""
    requires_approval: bool = False


def account_facts_for(
    *, organization: Organization, account_ids: set[int]
) -> dict[int, AccountFacts]:
    """The facts posting checks, for every account the lines name, in one query."""
    rows = (
        Account.objects.filter(pk__in=account_ids)
        .annotate(is_group=Exists(Account.objects.filter(parent_id=OuterRef("pk"))))
        .values_list("id", "code", "organization_id", "is_active", "is_group")
    )
    return {row[0]: AccountFacts(*row) for row in rows}


def draft_line_problems(
    *, organization: Organization, voucher_input: VoucherInput
) -> tuple[list[Problem], dict[int, AccountFacts]]:
    """What makes an entry unfit even as a draft: foreign accounts or parties, bad amounts."""
    problems: list[Problem] = []
    if voucher_input.voucher_type.organization_id != organization.pk:
        problems.append(Problem("voucher type belongs to another organization"))
    ids = {line.account_id for line in voucher_input.lines if line.account_id}
    facts = account_facts_for(organization=organization, account_ids=ids)
    party_ids = {line.party_id for line in voucher_input.lines if line.party_id}
    if voucher_input.party_id:
        party_ids.add(voucher_input.party_id)
    own_parties = set(
        Party.objects.filter(organization=organization, pk__in=party_ids).values_list(
            "pk", flat=True
        )
        if party_ids
        else ()
    )
    if voucher_input.party_id and voucher_input.party_id not in own_parties:
        problems.append(Problem("party belongs to another organization", field="party"))
    for number, line in enumerate(voucher_input.lines, start=1):
        # A draft may still be incomplete (a line without an amount), but never malformed.
        problems += [
            p
            for p in amount_problems(line.debit, line.credit, line=number)
            if "neither" not in p.message
        ]
        if line.account_id is not None:
            account = facts.get(line.account_id)
            problems += [
                p
                for p in account_problems(account, organization_id=organization.pk, line=number)
                if account is None or account.organization_id != organization.pk
            ]
        if line.party_id and line.party_id not in own_parties:
            problems.append(
                Problem("party belongs to another organization", line=number, field="party")
            )
    return problems, facts


def build_lines(voucher: Voucher, lines: Sequence[LineInput]) -> list[VoucherLine]:
    return [
        VoucherLine(
            voucher=voucher,
            order=number,
            account_id=line.account_id,
            debit=line.debit,
            credit=line.credit,
            description=line.description,
            party_id=line.party_id,
            data=line.data,
        )
        for number, line in enumerate(lines, start=1)
    ]


def lines_save_with_history(lines: list[VoucherLine], *, user: User) -> None:
    VoucherLine.objects.bulk_create(lines)
    VoucherLine.history.bulk_history_create(  # type: ignore[attr-defined]
        lines, default_user=user if getattr(user, "pk", None) else None
    )


def voucher_draft_create(
    *, organization: Organization, voucher_input: VoucherInput, user: User = None
) -> Voucher:
    problems, _ = draft_line_problems(organization=organization, voucher_input=voucher_input)
    if problems:
        raise VoucherRejected(f"Draft {voucher_input.voucher_type.code}", problems)
    with transaction.atomic():
        voucher = Voucher(
            organization=organization,
            voucher_type=voucher_input.voucher_type,
            date=voucher_input.date,
            reference=voucher_input.reference,
            narration=voucher_input.narration,
            party_id=voucher_input.party_id,
            data=voucher_input.data,
            entry_channel=voucher_input.entry_channel,
            config_version=voucher_input.config_version,
            config_hash=voucher_input.config_hash,
            requires_approval=voucher_input.requires_approval,
            created_by=user if getattr(user, "pk", None) else None,
        )
        voucher._history_user = user if getattr(user, "pk", None) else None  # type: ignore[attr-defined]
        voucher.save()
        lines_save_with_history(build_lines(voucher, voucher_input.lines), user=user)
    return voucher


def voucher_draft_update(
    *, voucher: Voucher, voucher_input: VoucherInput, user: User = None
) -> Voucher:
    """Replaces a draft's header and lines; refused once the voucher has left draft."""
    problems, _ = draft_line_problems(
        organization=voucher.organization, voucher_input=voucher_input
    )
    if problems:
        raise VoucherRejected(str(voucher), problems)
    with transaction.atomic():
        locked = Voucher.objects.select_for_update().get(pk=voucher.pk)
        if locked.status not in (VoucherStatus.DRAFT, VoucherStatus.SUBMITTED):
            raise VoucherRejected(
                str(locked), [Problem(f"is {locked.status} and cannot be edited")]
            )
        for attr in ("date", "reference", "narration", "party_id", "data"):
            setattr(locked, attr, getattr(voucher_input, attr))
        locked.entry_channel = voucher_input.entry_channel
        locked.config_version = voucher_input.config_version
        locked.config_hash = voucher_input.config_hash
        locked.requires_approval = voucher_input.requires_approval
        # An edit after submission sends the voucher back to draft: approval covers what was seen.
        locked.status = VoucherStatus.DRAFT
        locked._history_user = user if getattr(user, "pk", None) else None  # type: ignore[attr-defined]
        locked.save()
        old_lines = list(locked.lines.all())
        VoucherLine.history.bulk_history_create(  # type: ignore[attr-defined]
            old_lines,
            update=False,
            default_user=user if getattr(user, "pk", None) else None,
            default_change_reason="replaced",
            custom_historical_attrs={"history_type": "-"},
        )
        locked.lines.all().delete()
        lines_save_with_history(build_lines(locked, voucher_input.lines), user=user)
    return locked


def _transition(
    *, voucher: Voucher, allowed_from: set[str], to: str, user: User, stamp: dict[str, Any]
) -> Voucher:
    with transaction.atomic():
        locked = Voucher.objects.select_for_update().get(pk=voucher.pk)
        if locked.status not in allowed_from:
            allowed = " or ".join(sorted(allowed_from))
            raise VoucherRejected(
                str(locked), [Problem(f"is {locked.status}; it must be {allowed} to become {to}")]
            )
        locked.status = to
        for attr, value in stamp.items():
            setattr(locked, attr, value)
        locked._history_user = user if getattr(user, "pk", None) else None  # type: ignore[attr-defined]
        locked.save(update_fields=["status", "updated_at", *stamp])
    return locked


def voucher_submit(*, voucher: Voucher, user: User) -> Voucher:
    return _transition(
        voucher=voucher,
        allowed_from={VoucherStatus.DRAFT},
        to=VoucherStatus.SUBMITTED,
        user=user,
        stamp={"submitted_by": user},
    )


def voucher_approve(*, voucher: Voucher, user: User) -> Voucher:
    return _transition(
        voucher=voucher,
        allowed_from={VoucherStatus.SUBMITTED},
        to=VoucherStatus.APPROVED,
        user=user,
        stamp={"approved_by": user, "approved_at": timezone.now()},
    )


def voucher_cancel(*, voucher: Voucher, user: User) -> Voucher:
    return _transition(
        voucher=voucher,
        allowed_from={VoucherStatus.DRAFT, VoucherStatus.SUBMITTED, VoucherStatus.APPROVED},
        to=VoucherStatus.CANCELLED,
        user=user,
        stamp={},
    )
