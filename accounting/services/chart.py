"""Loading a chart of accounts: rows in any order, parents by code, all or nothing."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.db.models import Exists, OuterRef

from accounting.models import (
    Account,
    AccountSubtype,
    AccountType,
    LedgerEntry,
    Organization,
    code_refusal,
)

CHART_COLUMNS = ("code", "name", "type", "parent", "subtype")


@dataclass(frozen=True)
class RowError:
    row: int  # position in the file, the header being row 1
    message: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.message}"


class ChartRejected(Exception):
    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


@dataclass
class ChartLoadResult:
    created: int
    updated: int


def chart_rows_from_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in ("code", "name", "type") if c not in (reader.fieldnames or [])]
        if missing:
            raise ChartRejected([RowError(1, f"missing column(s): {', '.join(missing)}")])
        return [dict(row) for row in reader]


@dataclass(frozen=True)
class _Stored:
    """An account already in the books, as the checks of a new chart need it."""

    account: Account
    parent_code: str
    has_entries: bool
    has_children: bool


def _stored_accounts(organization: Organization) -> dict[str, _Stored]:
    """The organization's accounts by code, whether each has ledger entries, in one query."""
    accounts = list(
        Account.objects.filter(organization=organization).annotate(
            has_entries=Exists(LedgerEntry.objects.filter(account_id=OuterRef("pk")))
        )
    )
    codes = {account.pk: account.code for account in accounts}
    parents = {account.parent_id for account in accounts}
    return {
        account.code: _Stored(
            account=account,
            parent_code=codes.get(account.parent_id, "") if account.parent_id else "",
            has_entries=account.has_entries,  # type: ignore[attr-defined]
            has_children=account.pk in parents,
        )
        for account in accounts
    }


def _rows_read(rows: list[Mapping[str, str]]) -> tuple[list[RowError], dict[str, dict[str, str]]]:
    """Each row on its own: code, name, type and subtype; every code once."""
    errors: list[RowError] = []
    by_code: dict[str, dict[str, str]] = {}
    types = set(AccountType.values)
    subtypes = set(AccountSubtype.values)
    for position, raw in enumerate(rows, start=2):
        row = {key: (raw.get(key) or "").strip() for key in CHART_COLUMNS}
        row["_position"] = str(position)
        if not row["code"]:
            errors.append(RowError(position, "code is empty"))
            continue
        refusal = code_refusal(row["code"])
        if refusal is not None:
            errors.append(RowError(position, refusal))
            continue
        if row["code"] in by_code:
            first = by_code[row["code"]]["_position"]
            errors.append(RowError(position, f"code {row['code']} repeats row {first}"))
            continue
        if not row["name"]:
            errors.append(RowError(position, f"account {row['code']} has no name"))
        row["type"] = row["type"].lower()
        if row["type"] not in types:
            errors.append(
                RowError(
                    position,
                    f"type '{row['type']}' is not one of {', '.join(sorted(types))}",
                )
            )
        if row["subtype"].lower() not in subtypes:
            errors.append(
                RowError(
                    position,
                    f"subtype '{row['subtype']}' is not one of "
                    f"{', '.join(sorted(s for s in subtypes if s))}",
                )
            )
        by_code[row["code"]] = row
    return errors, by_code


def _tree_errors(
    by_code: dict[str, dict[str, str]], stored: Mapping[str, _Stored]
) -> list[RowError]:
    """The chart the file would leave, file rows over stored accounts: parents that exist, no
    loop, one type along each branch, and no account with ledger entries retyped or made a
    group (its entries would then sit on a group, or count under another type)."""
    errors: list[RowError] = []
    types = set(AccountType.values)

    def parent_of(code: str) -> str:
        return by_code[code]["parent"] if code in by_code else stored[code].parent_code

    def type_of(code: str) -> str:
        return by_code[code]["type"] if code in by_code else stored[code].account.account_type

    for code, row in by_code.items():
        position, parent = int(row["_position"]), row["parent"]
        if parent and parent not in by_code and parent not in stored:
            errors.append(RowError(position, f"parent {parent} is not in the chart"))
            continue
        if parent == code:
            errors.append(RowError(position, f"account {code} is its own parent"))
            continue
        seen = [code]
        current = parent
        while current and (current in by_code or current in stored):
            if current in seen:
                errors.append(RowError(position, f"parents form a loop: {' → '.join(seen)}"))
                break
            seen.append(current)
            current = parent_of(current)
        was = stored.get(code)
        if (
            was is not None
            and was.has_entries
            and row["type"] in types
            and row["type"] != was.account.account_type
        ):
            errors.append(
                RowError(
                    position,
                    f"account {code} has ledger entries as {was.account.account_type}; "
                    f"it cannot become {row['type']}",
                )
            )
        if not parent:
            continue
        parent_was = stored.get(parent)
        newly_a_child = was is None or was.parent_code != parent
        if (
            parent_was is not None
            and parent_was.has_entries
            and not parent_was.has_children
            and newly_a_child
        ):
            errors.append(
                RowError(
                    position,
                    f"parent {parent} has ledger entries; an account with entries cannot "
                    f"become a group: give {code} another parent",
                )
            )
        parent_type = type_of(parent)
        if row["type"] in types and parent_type in types and parent_type != row["type"]:
            errors.append(
                RowError(
                    position,
                    f"account {code} is {row['type']} but its parent {parent} is "
                    f"{parent_type}; an account has its parent's type",
                )
            )
    for code, was in stored.items():
        parent = was.parent_code
        if code in by_code or parent not in by_code:
            continue
        new_type = by_code[parent]["type"]
        if new_type in types and new_type != was.account.account_type:
            errors.append(
                RowError(
                    int(by_code[parent]["_position"]),
                    f"account {parent} would become {new_type} but its sub-account {code} "
                    f"is {was.account.account_type}; an account has its parent's type",
                )
            )
    return errors


@transaction.atomic
def chart_of_accounts_load(
    *, organization: Organization, rows: Iterable[Mapping[str, str]]
) -> ChartLoadResult:
    """Creates or updates accounts by code; refuses the whole file if any row is wrong."""
    rows = list(rows)
    stored = _stored_accounts(organization)
    errors, by_code = _rows_read(rows)
    errors += _tree_errors(by_code, stored)
    if errors:
        raise ChartRejected(sorted(errors, key=lambda e: e.row))
    created = updated = 0
    accounts = {code: was.account for code, was in stored.items()}

    # Parents before children: depth from the root decides the order of saving.
    def depth(code: str) -> int:
        parent = by_code[code]["parent"]
        return 0 if not parent or parent not in by_code else 1 + depth(parent)

    for code in sorted(by_code, key=depth):
        row = by_code[code]
        account = accounts.get(code) or Account(organization=organization, code=code)
        is_new = account.pk is None
        account.name = row["name"]
        account.account_type = row["type"]
        account.subtype = row["subtype"].lower()
        account.parent = accounts[row["parent"]] if row["parent"] else None
        account.save()
        accounts[code] = account
        created += is_new
        updated += not is_new
    return ChartLoadResult(created=created, updated=updated)


DEMO_CHART = Path(__file__).resolve().parent.parent / "data" / "demo_chart.csv"
