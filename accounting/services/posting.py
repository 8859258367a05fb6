"""Posting: the only code that writes ledger entries. Every view, command and test calls it.

Each function checks every rule before it writes, takes the voucher number from a locked counter,
and runs in one transaction, so a refusal or a failure leaves the database exactly as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from functools import cache, partial
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from accounting.models import (
    EntryChannel,
    FiscalYear,
    LedgerEntry,
    Organization,
    Voucher,
    VoucherLine,
    VoucherStatus,
)
from accounting.services.chain import (
    ChainLine,
    chain_append,
    chain_link_save,
    ledger_rows_in_order,
)
from accounting.services.checks import (
    LineFacts,
    Problem,
    VoucherRejected,
    line_problems,
    period_problems,
    status_problems,
)
from accounting.services.drafts import draft_line_problems, voucher_lines_create
from accounting.services.facts import (
    EntryFacts,
    entry_facts_read,
    entry_facts_remembered,
    period_for,
    stored_line_facts,
)
from accounting.services.history import history_user, voucher_save_with_history
from accounting.services.inputs import LineInput, User, VoucherInput
from accounting.services.numbering import number_take
from accounting.services.posting_postgres import one_statement_parts, voucher_write_posted


@cache
def _ledger_copy_sql() -> str:
    quote = connection.ops.quote_name
    line = VoucherLine._meta
    return (
        f"INSERT INTO {quote(LedgerEntry._meta.db_table)}"
        " (organization_id, voucher_id, line_order, account_id, date, debit, credit, party_id,"
        " description)"
        f" SELECT %s, voucher_id, {quote('order')}, account_id, %s, debit, credit,"
        f" COALESCE(party_id, %s), description FROM {quote(line.db_table)}"
        f" WHERE voucher_id = %s ORDER BY {quote('order')}, id"
        # What was written, for the hash chain; amounts as text, as SQLite would hand back
        # floats.
        " RETURNING id, line_order, account_id, CAST(debit AS TEXT), CAST(credit AS TEXT),"
        " party_id, description"
    )


def _ledger_entries_create(voucher: Voucher) -> list[ChainLine]:
    """The ledger rows of a voucher, copied by the database from its stored lines.

    One INSERT … SELECT whatever the number of lines, and the ledger is by construction what
    the checked lines say. A line without a party takes the voucher's. Returns the rows
    written, in the chain's order, from the same statement.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            _ledger_copy_sql(),
            [voucher.organization_id, voucher.date, voucher.party_id, voucher.pk],
        )
        return ledger_rows_in_order(cursor.fetchall())


def voucher_post(*, voucher: Voucher, user: User) -> Voucher:
    """Posts a draft (or an approved voucher): numbers it and writes its ledger entries.

    Queries: BEGIN, lock the voucher, read its lines with their accounts, find the period,
    copy the lines into the ledger (reading back what was written), take the number, take the
    organization's chain head, move it, update the voucher, write its history row, COMMIT: the
    same for 2 lines as for 1,000.
    """
    with transaction.atomic():
        # The voucher row is locked first, then the counter: every poster takes them in that
        # order, and a second poster of the same draft waits here and then sees it posted.
        try:
            locked = (
                Voucher.objects.select_for_update(of=("self",))
                .select_related("voucher_type")
                .get(pk=voucher.pk)
            )
        except Voucher.DoesNotExist:
            raise VoucherRejected(
                str(voucher), [Problem("no longer exists", rule="status")]
            ) from None
        label = str(locked)
        problems = status_problems(
            locked.status,
            requires_approval=locked.requires_approval or locked.voucher_type.requires_approval,
        )
        if problems:
            raise VoucherRejected(label, problems)
        lines = stored_line_facts(locked)
        period = period_for(organization_id=locked.organization_id, on=locked.date)
        problems = line_problems(lines, organization_id=locked.organization_id)
        problems += period_problems(period, on=locked.date)
        if problems:
            raise VoucherRejected(label, problems)
        assert period is not None
        ledger_rows = _ledger_entries_create(locked)
        # The counter is taken late, and the organization's chain head last, so that concurrent
        # posters wait on their locks for as short a time as possible.
        now = timezone.now()
        locked.sequence, locked.number = number_take(
            voucher_type=locked.voucher_type, fiscal_year=period.fiscal_year
        )
        locked.fiscal_year = period.fiscal_year
        locked.status = VoucherStatus.POSTED
        locked.posted_by = history_user(user)
        locked.posted_at = now
        chain_append(voucher=locked, lines=ledger_rows)
        voucher_save_with_history(
            locked,
            user=user,
            when=now,
            update_fields=[
                "sequence",
                "number",
                "fiscal_year",
                "status",
                "posted_by",
                "posted_at",
                "chain_position",
                "chain_previous",
                "chain_hash",
                "updated_at",
            ],
        )
    return locked


def _new_voucher_problems(
    *,
    organization: Organization,
    voucher_input: VoucherInput,
    reversing: bool = False,
    remembered: bool = False,
) -> tuple[list[Problem], EntryFacts]:
    """Every rule a new voucher breaks, each once, and the facts it was checked against: read
    now, or (`remembered`) as this process last read them, for a write that confirms them."""
    facts_of = entry_facts_remembered if remembered else entry_facts_read
    entry_facts = facts_of(
        organization=organization,
        account_ids={line.account_id for line in voucher_input.lines if line.account_id},
        on=voucher_input.date,
    )
    facts, period = entry_facts.accounts, entry_facts.period
    problems = draft_line_problems(
        organization=organization, voucher_input=voucher_input, account_facts=facts
    )[0]
    line_facts = [
        LineFacts(
            account_id=line.account_id,
            debit=line.debit,
            credit=line.credit,
            account=facts.get(line.account_id) if line.account_id else None,
        )
        for line in voucher_input.lines
    ]
    seen = {(p.line, p.field, p.rule) for p in problems}
    problems += [
        p
        for p in line_problems(line_facts, organization_id=organization.pk)
        if (p.line, p.field, p.rule) not in seen
    ]
    problems += period_problems(period, on=voucher_input.date)
    # A reversal undoes a voucher that was posted (and approved, where its type asks for it).
    if voucher_input.voucher_type.requires_approval and not reversing:
        problems.append(Problem("needs approval before it can be posted", rule="approval"))
    return problems, entry_facts


def voucher_create_posted(
    *,
    organization: Organization,
    voucher_input: VoucherInput,
    user: User = None,
    reversal_of: Voucher | None = None,
    submission_key: str | None = None,
) -> Voucher:
    """Creates and posts a voucher in one transaction: the path imports and bulk entry take.

    Everything is checked before anything is written; then the counter is locked, and last
    the organization's chain head. Queries: read the accounts and the period, BEGIN, take the
    number, insert the voucher and its history row, the lines and theirs, the ledger entries
    (reading back what was written), take the chain head, move it, store the voucher's link,
    COMMIT: the same for any number of lines (one more read when the voucher names parties).
    On PostgreSQL (`posting_postgres`) the write is one statement, its own transaction, and the
    checks use the facts this process read for an earlier voucher, which that statement
    confirms are still the database's: one round trip, two when the facts are read.
    """
    label = f"New {voucher_input.voucher_type.code} voucher dated {voucher_input.date.isoformat()}"
    # On PostgreSQL the checks may use the facts this process read for an earlier voucher: the
    # write confirms they are still the database's, else they are read and checked again.
    remembered = connection.vendor == "postgresql"
    for _attempt in range(3):
        problems, facts = _new_voucher_problems(
            organization=organization,
            voucher_input=voucher_input,
            reversing=reversal_of is not None,
            remembered=remembered,
        )
        if problems and facts.remembered:
            remembered = False  # refused by facts that may have changed: read them again
            continue
        if problems:
            raise VoucherRejected(label, problems)
        assert facts.period is not None
        fiscal_year = facts.period.fiscal_year
        now = timezone.now()
        voucher = _new_posted_voucher(
            organization=organization,
            voucher_input=voucher_input,
            fiscal_year=fiscal_year,
            poster=history_user(user),
            when=now,
            reversal_of=reversal_of,
            submission_key=submission_key,
        )
        number = one_statement_parts(
            voucher=voucher, fiscal_year=fiscal_year, lines=voucher_input.lines
        )
        if number is None and facts.remembered:
            remembered = False  # only the one statement confirms remembered facts
            continue
        if number is None:
            return _voucher_write_statement_per_table(
                voucher, fiscal_year=fiscal_year, lines=voucher_input.lines, user=user, when=now
            )
        write = partial(
            voucher_write_posted,
            voucher=voucher,
            number=number,
            lines=voucher_input.lines,
            user=user,
            when=now,
            facts_version=facts.version,
        )
        if transaction.get_connection().in_atomic_block:
            with transaction.atomic():  # a savepoint: a refusal leaves the caller's work as it was
                written = write()
        else:
            written = write()  # one statement, its own transaction
        if written:
            return voucher
        remembered = False  # the facts changed since they were read: read them again
    raise RuntimeError(f"{organization}: the accounts or periods kept changing under posting")


def _new_posted_voucher(
    *,
    organization: Organization,
    voucher_input: VoucherInput,
    fiscal_year: FiscalYear,
    poster: Any,
    when: datetime,
    reversal_of: Voucher | None,
    submission_key: str | None,
) -> Voucher:
    """A checked new voucher built as posted, not yet numbered, chained or saved."""
    return Voucher(
        organization=organization,
        voucher_type=voucher_input.voucher_type,
        fiscal_year=fiscal_year,
        date=voucher_input.date,
        reference=voucher_input.reference,
        narration=voucher_input.narration,
        party_id=voucher_input.party_id,
        data=voucher_input.data,
        status=VoucherStatus.POSTED,
        entry_channel=voucher_input.entry_channel,
        config_version=voucher_input.config_version,
        config_hash=voucher_input.config_hash,
        created_by=poster,
        changed_by=poster,
        submission_key=submission_key,
        posted_by=poster,
        posted_at=when,
        reversal_of=reversal_of,
    )


def _voucher_write_statement_per_table(
    voucher: Voucher,
    *,
    fiscal_year: FiscalYear,
    lines: Sequence[LineInput],
    user: User,
    when: datetime,
) -> Voucher:
    """Numbers, writes and chains a checked new voucher statement by statement, in one
    transaction (SQLite, and series whose numbers the database cannot write)."""
    with transaction.atomic():
        voucher.sequence, voucher.number = number_take(
            voucher_type=voucher.voucher_type, fiscal_year=fiscal_year
        )
        voucher_save_with_history(voucher, user=user, when=when)
        voucher_lines_create(voucher, lines, user=user, when=when)
        ledger_rows = _ledger_entries_create(voucher)
        chain_append(voucher=voucher, lines=ledger_rows)
        chain_link_save(voucher)
    return voucher


def reversal_default_date(*, voucher: Voucher, today: date) -> date:
    """The date a reversal takes unless told: the original's, while its period is open; else
    today."""
    period = period_for(organization_id=voucher.organization_id, on=voucher.date)
    if period is not None and not period.is_closed:
        return voucher.date
    return today


def reversal_problems(original: Voucher) -> list[Problem]:
    """What stops a voucher from being reversed, whatever the date and reason: a reversal is
    not undone by another, a voucher is reversed once, only a posted voucher is reversed."""
    problems: list[Problem] = []
    if original.reversal_of_id is not None:
        problems.append(
            Problem(
                "is itself a reversal and cannot be reversed; enter a new voucher instead",
                rule="reversal_of_reversal",
            )
        )
    elif original.status == VoucherStatus.REVERSED:
        reversal = Voucher.objects.filter(reversal_of=original).values_list("number", flat=True)
        by = reversal.first()
        problems.append(
            Problem(
                f"is already reversed{f' by {by}' if by else ''}; a voucher is reversed once",
                rule="reversed_twice",
            )
        )
    elif original.status != VoucherStatus.POSTED:
        problems.append(
            Problem(
                f"is {original.status}; only a posted voucher can be reversed",
                rule="status",
            )
        )
    return problems


def voucher_reverse(
    *, voucher: Voucher, user: User, reason: str, on: date | None = None
) -> Voucher:
    """Posts a new voucher with every line's sides swapped; the original becomes reversed.

    The reversal is dated `on` (the original's date unless told), goes through every posting
    check and the hash chain like any posted voucher, and says in its narration what it
    reverses and why. A reversal cannot be reversed, nor a voucher twice.
    """
    reason = reason.strip()
    with transaction.atomic():
        original = (
            Voucher.objects.select_for_update(of=("self",))
            .select_related("voucher_type", "organization")
            .get(pk=voucher.pk)
        )
        problems = reversal_problems(original)
        if not reason:
            problems.append(
                Problem("needs a reason for the reversal", field="reason", rule="reversal_reason")
            )
        if problems:
            raise VoucherRejected(str(original), problems)
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
                narration=f"Reversal of {original.number}: {reason}",
                party_id=original.party_id,
                data=original.data,
                entry_channel=EntryChannel.SYSTEM,
            ),
            user=user,
            reversal_of=original,
        )
        original.status = VoucherStatus.REVERSED
        voucher_save_with_history(original, user=user, update_fields=["status", "updated_at"])
    return reversal
