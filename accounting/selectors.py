"""Reads of the ledger: trial balance, account ledger, voucher list and the accounts and parties a
voucher may name, one organization each."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from accounting.dates import date_show
from accounting.models import (
    ZERO,
    Account,
    LedgerEntry,
    Organization,
    Party,
    PartyRole,
    Voucher,
    VoucherLine,
    VoucherStatus,
    VoucherType,
)

CENT = Decimal("0.01")
TRIAL_BALANCE_COLUMNS = ("code", "name", "debit", "credit")
ACCOUNT_LEDGER_COLUMNS = ("date", "voucher", "description", "debit", "credit", "balance")
PERIOD_TRIAL_BALANCE_COLUMNS = ("group", "code", "name", "opening", "debit", "credit", "closing")
VOUCHER_LIST_COLUMNS = (
    "date",
    "number",
    "type",
    "status",
    "reference",
    "party",
    "narration",
    "debit",
    "credit",
)
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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


def _side(balance: Decimal) -> str:
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
        return _side(self.balance)


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
        return _side(self.opening_balance)

    @property
    def closing_amount(self) -> Decimal:
        return abs(self.closing_balance)

    @property
    def closing_side(self) -> str:
        return _side(self.closing_balance)

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


def _line_total(column: str) -> Coalesce:
    # A correlated subquery rather than a join, so counting the list needs no GROUP BY.
    total = (
        VoucherLine.objects.filter(voucher_id=OuterRef("pk"))
        .order_by()
        .values("voucher_id")
        .annotate(total=Sum(column))
        .values("total")
    )
    return Coalesce(
        Subquery(total), Value(ZERO), output_field=DecimalField(max_digits=18, decimal_places=2)
    )


@dataclass(frozen=True)
class VoucherFilters:
    """What the voucher list can be narrowed by; None or "" means no filter."""

    voucher_type: VoucherType | None = None
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None
    number: str = ""
    party: Party | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None


def voucher_list(
    *, organization: Organization, filters: VoucherFilters | None = None
) -> QuerySet[Voucher]:
    """The organization's vouchers, newest first, each annotated with total_debit/total_credit.

    The amount range applies to the voucher total (the sum of its debits).
    """
    filters = filters or VoucherFilters()
    queryset = (
        Voucher.objects.filter(organization=organization)
        .select_related("voucher_type", "party")
        .annotate(total_debit=_line_total("debit"), total_credit=_line_total("credit"))
        .order_by("-date", "-id")
    )
    conditions = Q()
    if filters.voucher_type is not None:
        conditions &= Q(voucher_type_id=filters.voucher_type.pk)
    if filters.status:
        conditions &= Q(status=filters.status)
    if filters.date_from is not None:
        conditions &= Q(date__gte=filters.date_from)
    if filters.date_to is not None:
        conditions &= Q(date__lte=filters.date_to)
    if filters.number:
        conditions &= Q(number__icontains=filters.number.strip())
    if filters.party is not None:
        conditions &= Q(party_id=filters.party.pk)
    queryset = queryset.filter(conditions)
    if filters.amount_min is not None:
        queryset = queryset.filter(total_debit__gte=filters.amount_min)
    if filters.amount_max is not None:
        queryset = queryset.filter(total_debit__lte=filters.amount_max)
    return queryset


@dataclass(frozen=True)
class VoucherCounts:
    draft: int
    submitted: int
    approved: int
    posted: int
    reversed: int


def voucher_counts(*, organization: Organization) -> VoucherCounts:
    """How many of the organization's vouchers are in each state, in one query."""
    counts = Voucher.objects.filter(organization=organization).aggregate(
        **{
            status.value: Count("pk", filter=Q(status=status))
            for status in (
                VoucherStatus.DRAFT,
                VoucherStatus.SUBMITTED,
                VoucherStatus.APPROVED,
                VoucherStatus.POSTED,
                VoucherStatus.REVERSED,
            )
        }
    )
    return VoucherCounts(**counts)


def report_accounts(*, organization: Organization) -> QuerySet[Account]:
    """Accounts that can carry entries (not groups), for reports' choice lists.

    Inactive accounts are included: their history stays readable after they are closed.
    """
    return Account.objects.filter(organization=organization, children__isnull=True).order_by("code")


def postable_accounts(
    *,
    organization: Organization,
    account_types: Sequence[str] = (),
    subtypes: Sequence[str] = (),
) -> QuerySet[Account]:
    """The accounts a user may post to: the organization's active accounts that are not groups,
    narrowed to the account types and subtypes a field allows (none given: any).

    Every entry screen, search and lookup reads its choices here, so the rule lives once; posting
    itself checks the same facts again (accounting.services.checks.account_problems).
    """
    accounts = (
        Account.objects.filter(organization=organization, is_active=True)
        .exclude(Exists(Account.objects.filter(parent_id=OuterRef("pk"))))
        .only("id", "code", "name", "account_type", "subtype", "organization_id")
        .order_by("code")
    )
    if account_types:
        accounts = accounts.filter(account_type__in=account_types)
    if subtypes:
        accounts = accounts.filter(subtype__in=subtypes)
    return accounts


def active_parties(*, organization: Organization, role: str | None = None) -> QuerySet[Party]:
    """The parties a voucher may name: the organization's active ones, in `role` when given
    (a party of role "both" fits either; None or "any" means every role)."""
    parties = Party.objects.filter(organization=organization, is_active=True).only(
        "id", "code", "name", "role", "control_account_id", "organization_id"
    )
    if role and role != "any":
        parties = parties.filter(role__in=[role, PartyRole.BOTH])
    return parties.order_by("code")


def user_organizations(*, user: AbstractBaseUser) -> list[Organization]:
    """The organizations the user is a member of, by name: the choices of the switcher."""
    return list(Organization.objects.filter(memberships__user_id=user.pk).order_by("name"))


def voucher_list_csv_rows(vouchers: QuerySet[Voucher]) -> Iterator[list[str]]:
    """The voucher list as the CSV download has it: header, then one row per voucher."""
    yield list(VOUCHER_LIST_COLUMNS)
    for voucher in vouchers.iterator(chunk_size=500):
        yield [
            voucher.date.isoformat(),
            voucher.number or "",
            voucher.voucher_type.code,
            voucher.status,
            voucher.reference,
            voucher.party.name if voucher.party else "",
            voucher.narration,
            str(_money(voucher.total_debit)),  # type: ignore[attr-defined]
            str(_money(voucher.total_credit)),  # type: ignore[attr-defined]
        ]


# --- what an entry took, for the voucher page ------------------------------------------------


@dataclass(frozen=True)
class DataField:
    label: str
    value: str


def data_label(key: str) -> str:
    """A stored `data` key as a label: `cheque_number` is "Cheque number"."""
    words = key.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:]


def _data_value(value: object) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str) and ISO_DATE.match(value):
        return date_show(date.fromisoformat(value))
    if isinstance(value, list | dict):
        return ", ".join(str(item) for item in value)
    return str(value)


def voucher_data_fields(*, voucher: Voucher) -> list[DataField]:
    """The values an entry screen kept in the voucher's `data` (cheque number, cheque date …),
    labelled from their keys, empty ones left out. No query."""
    return [
        DataField(label=data_label(key), value=_data_value(value))
        for key, value in voucher.data.items()
        if value not in (None, "", [], {})
    ]


# --- a posted balance beside the entry ------------------------------------------------------


@dataclass(frozen=True)
class PostedBalance:
    on: date
    balance: Decimal  # debit positive

    @property
    def amount(self) -> Decimal:
        return abs(self.balance)

    @property
    def side(self) -> str:
        return _side(self.balance)


def posted_balance(
    *,
    organization: Organization,
    on: date,
    account: Account | None = None,
    party: Party | None = None,
) -> PostedBalance:
    """What is posted to an account, or owed by or to a party (its entries on its control
    account; on every account when it has none), up to and including `on`. One query.
    """
    if (account is None) == (party is None):
        raise ValueError("Ask for the balance of one account or one party.")
    entries = LedgerEntry.objects.filter(organization=organization, date__lte=on)
    if account is not None:
        entries = entries.filter(account=account)
    else:
        assert party is not None
        entries = entries.filter(party=party)
        if party.control_account_id is not None:
            entries = entries.filter(account_id=party.control_account_id)
    totals = entries.aggregate(debit=Sum("debit"), credit=Sum("credit"))
    return PostedBalance(on=on, balance=_money(totals["debit"]) - _money(totals["credit"]))


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
