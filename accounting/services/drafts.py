"""Draft vouchers: create, replace, submit, approve and cancel, each atomic and audited."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.db import connection, transaction
from django.db.models import Field
from django.utils import timezone

from accounting.models import (
    EDITABLE_STATUSES,
    Organization,
    Party,
    Voucher,
    VoucherLine,
    VoucherStatus,
)
from accounting.services.checks import (
    AccountFacts,
    Problem,
    VoucherRejected,
    account_problems,
    amount_problems,
    approver_problems,
)
from accounting.services.facts import account_facts_for
from accounting.services.history import (
    HistoryStamp,
    column_of,
    history_rows_copy,
    history_user,
    voucher_save_with_history,
)
from accounting.services.inputs import LineInput, User, VoucherInput


def draft_line_problems(
    *,
    organization: Organization,
    voucher_input: VoucherInput,
    account_facts: dict[int, AccountFacts] | None = None,
) -> tuple[list[Problem], dict[int, AccountFacts]]:
    """What makes an entry unfit even as a draft: foreign accounts or parties, bad amounts.

    `account_facts`, when the caller has read them already, must cover every account the lines
    name."""
    problems: list[Problem] = []
    if voucher_input.voucher_type.organization_id != organization.pk:
        problems.append(Problem("voucher type belongs to another organization", rule="type"))
    facts = account_facts
    if facts is None:
        ids = {line.account_id for line in voucher_input.lines if line.account_id}
        facts = account_facts_for(organization=organization, account_ids=ids)
    party_ids = {line.party_id for line in voucher_input.lines if line.party_id}
    if voucher_input.party_id:
        party_ids.add(voucher_input.party_id)
    own_parties = set(
        Party.objects.filter(organization=organization, pk__in=party_ids)
        .order_by()
        .values_list("pk", flat=True)
        if party_ids
        else ()
    )
    if voucher_input.party_id and voucher_input.party_id not in own_parties:
        problems.append(
            Problem("party belongs to another organization", None, "party", "party_organization")
        )
    for number, line in enumerate(voucher_input.lines, start=1):
        # A draft may still be incomplete (a line without an amount), but never malformed.
        problems += [
            p
            for p in amount_problems(line.debit, line.credit, line=number)
            if p.rule != "no_amount"
        ]
        if line.account_id is None:
            # The draft may lack an amount, but a line is stored against an account.
            problems.append(Problem("has no account", number, "account", "account_required"))
        else:
            problems += [
                p
                for p in account_problems(
                    facts.get(line.account_id),
                    organization_id=organization.pk,
                    line=number,
                    account_id=line.account_id,
                )
                if p.rule in ("account_missing", "account_organization")
            ]
        if line.party_id and line.party_id not in own_parties:
            problems.append(
                Problem(
                    "party belongs to another organization", number, "party", "party_organization"
                )
            )
    return problems, facts


def voucher_lines_create(
    voucher: Voucher, lines: Sequence[LineInput], *, user: User, when: datetime | None = None
) -> None:
    """Writes a voucher's whole set of lines, which it must not have yet, with their history.

    One INSERT for the lines and one INSERT … SELECT for their history rows, whatever the
    number of lines (up to the few thousand a statement's parameters allow on SQLite).
    """
    _lines_insert(voucher, lines)
    history_rows_copy(VoucherLine, key="voucher", value=voucher.pk, user=user, when=when)


# The columns posting writes, in the order of the values `_lines_insert` sends.
LINE_FIELDS = ("voucher", "order", "account", "debit", "credit", "description", "party", "data")


@lru_cache(maxsize=64)
def lines_insert_sql(rows: int) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column_of(VoucherLine, name)) for name in LINE_FIELDS)
    row = "(" + ", ".join(["%s"] * len(LINE_FIELDS)) + ")"
    return (
        f"INSERT INTO {quote(VoucherLine._meta.db_table)} ({columns})"
        f" VALUES {', '.join([row] * rows)}"
    )


def line_values(lines: Sequence[LineInput]) -> list[tuple[Any, ...]]:
    """Each line's values for the columns of `LINE_FIELDS` after the voucher's, numbered from 1
    in the order given: the amounts as the exact Decimals they are, the JSON prepared by its
    field."""
    data_field = VoucherLine._meta.get_field("data")
    assert isinstance(data_field, Field)
    return [
        (
            number,
            line.account_id,
            line.debit,
            line.credit,
            line.description,
            line.party_id,
            data_field.get_db_prep_save(line.data, connection),
        )
        for number, line in enumerate(lines, start=1)
    ]


def lines_insert_values(voucher: Voucher, lines: Sequence[LineInput]) -> list[Any]:
    """The parameters of the lines' INSERT, row after row in the order of `LINE_FIELDS`."""
    return [value for row in line_values(lines) for value in (voucher.pk, *row)]


def _lines_insert(voucher: Voucher, lines: Sequence[LineInput]) -> None:
    """The lines as one multi-row INSERT, numbered from 1 in the order given.

    Hand-written rather than bulk_create: the ORM builds a model instance and prepares every
    field of every row in Python, which for a 1,000-line voucher costs more than the database's
    own work. Values are what bulk_create would send: the amounts are already exact Decimals
    and the JSON column is prepared by its field.
    """
    width = len(LINE_FIELDS)
    params = lines_insert_values(voucher, lines)
    # SQLite caps the parameters of one statement (250,000 on Debian, 32,766 by default).
    per_statement = (connection.features.max_query_params or len(params) or 1) // width or 1
    with connection.cursor() as cursor:
        for first in range(0, len(lines), per_statement):
            chunk = params[first * width : (first + per_statement) * width]
            cursor.execute(lines_insert_sql(len(chunk) // width), chunk)


def voucher_draft_create(
    *,
    organization: Organization,
    voucher_input: VoucherInput,
    user: User = None,
    submission_key: str | None = None,
) -> Voucher:
    """Stores a new draft. Whether it needs approval is its type's rule, not the caller's."""
    problems, _ = draft_line_problems(organization=organization, voucher_input=voucher_input)
    if problems:
        raise VoucherRejected(f"Draft {voucher_input.voucher_type.code}", problems)
    with transaction.atomic():
        now = timezone.now()
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
            requires_approval=voucher_input.voucher_type.requires_approval,
            created_by=history_user(user),
            changed_by=history_user(user),
            submission_key=submission_key,
        )
        voucher_save_with_history(voucher, user=user, when=now)
        voucher_lines_create(voucher, voucher_input.lines, user=user, when=now)
    return voucher


def voucher_draft_update(
    *,
    voucher: Voucher,
    voucher_input: VoucherInput,
    user: User = None,
    submission_key: str | None = None,
) -> Voucher:
    """Replaces a draft's header and lines; refused once the voucher is posted or cancelled.

    A change sends a submitted or approved voucher back to draft and clears its approval: an
    approval covers what was seen. The voucher needs approval if it did when entered or its
    type does now.
    """
    problems, _ = draft_line_problems(
        organization=voucher.organization, voucher_input=voucher_input
    )
    if problems:
        raise VoucherRejected(str(voucher), problems)
    with transaction.atomic():
        locked = Voucher.objects.select_for_update().get(pk=voucher.pk)
        if locked.status not in EDITABLE_STATUSES:
            raise VoucherRejected(
                str(locked), [Problem(f"is {locked.status} and cannot be edited", rule="status")]
            )
        now = timezone.now()
        locked.voucher_type = voucher_input.voucher_type
        for attr in ("date", "reference", "narration", "party_id", "data"):
            setattr(locked, attr, getattr(voucher_input, attr))
        locked.entry_channel = voucher_input.entry_channel
        locked.config_version = voucher_input.config_version
        locked.config_hash = voucher_input.config_hash
        locked.requires_approval = (
            locked.requires_approval or voucher_input.voucher_type.requires_approval
        )
        locked.status = VoucherStatus.DRAFT
        locked.submitted_by = None
        locked.approved_by = None
        locked.approved_at = None
        locked.changed_by = history_user(user)
        if submission_key is not None:
            locked.submission_key = submission_key
        voucher_save_with_history(locked, user=user, when=now)
        history_rows_copy(
            VoucherLine,
            key="voucher",
            value=locked.pk,
            user=user,
            when=now,
            history_type="-",
            change_reason="replaced",
        )
        # One DELETE without signals: the deletion history is written just above, and the
        # signal route would add a second history row per line, one query each.
        VoucherLine.objects.filter(voucher=locked)._raw_delete(locked._state.db)
        voucher_lines_create(locked, voucher_input.lines, user=user, when=now)
    return locked


def _transition(
    *,
    voucher: Voucher,
    allowed_from: set[str],
    to: str,
    user: User,
    stamp: dict[str, Any],
    check: Callable[[Voucher], list[Problem]] | None = None,
) -> Voucher:
    with transaction.atomic():
        locked = Voucher.objects.select_for_update().get(pk=voucher.pk)
        if check is not None and locked.status in allowed_from:
            problems = check(locked)
            if problems:
                raise VoucherRejected(str(locked), problems)
        if locked.status not in allowed_from:
            allowed = " or ".join(sorted(allowed_from))
            raise VoucherRejected(
                str(locked),
                [
                    Problem(
                        f"is {locked.status}; it must be {allowed} to become {to}", rule="status"
                    )
                ],
            )
        locked.status = to
        for attr, value in stamp.items():
            setattr(locked, attr, value)
        voucher_save_with_history(locked, user=user, update_fields=["status", "updated_at", *stamp])
    return locked


def voucher_submit(*, voucher: Voucher, user: User) -> Voucher:
    return _transition(
        voucher=voucher,
        allowed_from={VoucherStatus.DRAFT},
        to=VoucherStatus.SUBMITTED,
        user=user,
        stamp={"submitted_by": history_user(user)},
    )


def voucher_approve(*, voucher: Voucher, user: User) -> Voucher:
    """Approves a submitted voucher: four eyes, so never by whoever entered or last changed it."""
    approver = history_user(user)
    return _transition(
        voucher=voucher,
        allowed_from={VoucherStatus.SUBMITTED},
        to=VoucherStatus.APPROVED,
        user=user,
        stamp={"approved_by": approver, "approved_at": timezone.now()},
        check=lambda locked: approver_problems(
            created_by_id=locked.created_by_id,
            changed_by_id=locked.changed_by_id,
            approver_id=getattr(approver, "pk", None),
        ),
    )


def voucher_cancel(*, voucher: Voucher, user: User) -> Voucher:
    return _transition(
        voucher=voucher,
        allowed_from={VoucherStatus.DRAFT, VoucherStatus.SUBMITTED, VoucherStatus.APPROVED},
        to=VoucherStatus.CANCELLED,
        user=user,
        stamp={},
    )


def voucher_draft_delete(*, voucher: Voucher, user: User, reason: str = "") -> None:
    """Deletes a draft that was never submitted, with its lines; their history keeps a deletion
    row each (who, when, why). A voucher that was ever submitted is cancelled instead, so what
    an approver saw stays on record."""
    with transaction.atomic():
        locked = (
            Voucher.objects.select_for_update().select_related("voucher_type").get(pk=voucher.pk)
        )
        label = str(locked)
        if locked.status != VoucherStatus.DRAFT:
            raise VoucherRejected(
                label,
                [
                    Problem(
                        f"is {locked.status}; only a draft can be deleted (cancel it instead)",
                        rule="status",
                    )
                ],
            )
        historical = locked.history  # type: ignore[attr-defined]
        if historical.exclude(status=VoucherStatus.DRAFT).exists():
            raise VoucherRejected(
                label,
                [
                    Problem(
                        "was submitted for approval once; cancel it instead of deleting it",
                        rule="submitted_once",
                    )
                ],
            )
        stamp = HistoryStamp(user=user, reason=reason or "deleted")
        for line in locked.lines.all():
            stamp.apply(line)
            line.delete()
        stamp.apply(locked)
        locked.delete()
