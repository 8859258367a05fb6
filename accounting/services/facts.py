"""What the ledger's checks need to know, each read in one hand-written query.

Hand-written SQL: these run for every voucher posted, and building the same queries through the
ORM costs several times what the database takes to answer them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache, lru_cache

from django.db import connection

from accounting.models import (
    Account,
    AccountingPeriod,
    FiscalYear,
    Organization,
    Voucher,
    VoucherLine,
)
from accounting.services.checks import TWO_PLACES, AccountFacts, LineFacts
from accounting.services.statements import statement_cursor


@cache
def _account_columns() -> str:
    """An account's facts as five columns of `a`; `_account_facts` reads them back."""
    table = connection.ops.quote_name(Account._meta.db_table)
    return (
        "a.id, a.code, a.organization_id, a.is_active,"
        f" EXISTS (SELECT 1 FROM {table} c WHERE c.parent_id = a.id)"
    )


def _account_facts(columns: tuple) -> AccountFacts:
    return AccountFacts(columns[0], columns[1], columns[2], bool(columns[3]), bool(columns[4]))


def _accounts_named(count: int) -> str:
    return f"a.id IN ({', '.join(['%s'] * count)})" if count else "1 = 0"


@lru_cache(maxsize=128)
def _account_facts_sql(count: int) -> str:
    table = connection.ops.quote_name(Account._meta.db_table)
    return f"SELECT {_account_columns()} FROM {table} a WHERE {_accounts_named(count)}"


def account_facts_for(
    *, organization: Organization, account_ids: set[int]
) -> dict[int, AccountFacts]:
    """The facts posting checks, for every account the lines name, in one query."""
    if not account_ids:
        return {}
    ids = sorted(account_ids)
    with statement_cursor() as cursor:
        cursor.execute(_account_facts_sql(len(ids)), ids)
        rows = cursor.fetchall()
    return {row[0]: _account_facts(row) for row in rows}


_PERIOD_COLUMNS = ("id", "fiscal_year_id", "number", "start_date", "end_date", "is_closed")
_FISCAL_YEAR_COLUMNS = ("id", "organization_id", "code", "start_date", "end_date")


def _period_select(columns: str) -> str:
    """`SELECT columns` of the period (`p`) and fiscal year (`y`) an organization's date falls
    in, taking the organization and the date twice as parameters."""
    period = connection.ops.quote_name(AccountingPeriod._meta.db_table)
    year = connection.ops.quote_name(FiscalYear._meta.db_table)
    # Fiscal years of an organization never overlap, so at most one period matches.
    return (
        f"SELECT {columns} FROM {period} p JOIN {year} y ON y.id = p.fiscal_year_id"
        " WHERE y.organization_id = %s AND p.start_date <= %s AND p.end_date >= %s"
    )


@cache
def _period_sql() -> str:
    return _period_select(
        ", ".join([f"p.{c}" for c in _PERIOD_COLUMNS] + [f"y.{c}" for c in _FISCAL_YEAR_COLUMNS])
    )


def period_for(*, organization_id: int, on: date) -> AccountingPeriod | None:
    """The accounting period a date falls in, with its fiscal year; None if it is in no year."""
    with statement_cursor() as cursor:
        cursor.execute(_period_sql(), [organization_id, on, on])
        row = cursor.fetchone()
    return None if row is None else _period_of(row)


def _period_of(row: tuple) -> AccountingPeriod:
    split = len(_PERIOD_COLUMNS)
    period = AccountingPeriod.from_db(connection.alias, _PERIOD_COLUMNS, row[:split])
    period.is_closed = bool(period.is_closed)
    period.fiscal_year = FiscalYear.from_db(connection.alias, _FISCAL_YEAR_COLUMNS, row[split:])
    return period


# Kept by the database on PostgreSQL (migration 0011): a number that moves on whenever an
# organization's accounts, fiscal years or periods change.
FACTS_VERSION_TABLE = "accounting_posting_facts_version"


@lru_cache(maxsize=128)
def _entry_facts_sql(count: int) -> str:
    account = connection.ops.quote_name(Account._meta.db_table)
    aliases = [f"p_{c}" for c in _PERIOD_COLUMNS] + [f"y_{c}" for c in _FISCAL_YEAR_COLUMNS]
    columns = [f"p.{c}" for c in _PERIOD_COLUMNS] + [f"y.{c}" for c in _FISCAL_YEAR_COLUMNS]
    period = _period_select(
        "1 AS found, " + ", ".join(f"{c} AS {a}" for c, a in zip(columns, aliases, strict=True))
    )
    if connection.vendor == "postgresql":
        version = "v.version"
        versions = f" LEFT JOIN {FACTS_VERSION_TABLE} v ON v.organization_id = %s"
    else:
        version, versions = "NULL", " LEFT JOIN (SELECT %s AS organization_id) v ON 1 = 0"
    # One row per account named (or one row without an account), each carrying the period and
    # the version of the facts read.
    return (
        f"SELECT pp.found, {_account_columns()}, {', '.join(f'pp.{a}' for a in aliases)},"
        f" {version} FROM (SELECT 1 AS one) anchor{versions}"
        f" LEFT JOIN ({period}) pp ON 1 = 1 LEFT JOIN {account} a ON {_accounts_named(count)}"
    )


@dataclass(frozen=True)
class EntryFacts:
    """What checking a new voucher reads: the facts of the accounts its lines name, the period
    its date falls in, and (PostgreSQL) the version of the organization's facts they are."""

    accounts: dict[int, AccountFacts]
    period: AccountingPeriod | None
    version: int | None
    remembered: bool = False  # as this process read them for an earlier voucher


def entry_facts_read(*, organization: Organization, account_ids: set[int], on: date) -> EntryFacts:
    """What checking a new voucher needs to read, in one query: the facts of every account its
    lines name and the accounting period its date falls in; remembered in this process (see
    `entry_facts_remembered`)."""
    ids = sorted(account_ids)
    with statement_cursor() as cursor:
        cursor.execute(_entry_facts_sql(len(ids)), [organization.pk, organization.pk, on, on, *ids])
        rows = cursor.fetchall()
    accounts = {row[1]: _account_facts(row[1:6]) for row in rows if row[1] is not None}
    first = rows[0]
    facts = EntryFacts(accounts, _period_of(first[6:-1]) if first[0] else None, first[-1])
    _remember(organization.pk, facts)
    return facts


# ---------------------------------------------------------------- facts this process has read


@dataclass(frozen=True)
class _Remembered:
    version: int
    accounts: dict[int, AccountFacts]
    periods: tuple[AccountingPeriod, ...]


# Per organization, what this process read last, as of one version. Only a write that names the
# version may rely on it: PostgreSQL's posting statement writes nothing if the version moved on.
_remembered: dict[int, _Remembered] = {}
MAX_ORGANIZATIONS_REMEMBERED = 256


def _remember(organization_id: int, facts: EntryFacts) -> None:
    if facts.version is None:
        return
    known = _remembered.get(organization_id)
    accounts, periods = dict(facts.accounts), () if facts.period is None else (facts.period,)
    if known is not None and known.version == facts.version:
        accounts = {**known.accounts, **accounts}
        periods = (*periods, *(p for p in known.periods if p.pk not in {q.pk for q in periods}))
    if known is None and len(_remembered) >= MAX_ORGANIZATIONS_REMEMBERED:
        _remembered.pop(next(iter(_remembered)), None)
    _remembered[organization_id] = _Remembered(facts.version, accounts, periods)


def entry_facts_forget(organization_id: int) -> None:
    """Drops what this process remembers of an organization's facts."""
    _remembered.pop(organization_id, None)


def entry_facts_remembered(
    *, organization: Organization, account_ids: set[int], on: date
) -> EntryFacts:
    """The entry facts as this process last read them, when it has read every account named and
    the period of the date, with the version they were read at; otherwise read now.

    Only for a check whose write confirms the version (`posting_postgres`): facts remembered are
    the database's as of that version, and may since have changed.
    """
    known = _remembered.get(organization.pk)
    if known is not None and account_ids <= known.accounts.keys():
        for period in known.periods:
            if period.start_date <= on <= period.end_date:
                accounts = {i: known.accounts[i] for i in account_ids}
                return EntryFacts(accounts, period, known.version, remembered=True)
    return entry_facts_read(organization=organization, account_ids=account_ids, on=on)


@cache
def _line_facts_sql() -> str:
    quote = connection.ops.quote_name
    line = quote(VoucherLine._meta.db_table)
    account = quote(Account._meta.db_table)
    # Amounts as text, read back into Decimal exactly: SQLite would hand back floats.
    return (
        f"SELECT CAST(l.debit AS TEXT), CAST(l.credit AS TEXT), {_account_columns()}"
        f" FROM {line} l JOIN {account} a ON a.id = l.account_id"
        f" WHERE l.voucher_id = %s ORDER BY l.{quote('order')}, l.id"
    )


def _amount(text: str) -> Decimal:
    # SQLite gives 100.00 back as "100": show it as the 100.00 it was entered as.
    value = Decimal(text)
    return value.quantize(TWO_PLACES) if value == value.quantize(TWO_PLACES) else value


def stored_line_facts(voucher: Voucher) -> list[LineFacts]:
    """A stored voucher's lines with the facts of their accounts, in one query."""
    with statement_cursor() as cursor:
        cursor.execute(_line_facts_sql(), [voucher.pk])
        rows = cursor.fetchall()
    return [
        LineFacts(
            account_id=row[2],
            debit=_amount(row[0]),
            credit=_amount(row[1]),
            account=_account_facts(row[2:]),
        )
        for row in rows
    ]
