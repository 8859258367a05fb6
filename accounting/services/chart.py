"""Loading a chart of accounts: rows in any order, parents by code, all or nothing."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from accounting.models import Account, AccountSubtype, AccountType, Organization

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


def _validate(
    rows: list[Mapping[str, str]], existing: Mapping[str, Account]
) -> tuple[list[RowError], dict[str, dict[str, str]]]:
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
        if row["code"] in by_code:
            first = by_code[row["code"]]["_position"]
            errors.append(RowError(position, f"code {row['code']} repeats row {first}"))
            continue
        if not row["name"]:
            errors.append(RowError(position, f"account {row['code']} has no name"))
        if row["type"].lower() not in types:
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
    for code, row in by_code.items():
        parent = row["parent"]
        if parent and parent not in by_code and parent not in existing:
            errors.append(RowError(int(row["_position"]), f"parent {parent} is not in the chart"))
        if parent == code:
            errors.append(RowError(int(row["_position"]), f"account {code} is its own parent"))
    for code in by_code:
        seen = [code]
        current = by_code[code]["parent"]
        while current and current in by_code:
            if current in seen:
                errors.append(
                    RowError(
                        int(by_code[code]["_position"]), f"parents form a loop: {' → '.join(seen)}"
                    )
                )
                break
            seen.append(current)
            current = by_code[current]["parent"]
    return errors, by_code


@transaction.atomic
def chart_of_accounts_load(
    *, organization: Organization, rows: Iterable[Mapping[str, str]]
) -> ChartLoadResult:
    """Creates or updates accounts by code; refuses the whole file if any row is wrong."""
    rows = list(rows)
    existing = {a.code: a for a in Account.objects.filter(organization=organization)}
    errors, by_code = _validate(rows, existing)
    if errors:
        raise ChartRejected(sorted(errors, key=lambda e: e.row))
    created = updated = 0
    accounts = dict(existing)

    # Parents before children: depth from the root decides the order of saving.
    def depth(code: str) -> int:
        parent = by_code[code]["parent"]
        return 0 if not parent or parent not in by_code else 1 + depth(parent)

    for code in sorted(by_code, key=depth):
        row = by_code[code]
        account = accounts.get(code) or Account(organization=organization, code=code)
        is_new = account.pk is None
        account.name = row["name"]
        account.account_type = row["type"].lower()
        account.subtype = row["subtype"].lower()
        account.parent = accounts[row["parent"]] if row["parent"] else None
        account.save()
        accounts[code] = account
        created += is_new
        updated += not is_new
    return ChartLoadResult(created=created, updated=updated)


DEMO_CHART = Path(__file__).resolve().parent.parent / "data" / "demo_chart.csv"
