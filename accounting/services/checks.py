"""The checks a voucher must pass, in one place for drafts, imports and posting: the ledger's
rules, each refusal named so screens, imports and tests can place it and count it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from accounting.models import ZERO, AccountingPeriod, VoucherStatus

TWO_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class Problem:
    """One reason a voucher cannot be saved or posted, with where it was found."""

    message: str
    line: int | None = None  # 1-based line number, None for the voucher as a whole
    field: str | None = None
    rule: str = ""  # a stable name for the rule broken, e.g. "balanced", "closed_period"

    def describe(self, voucher_label: str) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{voucher_label}: {where}{self.message}"


class VoucherRejected(Exception):
    """A voucher fails one or more of the ledger's checks; nothing was written."""

    def __init__(self, voucher_label: str, problems: Sequence[Problem]):
        self.voucher_label = voucher_label
        self.problems = list(problems)
        super().__init__("; ".join(p.describe(voucher_label) for p in self.problems))

    @property
    def messages(self) -> list[str]:
        return [p.describe(self.voucher_label) for p in self.problems]

    @property
    def rules(self) -> set[str]:
        """The names of the rules broken, for callers (and tests) that branch on them."""
        return {p.rule for p in self.problems}

    @property
    def reason(self) -> str:
        """The rules broken, as one short label (e.g. for counting failed posts by reason)."""
        return ",".join(sorted(rule for rule in self.rules if rule)) or "rejected"


@dataclass
class AccountFacts:
    """What posting needs to know of an account, read in one query."""

    id: int
    code: str
    organization_id: int
    is_active: bool
    is_group: bool


@dataclass
class LineFacts:
    account_id: int | None
    debit: Decimal
    credit: Decimal
    account: AccountFacts | None = None
    extra: dict[str, object] = field(default_factory=dict)


# An amount as people write it: digits 0-9, an optional leading minus, an optional decimal
# point with digits after it; the whole part plain (1234567), grouped in thousands (1,234,567) or
# grouped the Indian way, the last three digits then twos (12,34,567).
_AMOUNT = re.compile(
    r"""
    (?P<sign>-)?
    (?P<whole>
        [0-9]+                          # plain
      | [0-9]{1,3}(?:,[0-9]{3})+        # thousands: 1,234,567
      | [0-9]{1,2}(?:,[0-9]{2})*,[0-9]{3}  # Indian: 12,34,567 and 1,00,00,000
    )
    (?:\.(?P<fraction>[0-9]+))?
    """,
    re.VERBOSE | re.ASCII,
)
AMOUNT_FORMS = (
    "amounts like 1234.50, 1,234,567.89 or 12,34,567.89 (digits 0-9, an optional leading minus, "
    "commas grouping thousands or the Indian way)"
)


def _amount_refusal(text: str) -> str:
    """Why `text` is not an amount, as specifically as can be said."""
    folded = text.lower()
    if folded.lstrip("+-") in ("nan", "snan", "inf", "infinity"):
        return f"'{text}' is not a finite number; write {AMOUNT_FORMS}"
    if any(ch.isdigit() and not ("0" <= ch <= "9") for ch in text):
        return f"'{text}' has digits other than 0-9; write {AMOUNT_FORMS}"
    if "_" in text:
        return f"'{text}' has an underscore; write {AMOUNT_FORMS}"
    if text.startswith("+"):
        return f"'{text}' has a plus sign; write {AMOUNT_FORMS}"
    if any(ch.isspace() for ch in text):
        return f"'{text}' has a space inside it; write {AMOUNT_FORMS}"
    if re.fullmatch(r"[+-]?[0-9.,]+e[+-]?[0-9]+", folded):
        return f"'{text}' has an exponent; write the amount in full: {AMOUNT_FORMS}"
    if re.fullmatch(r"-?[0-9,]+(\.[0-9]+)?", text) and "," in text:
        return f"'{text}' has commas in the wrong places; write {AMOUNT_FORMS}"
    return f"'{text}' is not a number; write {AMOUNT_FORMS}"


def parse_amount(raw: object) -> Decimal:
    """Reads an amount exactly, the one way every screen and the import read one.

    Text may be grouped in thousands or the Indian way (see AMOUNT_FORMS), with spaces around
    it; an empty value is zero. Floats are refused because they are not exact; whole numbers
    (a JSON 10) and finite Decimals are taken as they are. How many decimal places an amount
    may have, and its sign, are the ledger's checks (`amount_problems`), not the reader's.
    Raises ValueError saying what was wrong and what is allowed.
    """
    if raw is None or raw == "":
        return ZERO
    if isinstance(raw, float):
        raise ValueError(
            f"{raw!r} is binary floating point, which is not exact; amounts must be given as "
            'text such as "10.50" (or a Decimal), not a float'
        )
    if isinstance(raw, bool):
        raise ValueError(f"{raw} is not a number; write {AMOUNT_FORMS}")
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, Decimal):
        if not raw.is_finite():
            raise ValueError(f"'{raw}' is not a finite number")
        return raw
    if not isinstance(raw, str):
        raise ValueError(f"'{raw}' is not a number; write {AMOUNT_FORMS}")
    text = raw.strip()
    if not text:
        return ZERO
    match = _AMOUNT.fullmatch(text)
    if match is None:
        raise ValueError(_amount_refusal(text))
    whole = match["whole"].replace(",", "")
    fraction = match["fraction"]
    return Decimal(f"{match['sign'] or ''}{whole}{'.' + fraction if fraction else ''}")


# The largest amount kept exactly everywhere: a MONEY column has room for 16 digits before the
# point, but SQLite stores decimals as floats, exact to 15 significant digits only.
MAX_AMOUNT = Decimal("9999999999999.99")


def amount_problems(debit: Decimal, credit: Decimal, *, line: int) -> list[Problem]:
    problems = []
    for side, value in (("debit", debit), ("credit", credit)):
        if not value.is_finite():
            problems.append(Problem(f"{side} {value} is not a number", line, side, "number"))
            continue
        if value < 0:
            problems.append(
                Problem(
                    f"{side} {value} is negative; amounts must be positive", line, side, "positive"
                )
            )
        if abs(value) > MAX_AMOUNT:
            problems.append(
                Problem(f"{side} {value} is larger than {MAX_AMOUNT}", line, side, "too_large")
            )
        elif value != value.quantize(TWO_PLACES):
            problems.append(
                Problem(f"{side} {value} has more than 2 decimal places", line, side, "two_places")
            )
    if any(p.rule == "number" for p in problems):
        return problems
    if debit and credit:
        problems.append(
            Problem(
                "has both a debit and a credit; a line takes one side only",
                line,
                rule="one_side",
            )
        )
    elif not debit and not credit:
        problems.append(
            Problem(
                "has neither a debit nor a credit (amount must not be zero)", line, rule="no_amount"
            )
        )
    return problems


def account_problems(
    account: AccountFacts | None, *, organization_id: int, line: int, account_id: int | None = None
) -> list[Problem]:
    if account is None:
        if account_id is not None:
            return [
                Problem(f"account #{account_id} does not exist", line, "account", "account_missing")
            ]
        return [Problem("has no account", line, "account", "account_required")]
    if account.organization_id != organization_id:
        return [
            Problem(
                f"account {account.code} belongs to another organization",
                line,
                "account",
                "account_organization",
            )
        ]
    problems = []
    if not account.is_active:
        problems.append(
            Problem(f"account {account.code} is inactive", line, "account", "account_inactive")
        )
    if account.is_group:
        problems.append(
            Problem(
                f"account {account.code} is a group account; post to one of its sub-accounts",
                line,
                "account",
                "account_group",
            )
        )
    return problems


def line_problems(lines: Sequence[LineFacts], *, organization_id: int) -> list[Problem]:
    """Everything wrong with the lines of one voucher: count, sides, accounts, balance."""
    problems: list[Problem] = []
    if len(lines) < 2:
        problems.append(
            Problem(f"has {len(lines)} line(s); a voucher needs at least 2", rule="min_lines")
        )
    total_debit = total_credit = ZERO
    for number, line in enumerate(lines, start=1):
        found = amount_problems(line.debit, line.credit, line=number)
        problems += found
        problems += account_problems(
            line.account, organization_id=organization_id, line=number, account_id=line.account_id
        )
        if not any(p.rule == "number" for p in found):
            total_debit += line.debit
            total_credit += line.credit
    # Exact Decimal arithmetic: a difference of 0.01 is a difference.
    if total_debit != total_credit:
        problems.append(
            Problem(
                f"is not balanced: debits {total_debit} ≠ credits {total_credit} "
                f"(difference {total_debit - total_credit})",
                rule="balanced",
            )
        )
    return problems


def period_problems(period: AccountingPeriod | None, *, on: date) -> list[Problem]:
    if period is None:
        return [Problem(f"date {on.isoformat()} is in no fiscal year", None, "date", "fiscal_year")]
    if period.is_closed:
        return [
            Problem(
                f"date {on.isoformat()} is in closed period {period}", None, "date", "closed_period"
            )
        ]
    return []


def status_problems(status: str, *, requires_approval: bool) -> list[Problem]:
    if status == VoucherStatus.SUBMITTED:
        return [Problem("is submitted and must be approved before it can be posted", rule="status")]
    if status not in (VoucherStatus.DRAFT, VoucherStatus.APPROVED):
        return [Problem(f"is {status}; only a draft can be posted", rule="status")]
    if requires_approval and status != VoucherStatus.APPROVED:
        return [Problem("needs approval before it can be posted", rule="approval")]
    return []


def approver_problems(
    *, created_by_id: int | None, changed_by_id: int | None, approver_id: int | None
) -> list[Problem]:
    """Four eyes: an approval is a second person's, never that of whoever entered or last
    changed what is approved, and never no one's."""
    if approver_id is None:
        return [Problem("can only be approved by a named person", rule="four_eyes")]
    if approver_id in (created_by_id, changed_by_id):
        return [
            Problem(
                "was entered or last changed by you; another person must approve it",
                rule="four_eyes",
            )
        ]
    return []
