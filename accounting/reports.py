"""The ledger's reports: the trial balance, an account's ledger and the trial balance of a
period, one organization each, in a constant number of queries."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import (
    Q,
    Sum,
)

from accounting.models import (
    ZERO,
    Account,
    LedgerEntry,
    Organization,
)

CENT = Decimal("0.01")
TRIAL_BALANCE_COLUMNS = ("code", "name", "debit", "credit")
ACCOUNT_LEDGER_COLUMNS = ("date", "voucher", "description", "debit", "credit", "balance")
PERIOD_TRIAL_BALANCE_COLUMNS = ("group", "code", "name", "opening", "debit", "credit", "closing")


def _money(value: Decimal | None) -> Decimal:
    # Sums come back from SQLite through floating point; pin them to cents.
    return (value or ZERO).quantize(CENT)


@dataclass(frozen=True)
class TrialBalanceRow:
    account_id: int
    code: str
    name: str
    account_type: str
    debit: Decimal  # net debit balance, or 0.00
    credit: Decimal  # net credit balance, or 0.00


@dataclass(frozen=True)
class TrialBalance:
    organization: Organization
    as_of: date
    rows: list[TrialBalanceRow]
    total_debit: Decimal
    total_credit: Decimal

    @property
    def is_balanced(self) -> bool:
        return self.total_debit == self.total_credit

    def csv_rows(self) -> Iterator[list[str]]:
        """Header then one row per account, the columns of TRIAL_BALANCE_COLUMNS."""
        yield list(TRIAL_BALANCE_COLUMNS)
        for row in self.rows:
            yield [row.code, row.name, str(row.debit), str(row.credit)]
        yield ["", "Total", str(self.total_debit), str(self.total_credit)]


def trial_balance(*, organization: Organization, as_of: date) -> TrialBalance:
    """Net debit or net credit per posting account from all entries up to and including as_of.

    One grouped query whatever the number of accounts; accounts that net to zero are left out.
    """
    totals = (
        LedgerEntry.objects.filter(organization=organization, date__lte=as_of)
        .values("account_id", "account__code", "account__name", "account__account_type")
        .annotate(debit_sum=Sum("debit"), credit_sum=Sum("credit"))
        .order_by("account__code")
    )
    rows = []
    for total in totals:
        net = _money(total["debit_sum"]) - _money(total["credit_sum"])
        if not net:
            continue
        rows.append(
            TrialBalanceRow(
                account_id=total["account_id"],
                code=total["account__code"],
                name=total["account__name"],
                account_type=total["account__account_type"],
                debit=net if net > 0 else ZERO,
                credit=-net if net < 0 else ZERO,
            )
        )
    return TrialBalance(
        organization=organization,
        as_of=as_of,
        rows=rows,
        total_debit=sum((row.debit for row in rows), ZERO),
        total_credit=sum((row.credit for row in rows), ZERO),
    )


def balance_side(balance: Decimal) -> str:
    return "Dr" if balance > 0 else "Cr" if balance < 0 else ""


@dataclass(frozen=True)
class AccountLedgerRow:
    entry_id: int
    date: date
    voucher_id: int
    voucher_number: str
    description: str
    debit: Decimal
    credit: Decimal
    balance: Decimal  # running balance after this row, debit positive

    @property
    def balance_amount(self) -> Decimal:
        return abs(self.balance)

    @property
    def balance_side(self) -> str:
        return balance_side(self.balance)


@dataclass(frozen=True)
class AccountLedger:
    organization: Organization
    account: Account
    start: date
    end: date
    opening_balance: Decimal  # debit positive, credit negative
    rows: list[AccountLedgerRow] = field(default_factory=list)

    @property
    def total_debit(self) -> Decimal:
        return sum((row.debit for row in self.rows), ZERO)

    @property
    def total_credit(self) -> Decimal:
        return sum((row.credit for row in self.rows), ZERO)

    @property
    def closing_balance(self) -> Decimal:
        return self.opening_balance + self.total_debit - self.total_credit

    @property
    def opening_amount(self) -> Decimal:
        return abs(self.opening_balance)

    @property
    def opening_side(self) -> str:
        return balance_side(self.opening_balance)

    @property
    def closing_amount(self) -> Decimal:
        return abs(self.closing_balance)

    @property
    def closing_side(self) -> str:
        return balance_side(self.closing_balance)

    def csv_rows(self) -> Iterator[list[str]]:
        """Header, opening balance, one row per entry, the period's totals, and the closing
        balance in the balance column alone; balances debit positive."""
        yield list(ACCOUNT_LEDGER_COLUMNS)
        yield [self.start.isoformat(), "", "Opening balance", "", "", str(self.opening_balance)]
        for row in self.rows:
            yield [
                row.date.isoformat(),
                row.voucher_number,
                row.description,
                str(row.debit),
                str(row.credit),
                str(row.balance),
            ]
        yield ["", "", "Total for the period", str(self.total_debit), str(self.total_credit), ""]
        yield [self.end.isoformat(), "", "Closing balance", "", "", str(self.closing_balance)]


class AccountOfAnotherOrganization(ValueError):
    """The ledger of an account was asked for under an organization it does not belong to."""


def account_ledger(
    *, organization: Organization, account: Account, start: date, end: date
) -> AccountLedger:
    """The entries of one account from start to end (inclusive) with a running balance.

    Two queries: the opening balance (everything before start) and the entries in the range.
    """
    if account.organization_id != organization.pk:
        raise AccountOfAnotherOrganization(
            f"Account {account.code} does not belong to {organization}."
        )
    entries = LedgerEntry.objects.filter(organization=organization, account=account)
    before = entries.filter(date__lt=start).aggregate(debit=Sum("debit"), credit=Sum("credit"))
    opening = _money(before["debit"]) - _money(before["credit"])
    in_range = (
        entries.filter(date__gte=start, date__lte=end)
        .order_by("date", "voucher_id", "line_order")
        .values_list(
            "id",
            "date",
            "voucher_id",
            "voucher__number",
            "description",
            "voucher__narration",
            "debit",
            "credit",
        )
    )
    rows = []
    balance = opening
    for entry_id, on, voucher_id, number, description, narration, debit, credit in in_range:
        balance += debit - credit
        rows.append(
            AccountLedgerRow(
                entry_id=entry_id,
                date=on,
                voucher_id=voucher_id,
                voucher_number=number or "",
                description=description or narration,
                debit=debit,
                credit=credit,
                balance=balance,
            )
        )
    return AccountLedger(
        organization=organization,
        account=account,
        start=start,
        end=end,
        opening_balance=opening,
        rows=rows,
    )


# --- a trial balance for a period ------------------------------------------------------------


@dataclass(frozen=True)
class PeriodBalanceRow:
    account_id: int
    code: str
    name: str
    opening: Decimal  # debit positive
    debit: Decimal
    credit: Decimal

    @property
    def closing(self) -> Decimal:
        return self.opening + self.debit - self.credit


@dataclass(frozen=True)
class PeriodBalanceGroup:
    """The accounts under one group account (or under none), with their subtotals."""

    code: str
    name: str
    rows: list[PeriodBalanceRow]

    @property
    def opening(self) -> Decimal:
        return sum((row.opening for row in self.rows), ZERO)

    @property
    def debit(self) -> Decimal:
        return sum((row.debit for row in self.rows), ZERO)

    @property
    def credit(self) -> Decimal:
        return sum((row.credit for row in self.rows), ZERO)

    @property
    def closing(self) -> Decimal:
        return sum((row.closing for row in self.rows), ZERO)


@dataclass(frozen=True)
class PeriodTrialBalance:
    organization: Organization
    start: date
    end: date
    groups: list[PeriodBalanceGroup]

    @property
    def opening(self) -> Decimal:
        return sum((group.opening for group in self.groups), ZERO)

    @property
    def debit(self) -> Decimal:
        return sum((group.debit for group in self.groups), ZERO)

    @property
    def credit(self) -> Decimal:
        return sum((group.credit for group in self.groups), ZERO)

    @property
    def closing(self) -> Decimal:
        return sum((group.closing for group in self.groups), ZERO)

    def csv_rows(self) -> Iterator[list[str]]:
        """Header, each group's accounts then its subtotal, then the grand total; balances debit
        positive."""
        yield list(PERIOD_TRIAL_BALANCE_COLUMNS)
        for group in self.groups:
            for row in group.rows:
                yield [
                    group.code,
                    row.code,
                    row.name,
                    str(row.opening),
                    str(row.debit),
                    str(row.credit),
                    str(row.closing),
                ]
            yield [
                group.code,
                "",
                f"Subtotal {group.name}",
                str(group.opening),
                str(group.debit),
                str(group.credit),
                str(group.closing),
            ]
        yield [
            "",
            "",
            "Total",
            str(self.opening),
            str(self.debit),
            str(self.credit),
            str(self.closing),
        ]


def period_trial_balance(
    *, organization: Organization, start: date, end: date
) -> PeriodTrialBalance:
    """Per posting account: the balance before `start`, the debits and credits from `start` to
    `end`, and the closing balance; grouped under each account's group account, with subtotals.

    One grouped query whatever the number of accounts; accounts with nothing before or during
    the period are left out.
    """
    in_period = Q(date__gte=start, date__lte=end)
    before = Q(date__lt=start)
    totals = (
        LedgerEntry.objects.filter(organization=organization, date__lte=end)
        .values(
            "account_id",
            "account__code",
            "account__name",
            "account__parent__code",
            "account__parent__name",
        )
        .annotate(
            debit_before=Sum("debit", filter=before),
            credit_before=Sum("credit", filter=before),
            debit_sum=Sum("debit", filter=in_period),
            credit_sum=Sum("credit", filter=in_period),
        )
        .order_by("account__parent__code", "account__code")
    )
    groups: dict[str, PeriodBalanceGroup] = {}
    for total in totals:
        row = PeriodBalanceRow(
            account_id=total["account_id"],
            code=total["account__code"],
            name=total["account__name"],
            opening=_money(total["debit_before"]) - _money(total["credit_before"]),
            debit=_money(total["debit_sum"]),
            credit=_money(total["credit_sum"]),
        )
        if not (row.opening or row.debit or row.credit):
            continue
        code = total["account__parent__code"] or ""
        group = groups.get(code)
        if group is None:
            group = groups[code] = PeriodBalanceGroup(
                code=code, name=total["account__parent__name"] or "Ungrouped", rows=[]
            )
        group.rows.append(row)
    return PeriodTrialBalance(
        organization=organization, start=start, end=end, groups=list(groups.values())
    )
