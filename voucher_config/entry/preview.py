"""What an entry adds up to while it is typed: running totals, and the ledger lines it would post."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from accounting.models import ZERO, Account, Party
from accounting.services.checks import AccountFacts, LineFacts, line_problems, period_problems
from accounting.services.facts import account_facts_for, period_for
from accounting.services.inputs import LineInput
from voucher_config.entry.actions import entry_voucher_input
from voucher_config.entry.definitions import EntryDefinition
from voucher_config.entry.forms import is_removed, line_values
from voucher_config.entry.problems import problem_sentence
from voucher_config.form_factory import ConfiguredForms, EntryLookups
from voucher_config.posting_rules import (
    GENERATED,
    EnteredVoucher,
    PostingPlan,
    PostingRuleError,
    posting_plan,
)


@dataclass
class EntryTotals:
    """What the totals bar shows while the user types."""

    total_debit: Decimal = ZERO
    total_credit: Decimal = ZERO
    line_count: int = 0
    error_lines: list[int] = field(default_factory=list)  # numbers of the lines in error
    tax_total: Decimal = ZERO
    tax_rounding_difference: Decimal = ZERO
    entered_total: Decimal = ZERO
    missing: str = ""  # what the posting rule still needs, e.g. "Choose Paid from …"

    @property
    def difference(self) -> Decimal:
        return self.total_debit - self.total_credit

    @property
    def lines_with_errors(self) -> int:
        return len(self.error_lines)

    @property
    def is_balanced(self) -> bool:
        """Balanced with every line counted: a line in error is not, so it never is then."""
        return (
            not self.missing
            and not self.error_lines
            and self.difference == 0
            and self.total_debit > 0
        )

    @property
    def balances_without_errors(self) -> bool:
        """What was counted balances, but lines in error were left out."""
        return (
            bool(self.error_lines)
            and not self.missing
            and self.difference == 0
            and self.total_debit > 0
        )

    @property
    def is_empty(self) -> bool:
        """Nothing entered at all: neither an amount counted nor a line in error."""
        return (
            self.total_debit == 0
            and self.total_credit == 0
            and not self.entered_total
            and not self.error_lines
        )


def _entered_amounts(entry_def: EntryDefinition, lines: list[dict[str, Any]]) -> Decimal:
    posting = entry_def.definition["posting"]
    key = posting.get("amount_field") or posting["debit_field"]
    return sum((value.get(key) or ZERO for value in lines), ZERO)


def totals_from_plan(
    plan: PostingPlan, line_count: int, error_lines: Sequence[int] = ()
) -> EntryTotals:
    return EntryTotals(
        total_debit=plan.total_debit,
        total_credit=plan.total_credit,
        line_count=line_count,
        error_lines=list(error_lines),
        tax_total=sum(plan.tax_lines.values(), ZERO),
        tax_rounding_difference=plan.tax_rounding_difference,
    )


def totals_from_lines(lines: Sequence[LineInput]) -> EntryTotals:
    """Totals of stored lines (the voucher as saved)."""
    entered = [line for line in lines if not line.data.get(GENERATED)]
    tax = sum(
        (line.debit + line.credit for line in lines if line.data.get(GENERATED) == "tax"), ZERO
    )
    return EntryTotals(
        total_debit=sum((line.debit for line in lines), ZERO),
        total_credit=sum((line.credit for line in lines), ZERO),
        line_count=len(entered),
        tax_total=tax,
    )


def entry_totals(*, entry_def: EntryDefinition, forms_: ConfiguredForms) -> EntryTotals:
    """Running totals of a bound entry, counting the lines that are valid so far.

    Unlike saving, this never refuses: a line with an error is left out and named by its number
    (as the grid numbers the lines still shown), and a header account the rule needs but that is
    not chosen yet is named.
    """
    forms_.header.is_valid()
    forms_.lines.is_valid()
    header = dict(getattr(forms_.header, "cleaned_data", {}))
    good: list[dict[str, Any]] = []
    errors: list[int] = []
    number = 0
    for form in forms_.lines.forms:
        if is_removed(form):
            continue
        number += 1
        if not form.has_changed():
            continue
        if form.is_valid():
            good.append(line_values(form))
        else:
            errors.append(number)
    try:
        plan = posting_plan(entry_def.definition, EnteredVoucher(header=header, lines=good))
    except PostingRuleError as exc:
        return EntryTotals(
            line_count=len(good),
            error_lines=errors,
            entered_total=_entered_amounts(entry_def, good),
            missing=f"{entry_def.label(exc.field_key)}: {exc.message}.",
        )
    return totals_from_plan(plan, len(good), errors)


@dataclass
class PreviewLine:
    """A ledger line an entry would post, shaped like a stored voucher line for the template."""

    order: int
    account: Account | None
    description: str
    party: Party | None
    debit: Decimal
    credit: Decimal
    generated: str  # what the posting rule added the line for ("tax"), "" for an entered line


@dataclass
class EntryPreview:
    """The exact ledger lines an entry would post, and what would still stop it posting."""

    lines: list[PreviewLine]
    totals: EntryTotals
    problems: list[str] = field(default_factory=list)


def entry_preview(
    *, entry_def: EntryDefinition, forms_: ConfiguredForms, lookups: EntryLookups
) -> EntryPreview:
    """The ledger lines of a valid entry with the checks posting would make (no writes).

    Raises EntryInvalid, with the problems on the forms, when the entry is not complete.
    """
    voucher_in, plan = entry_voucher_input(entry_def=entry_def, forms_=forms_)
    accounts = {account.pk: account for account in lookups.accounts.values()}
    # Each line shows the party it will be stored with, as the voucher page lists stored lines:
    # the payee is on the line the posting rule gave it to, not on every line.
    party_ids = {line.party_id for line in plan.lines if line.party_id}
    parties = {party.pk: party for party in lookups.parties.values()} if party_ids else {}
    organization = lookups.organization
    # The lookups hold only active accounts without sub-accounts; others are read for the check.
    facts = {
        account.pk: AccountFacts(account.pk, account.code, organization.pk, True, False)
        for account in accounts.values()
    }
    unknown = {line.account_id for line in plan.lines if line.account_id} - set(facts)
    if unknown:
        facts.update(account_facts_for(organization=organization, account_ids=unknown))
    line_facts = [
        LineFacts(
            account_id=line.account_id,
            debit=line.debit,
            credit=line.credit,
            account=facts.get(line.account_id) if line.account_id else None,
        )
        for line in plan.lines
    ]
    problems = line_problems(line_facts, organization_id=organization.pk)
    problems += period_problems(
        period_for(organization_id=organization.pk, on=voucher_in.date), on=voucher_in.date
    )
    lines = [
        PreviewLine(
            order=number,
            account=accounts.get(line.account_id) if line.account_id else None,
            description=line.description,
            party=parties.get(line.party_id or 0),
            debit=line.debit,
            credit=line.credit,
            generated=str(line.data.get(GENERATED) or ""),
        )
        for number, line in enumerate(plan.lines, start=1)
    ]
    entered = sum(1 for line in plan.lines if not line.data.get(GENERATED))
    return EntryPreview(
        lines=lines,
        totals=totals_from_plan(plan, entered),
        problems=[
            problem_sentence(f"Line {p.line}" if p.line else "The voucher", p.message)
            for p in problems
        ],
    )
