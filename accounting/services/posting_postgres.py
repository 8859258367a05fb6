"""Creating and posting a voucher on PostgreSQL in two statements, every rule of posting kept.

`voucher_create_posted` checks a voucher before its transaction opens; on PostgreSQL it then
writes it with two round trips instead of ten:

1. *take*: one statement with two data-modifying WITH clauses. `UPDATE … SET last_value =
   last_value + 1 … RETURNING` on the counter row of the voucher's series (its lock and the new
   number), then, only once that row is locked (the head's UPDATE waits for the counter's result
   through `EXISTS`), the same on the organization's chain head (its lock, the voucher's place
   and the previous hash), and the voucher's id from its table's identity sequence. The two
   row locks are taken in the order every other poster takes them: counter, then chain head.
2. *write*: one statement inserting the voucher (with its number and chain link), its history
   row, its lines (one multi-row VALUES), their history rows, the ledger rows copied from the
   lines just inserted, and moving the chain head to the voucher's hash.

The hash is computed in Python between the two, from the values the second statement writes:
the ledger rows are the lines, each line without a party taking the voucher's. The balance of
the ledger rows is checked at COMMIT by the deferred trigger (migration 0007), foreign keys are
checked at COMMIT too (Django makes them deferrable), and the unique constraints on the number,
the chain position and the submission key hold as for any INSERT. `verify_ledger` recomputes
every hash from the stored rows.

Neither statement depends on session state or advisory locks: both work through PgBouncer in
transaction mode. They are sent with server-side binding and prepared on first use
(`statements.statement_cursor`), which a pooler must support or be told to do without.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from django.db import IntegrityError, connection, transaction

from accounting.models import (
    FiscalYear,
    LedgerChainHead,
    LedgerEntry,
    Voucher,
    VoucherLine,
    VoucherSequence,
)
from accounting.services.chain import ChainContent, ChainLine, chain_hash
from accounting.services.drafts import LINE_FIELDS, lines_insert_values
from accounting.services.history import (
    column_of,
    history_enabled,
    history_insert_sql,
    history_stamp,
)
from accounting.services.inputs import LineInput, User
from accounting.services.statements import statement_cursor

# PostgreSQL's protocol takes at most 65,535 parameters in one statement (server-side binding);
# a voucher whose write needs more goes the statement-per-table way.
MAX_PARAMETERS = 65_000


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


@cache
def _take_sql() -> str:
    counter = _quote(VoucherSequence._meta.db_table)
    head = _quote(LedgerChainHead._meta.db_table)
    return (
        f"WITH counter AS (UPDATE {counter} SET last_value = last_value + 1"
        " WHERE organization_id = %s AND voucher_type_id = %s AND fiscal_year_id = %s"
        " RETURNING last_value),"
        f" head AS (UPDATE {head} SET last_position = last_position + 1"
        " WHERE organization_id = %s AND EXISTS (SELECT 1 FROM counter)"
        " RETURNING last_position, last_hash)"
        " SELECT (SELECT last_value FROM counter), (SELECT last_position FROM head),"
        " (SELECT last_hash FROM head), nextval(pg_get_serial_sequence(%s, 'id'))"
    )


def _take(voucher: Voucher) -> tuple[int | None, int | None, str | None, int]:
    with statement_cursor() as cursor:
        cursor.execute(
            _take_sql(),
            [
                voucher.organization_id,
                voucher.voucher_type_id,
                voucher.fiscal_year_id,
                voucher.organization_id,
                Voucher._meta.db_table,
            ],
        )
        row = cursor.fetchone()
    assert row is not None
    return row[0], row[1], row[2], int(row[3])


def _missing_create(model: type[VoucherSequence] | type[LedgerChainHead], **key: Any) -> None:
    """A counter or chain head made on first use, by whichever concurrent poster gets there
    first (they are normally made with the fiscal year and the organization)."""
    try:
        with transaction.atomic():
            model.objects.create(**key)
    except IntegrityError:
        pass


def _take_places(voucher: Voucher) -> tuple[int, int, str]:
    """The voucher's number in its series and its place in the chain, both rows locked; sets
    the voucher's id. Returns (sequence, chain position, previous hash)."""
    sequence, position, previous, voucher.pk = _take(voucher)
    if sequence is None:
        _missing_create(
            VoucherSequence,
            organization_id=voucher.organization_id,
            voucher_type_id=voucher.voucher_type_id,
            fiscal_year_id=voucher.fiscal_year_id,
        )
        sequence, position, previous, voucher.pk = _take(voucher)
        assert sequence is not None
    if position is None:
        # The counter is locked and incremented; only the head was missing.
        _missing_create(LedgerChainHead, organization_id=voucher.organization_id)
        head_table = _quote(LedgerChainHead._meta.db_table)
        with statement_cursor() as cursor:
            cursor.execute(
                f"UPDATE {head_table} SET last_position = last_position + 1"
                " WHERE organization_id = %s RETURNING last_position, last_hash",
                [voucher.organization_id],
            )
            row = cursor.fetchone()
        assert row is not None
        position, previous = row
    assert position is not None and previous is not None
    return int(sequence), int(position), str(previous)


@cache
def _voucher_columns() -> tuple[Any, ...]:
    return tuple(Voucher._meta.local_concrete_fields)


@lru_cache(maxsize=64)
def _write_sql(lines: int, with_history: bool) -> str:
    fields = _voucher_columns()
    voucher_columns = ", ".join(_quote(f.column) for f in fields)
    voucher_values = ", ".join(["%s"] * len(fields))
    line_columns = ", ".join(_quote(column_of(VoucherLine, name)) for name in LINE_FIELDS)
    line_row = "(" + ", ".join(["%s"] * len(LINE_FIELDS)) + ")"
    order = _quote("order")
    parts = [
        f"new_voucher AS (INSERT INTO {_quote(Voucher._meta.db_table)} ({voucher_columns})"
        f" VALUES ({voucher_values}) RETURNING *)",
    ]
    if with_history:
        parts.append(f"voucher_history AS ({history_insert_sql(Voucher, 'new_voucher')})")
    parts.append(
        f"new_lines AS (INSERT INTO {_quote(VoucherLine._meta.db_table)} ({line_columns})"
        f" VALUES {', '.join([line_row] * lines)} RETURNING *)"
    )
    if with_history:
        parts.append(f"line_history AS ({history_insert_sql(VoucherLine, 'new_lines')})")
    parts.append(
        f"ledger AS (INSERT INTO {_quote(LedgerEntry._meta.db_table)}"
        " (organization_id, voucher_id, line_order, account_id, date, debit, credit, party_id,"
        " description)"
        f" SELECT %s, voucher_id, {order}, account_id, %s, debit, credit,"
        f" COALESCE(party_id, %s), description FROM new_lines ORDER BY {order}, id)"
    )
    head = _quote(LedgerChainHead._meta.db_table)
    return (
        "WITH " + ", ".join(parts) + f" UPDATE {head} SET last_hash = %s WHERE organization_id = %s"
    )


def chain_lines_of(voucher: Voucher, lines: Sequence[LineInput]) -> list[ChainLine]:
    """The ledger rows the write statement makes of the lines, as the chain covers them."""
    return [
        ChainLine(
            order=number,
            account_id=line.account_id,  # type: ignore[arg-type]  # checked before posting
            debit=line.debit,
            credit=line.credit,
            party_id=line.party_id if line.party_id is not None else voucher.party_id,
            description=line.description,
        )
        for number, line in enumerate(lines, start=1)
    ]


def fits_two_statements(lines: Sequence[LineInput]) -> bool:
    """Whether a voucher's write stays within one statement's parameters."""
    return len(lines) * len(LINE_FIELDS) + len(_voucher_columns()) + 16 <= MAX_PARAMETERS


def voucher_write_posted(
    *,
    voucher: Voucher,
    fiscal_year: FiscalYear,
    lines: Sequence[LineInput],
    user: User,
    when: datetime,
) -> None:
    """Numbers, chains and writes a checked new voucher, built as posted but not yet saved,
    inside the caller's transaction: two statements whatever the number of lines."""
    assert transaction.get_connection().in_atomic_block, "posting needs a transaction"
    voucher.fiscal_year = fiscal_year
    sequence, position, previous = _take_places(voucher)
    voucher.sequence = sequence
    voucher.number = voucher.voucher_type.format_number(
        fiscal_year_code=fiscal_year.code, sequence=sequence
    )
    content = ChainContent.of(voucher, chain_lines_of(voucher, lines))
    voucher.chain_position, voucher.chain_previous = position, previous
    voucher.chain_hash = chain_hash(content, position=position, previous=previous)
    # What Model.save() sends for a new row: each field's pre_save (the creation and update
    # times) prepared for the database.
    db = transaction.get_connection()
    voucher_values = [
        field.get_db_prep_save(field.pre_save(voucher, True), db) for field in _voucher_columns()
    ]
    with_history = history_enabled()
    stamp = history_stamp(user=user, when=when) if with_history else []
    params = [
        *voucher_values,
        *stamp,
        *lines_insert_values(voucher, lines),
        *stamp,
        voucher.organization_id,
        voucher.date,
        voucher.party_id,
        voucher.chain_hash,
        voucher.organization_id,
    ]
    with statement_cursor() as cursor:
        cursor.execute(_write_sql(len(lines), with_history), params)
    voucher._state.adding = False
    voucher._state.db = db.alias
    voucher._stored_status = voucher.status  # type: ignore[attr-defined]
