"""How an entered voucher becomes balanced ledger lines, under its configuration's posting rule.

`journal`: every line is its own debit or credit. `counterpart`: a header account (the bank of a
payment) takes the total of the lines on the opposite side. `invoice`: the party's control account
against the lines' income or expense accounts, with each line's tax posted to a tax account.

The rules know nothing of requests or forms: they take an `EnteredVoucher` of Python values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from accounting.models import ZERO, Account, EntryChannel, Party, VoucherType
from accounting.services.inputs import LineInput, VoucherInput
from voucher_config.definition import PostingRule, VoucherDefinition
from voucher_config.validation import CORE_HEADER_TYPES, CORE_LINE_TYPES

CENT = Decimal("0.01")
# The kinds of rule `posting_plan` knows, as the configuration editor offers them.
POSTING_RULES: dict[str, str] = {
    "journal": "Journal: each line is debited or credited as entered",
    "counterpart": "Counterpart: one header account (bank, cash) balances the lines",
    "invoice": "Invoice: the party's account balances the lines and their tax",
}
HUNDRED = Decimal("100")
GENERATED = "generated"  # key in a line's data marking lines the rule added (counterpart, tax)


@dataclass
class EnteredVoucher:
    """What the user entered, before the posting rule makes ledger lines of it: header values and
    line values, already cleaned to Python types."""

    header: dict[str, Any]
    lines: list[dict[str, Any]]


@dataclass
class PostingPlan:
    lines: list[LineInput]
    total_debit: Decimal
    total_credit: Decimal
    tax_lines: dict[str, Decimal] = field(default_factory=dict)  # tax account code -> amount
    # Tax worked out on the document total minus the tax actually posted: shown, never hidden.
    tax_rounding_difference: Decimal = ZERO

    @property
    def difference(self) -> Decimal:
        return self.total_debit - self.total_credit

    @property
    def is_balanced(self) -> bool:
        return self.difference == 0 and self.total_debit > 0


class PostingRuleError(Exception):
    """The entry lacks what the rule needs (e.g. no bank account): reported at the field."""

    def __init__(self, field_key: str, message: str):
        self.field_key = field_key
        self.message = message
        super().__init__(f"{field_key}: {message}")


def serialise(value: Any) -> Any:
    """A value as stored in a voucher's JSON `data`."""
    if isinstance(value, Account | Party):
        return value.code
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _amount(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value or "0"))


def _side(side: str, amount: Decimal) -> tuple[Decimal, Decimal]:
    """(debit, credit) for an amount on a side; a negative amount goes to the other side."""
    if amount < 0:
        side, amount = ("credit" if side == "debit" else "debit"), -amount
    return (amount, ZERO) if side == "debit" else (ZERO, amount)


def _opposite(side: str) -> str:
    return "credit" if side == "debit" else "debit"


def _line_data(values: dict[str, Any], posting_keys: set[str]) -> dict[str, Any]:
    return {
        key: serialise(value)
        for key, value in values.items()
        if key not in CORE_LINE_TYPES and key not in posting_keys and value not in (None, "")
    }


def _entered_line(
    values: dict[str, Any], account_key: str, debit: Decimal, credit: Decimal, extra: dict[str, Any]
) -> LineInput:
    account = values.get(account_key)
    party = values.get("party")
    return LineInput(
        account_id=account.pk if account else None,
        debit=debit,
        credit=credit,
        description=str(values.get("description") or ""),
        party_id=party.pk if party else None,
        data=extra,
    )


def _journal(posting: PostingRule, entry: EnteredVoucher) -> list[LineInput]:
    account_key, debit_key, credit_key = (
        posting["account_field"],
        posting["debit_field"],
        posting["credit_field"],
    )
    return [
        _entered_line(
            values,
            account_key,
            _amount(values.get(debit_key)),
            _amount(values.get(credit_key)),
            _line_data(values, {account_key, debit_key, credit_key}),
        )
        for values in entry.lines
    ]


def _required_header(entry: EnteredVoucher, key: str, what: str) -> Any:
    value = entry.header.get(key)
    if not value:
        raise PostingRuleError(key, f"{what} is required to post this voucher")
    return value


def _counterpart(posting: PostingRule, entry: EnteredVoucher) -> list[LineInput]:
    counterpart: Account = _required_header(entry, posting["counterpart_field"], "The account")
    side = posting["lines_side"]
    account_key, amount_key = posting["account_field"], posting["amount_field"]
    lines, total = [], ZERO
    for values in entry.lines:
        amount = _amount(values.get(amount_key))
        total += amount
        lines.append(
            _entered_line(
                values,
                account_key,
                *_side(side, amount),
                {amount_key: str(amount), **_line_data(values, {account_key, amount_key})},
            )
        )
    party = entry.header.get("party")
    lines.append(
        LineInput(
            account_id=counterpart.pk,
            debit=_side(_opposite(side), total)[0],
            credit=_side(_opposite(side), total)[1],
            description=str(entry.header.get("narration") or "")[:255],
            party_id=party.pk if party else None,
            data={GENERATED: "counterpart"},
        )
    )
    return lines


def line_tax(amount: Decimal, rate: Decimal) -> Decimal:
    return (amount * rate / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)


def _invoice(posting: PostingRule, entry: EnteredVoucher, plan: PostingPlan) -> list[LineInput]:
    party: Party = _required_header(entry, posting["party_field"], "The party")
    side = posting["party_side"]
    account_key, amount_key = posting["account_field"], posting["amount_field"]
    rate_key = posting.get("tax_rate_field")
    tax_account: Account | None = (
        entry.header.get(posting["tax_account_field"]) if posting.get("tax_account_field") else None
    )
    lines, net_total, line_tax_total, exact_tax = [], ZERO, ZERO, ZERO
    for values in entry.lines:
        amount = _amount(values.get(amount_key))
        rate = _amount(values.get(rate_key)) if rate_key else ZERO
        tax = line_tax(amount, rate)
        net_total += amount
        line_tax_total += tax
        exact_tax += amount * rate / HUNDRED
        extra = {amount_key: str(amount), **_line_data(values, {account_key, amount_key})}
        if rate_key:
            extra[rate_key] = str(rate)
            extra["tax"] = str(tax)
        lines.append(_entered_line(values, account_key, *_side(_opposite(side), amount), extra))
    document_tax = exact_tax.quantize(CENT, rounding=ROUND_HALF_UP)
    posted_tax = document_tax if posting.get("tax_rounding") == "document" else line_tax_total
    plan.tax_rounding_difference = document_tax - line_tax_total
    if posted_tax:
        if tax_account is None:
            raise PostingRuleError(
                posting.get("tax_account_field") or "tax_account", "A tax account is required"
            )
        plan.tax_lines[tax_account.code] = posted_tax
        lines.append(
            LineInput(
                account_id=tax_account.pk,
                debit=_side(_opposite(side), posted_tax)[0],
                credit=_side(_opposite(side), posted_tax)[1],
                description="Tax",
                data={GENERATED: "tax"},
            )
        )
    lines.insert(
        0,
        LineInput(
            account_id=party.control_account_id,
            debit=_side(side, net_total + posted_tax)[0],
            credit=_side(side, net_total + posted_tax)[1],
            description=str(entry.header.get("narration") or party.name)[:255],
            party_id=party.pk,
            data={GENERATED: "party"},
        ),
    )
    return lines


def posting_plan(definition: VoucherDefinition, entry: EnteredVoucher) -> PostingPlan:
    """The exact ledger lines an entry would post, with totals and any tax rounding difference."""
    posting = definition["posting"]
    plan = PostingPlan(lines=[], total_debit=ZERO, total_credit=ZERO)
    rule = posting["rule"]
    if rule == "journal":
        plan.lines = _journal(posting, entry)
    elif rule == "counterpart":
        plan.lines = _counterpart(posting, entry)
    elif rule == "invoice":
        plan.lines = _invoice(posting, entry, plan)
    else:  # pragma: no cover - the meta-schema admits only the three rules
        raise ValueError(f"unknown posting rule {rule!r}")
    plan.total_debit = sum((line.debit for line in plan.lines), ZERO)
    plan.total_credit = sum((line.credit for line in plan.lines), ZERO)
    return plan


def header_data(definition: VoucherDefinition, entry: EnteredVoucher) -> dict[str, Any]:
    """The non-core header values, as stored in the voucher's `data`."""
    return {
        spec["key"]: serialise(entry.header.get(spec["key"]))
        for spec in definition["header_fields"]
        if spec["key"] not in CORE_HEADER_TYPES
    }


def voucher_input(
    *,
    definition: VoucherDefinition,
    entered: EnteredVoucher,
    voucher_type: VoucherType,
    version: int | None,
    config_hash: str,
    channel: str = EntryChannel.CONFIG,
) -> tuple[VoucherInput, PostingPlan]:
    plan = posting_plan(definition, entered)
    party = entered.header.get("party")
    return (
        VoucherInput(
            voucher_type=voucher_type,
            date=entered.header["date"],
            lines=plan.lines,
            reference=str(entered.header.get("reference") or ""),
            narration=str(entered.header.get("narration") or ""),
            party_id=party.pk if party else None,
            data=header_data(definition, entered),
            entry_channel=channel,
            config_version=version,
            config_hash=config_hash,
        ),
        plan,
    )
