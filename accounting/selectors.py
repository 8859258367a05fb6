"""Reads of the ledger besides its reports (accounting.reports): the voucher list, the accounts
and parties a voucher may name, an account's posted balance, one organization each."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
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
from accounting.reports import balance_side
from accounting.voucher_terms import DataTerm

CENT = Decimal("0.01")
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
    return (value or ZERO).quantize(CENT)


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


def voucher_data_fields(
    *, voucher: Voucher, terms: Mapping[str, DataTerm] | None = None
) -> list[DataField]:
    """The values an entry screen kept in the voucher's `data` (cheque number, cheque date …),
    empty ones left out. With the screen's `terms`: its labels and order, and an account or a
    party named by code and name as the screen showed it (a query per kind); without, labels
    made from the keys and no query."""
    terms = terms or {}
    kept = {key: value for key, value in voucher.data.items() if value not in (None, "", [], {})}
    keys = [key for key in terms if key in kept] + [key for key in kept if key not in terms]

    def codes(kind: str) -> list[str]:
        return [str(kept[key]) for key in keys if key in terms and terms[key].kind == kind]

    names: dict[str, dict[str, str]] = {"account": {}, "party": {}}
    mine = {"organization_id": voucher.organization_id}
    if accounts := codes("account"):
        found = Account.objects.filter(**mine, code__in=accounts).values_list("code", "name")
        names["account"] = dict(found)
    if parties := codes("party"):
        named = Party.objects.filter(**mine, code__in=parties).values_list("code", "name")
        names["party"] = dict(named)
    fields = []
    for key in keys:
        term = terms.get(key)
        value = _data_value(kept[key])
        if term is not None and term.kind in names and value in names[term.kind]:
            value = f"{value} {names[term.kind][value]}"
        fields.append(DataField(label=term.label if term else data_label(key), value=value))
    return fields


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
        return balance_side(self.balance)


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
