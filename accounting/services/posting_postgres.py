"""Creating and posting a voucher on PostgreSQL in one statement, every rule of posting kept.

`voucher_create_posted` checks a voucher before anything is written; on PostgreSQL it then
writes it with one statement, which outside a transaction is its own transaction: no BEGIN and
no COMMIT to send, one round trip for the whole write. Its WITH clauses, in the order their
results need each other:

0. *facts*: whether the facts the voucher was checked against (its accounts, its period) are
   still the organization's: the version they were read at (`facts.entry_facts_remembered`) is
   still the one the database keeps (migration 0011). If not, nothing is written, and the
   voucher is checked again against the facts read afresh. So a process checks against facts
   it read for an earlier voucher, and posting is one round trip while they do not change.
1. *counter*: `UPDATE … SET last_value = last_value + 1 … RETURNING` on the counter row of the
   voucher's series: its lock and the new number's digits.
2. *place*: only once the counter is locked (through `EXISTS`), the organization's chain head,
   locked `FOR UPDATE`: the voucher's place and the previous hash (after waiting for the lock,
   the head as the poster before left it). The two row locks are taken in the order every
   other poster takes them: counter, then chain head.
3. *head*: the voucher's id from its table's identity sequence, its hash computed by the
   database from the canonical encoding (`chain.ChainContent.encoded_around`: Python encodes
   everything but the number, the place, the previous hash and the id, which are spliced in),
   and the head moved to the new place and hash.
4. the voucher (with its number and chain link), its history row, its lines, their history
   rows, and the ledger rows copied from the lines just inserted.

Each clause reads the one before, so if the series' counter or the organization's chain head
has no row yet, nothing is written and the statement returns no row: both are made and it is
sent again. The balance of the ledger rows is checked at COMMIT by the deferred trigger
(migration 0007), foreign keys at COMMIT too (Django makes them deferrable), and the unique
constraints on the number, the chain position and the submission key hold as for any INSERT.
`verify_ledger` recomputes every hash from the stored rows, in Python.

The statement depends on no session state and no advisory lock: it works through PgBouncer in
transaction mode. It is sent with server-side binding and prepared on first use
(`statements.statement_cursor`), which a pooler must support or be told to do without. A series
whose numbering pattern the database cannot write (`numbering.number_parts`), and a voucher
with more lines than one statement's parameters hold, go the statement-per-table way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction
from django.db.models import Field

from accounting.models import (
    FiscalYear,
    LedgerChainHead,
    LedgerEntry,
    Voucher,
    VoucherLine,
    VoucherSequence,
)
from accounting.services.chain import ChainContent, ChainLine
from accounting.services.drafts import LINE_FIELDS, line_values
from accounting.services.facts import FACTS_VERSION_TABLE
from accounting.services.history import (
    column_of,
    history_enabled,
    history_insert_sql,
    history_stamp,
)
from accounting.services.inputs import LineInput, User
from accounting.services.numbering import NumberParts, number_parts
from accounting.services.statements import statement_cursor

# PostgreSQL's protocol takes at most 65,535 parameters in one statement (server-side binding);
# a voucher whose write needs more goes the statement-per-table way.
MAX_PARAMETERS = 65_000

# The keys of the chain's encoding whose values the database fills in, in the encoding's order.
_TAKEN_IN_THE_DATABASE = ("number", "position", "previous", "voucher")

# The voucher's columns the statement fills from what it takes.
_TAKEN_COLUMNS = {
    "id": "h.id",
    "sequence": "h.sequence",
    "number": "CAST(%s AS text) || h.digits || %s",
    "chain_position": "h.position",
    "chain_previous": "h.previous",
    "chain_hash": "h.hash",
}


# "numeric(18, 2)" -> "numeric", "varchar(255)" -> "varchar".
_TYPE_MODIFIERS = re.compile(r"\s*\(.*\)")


class PostingOutcomeUnknown(OperationalError):
    """The connection was lost while the statement that posts a voucher, its own transaction,
    was with the server: it may have been committed or not. Whoever posted must look before
    posting it again."""


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


@cache
def _voucher_columns() -> tuple[Any, ...]:
    return tuple(Voucher._meta.local_concrete_fields)


def _cast(field: Field) -> str:
    """`CAST(%s AS <the column's type>)`, without its length or precision: a line's values are
    a VALUES list in FROM, where a parameter's type is not the column's (an assignment then
    checks the length and scale as any INSERT does)."""
    db_type = field.db_type(connection) or "text"
    return f"CAST(%s AS {_TYPE_MODIFIERS.sub('', db_type)})"


@lru_cache(maxsize=64)
def _post_sql(lines: int, with_history: bool) -> str:
    counter = _quote(VoucherSequence._meta.db_table)
    head = _quote(LedgerChainHead._meta.db_table)
    voucher_columns = [f.column for f in _voucher_columns()]
    voucher_values = [_TAKEN_COLUMNS.get(column, "%s") for column in voucher_columns]
    line_fields = [VoucherLine._meta.get_field(name) for name in LINE_FIELDS[1:]]
    line_row = "(" + ", ".join(_cast(f) for f in line_fields) + ")"  # type: ignore[arg-type]
    line_columns = ", ".join(_quote(column_of(VoucherLine, name)) for name in LINE_FIELDS)
    order = _quote("order")
    # The encoding's pieces with the number's digits, the place, the previous hash and the id.
    hashed = " || ".join(
        (
            "CAST(%s AS text)",
            "c.digits",
            "%s",
            "p.position::text",
            "%s",
            "p.hash",
            "%s",
            "i.id::text",
            "%s",
        )
    )
    parts = [
        # Whether the facts the voucher was checked against are still the organization's.
        "facts AS (SELECT CAST(%s AS bigint) IS NULL OR EXISTS (SELECT 1"
        f" FROM {FACTS_VERSION_TABLE} WHERE organization_id = %s AND version = %s) AS current)",
        f"counter AS (UPDATE {counter} SET last_value = last_value + 1"
        " WHERE organization_id = %s AND voucher_type_id = %s AND fiscal_year_id = %s"
        f" AND EXISTS (SELECT 1 FROM {head} WHERE organization_id = %s)"
        " AND (SELECT current FROM facts)"
        " RETURNING last_value AS sequence, lpad(last_value::text,"
        " greatest(CAST(%s AS integer), length(last_value::text)), '0') AS digits)",
        f"place AS (SELECT organization_id, last_position + 1 AS position, last_hash AS hash"
        f" FROM {head} WHERE organization_id = %s AND EXISTS (SELECT 1 FROM counter) FOR UPDATE)",
        "ident AS MATERIALIZED (SELECT nextval(pg_get_serial_sequence(%s, 'id')) AS id FROM place)",
        f"head AS (UPDATE {head} AS t SET last_position = p.position,"
        f" last_hash = encode(sha256(convert_to({hashed}, 'UTF8')), 'hex')"
        " FROM place p, counter c, ident i WHERE t.organization_id = p.organization_id"
        " RETURNING i.id, c.sequence, c.digits, p.position, p.hash AS previous,"
        " t.last_hash AS hash)",
        f"new_voucher AS (INSERT INTO {_quote(Voucher._meta.db_table)}"
        f" ({', '.join(_quote(c) for c in voucher_columns)})"
        f" SELECT {', '.join(voucher_values)} FROM head h RETURNING *)",
    ]
    if with_history:
        parts.append(f"voucher_history AS ({history_insert_sql(Voucher, 'new_voucher')})")
    parts.append(
        f"new_lines AS (INSERT INTO {_quote(VoucherLine._meta.db_table)} ({line_columns})"
        f" SELECT v.id, l.* FROM new_voucher v, (VALUES {', '.join([line_row] * lines)}) AS l"
        " RETURNING *)"
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
    return (
        "WITH "
        + ", ".join(parts)
        + " SELECT f.current, v.id, v.sequence, v.number, v.chain_position, v.chain_previous,"
        " v.chain_hash FROM facts f LEFT JOIN new_voucher v ON true"
    )


def chain_lines_of(voucher: Voucher, lines: Sequence[LineInput]) -> list[ChainLine]:
    """The ledger rows the statement makes of the lines, as the chain covers them."""
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


def one_statement_parts(
    *, voucher: Voucher, fiscal_year: FiscalYear, lines: Sequence[LineInput]
) -> NumberParts | None:
    """How the statement writes the voucher's number, if the voucher can be posted in one
    statement: its series' pattern is one the database can write and its lines fit."""
    if connection.vendor != "postgresql":
        return None
    if len(lines) * len(LINE_FIELDS) + len(_voucher_columns()) + 24 > MAX_PARAMETERS:
        return None
    return number_parts(voucher.voucher_type.numbering_pattern, fiscal_year.code)


def _json_inside_quotes(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)[1:-1]


def _missing_create(model: type[VoucherSequence] | type[LedgerChainHead], **key: Any) -> None:
    """A counter or chain head made on first use, by whichever concurrent poster gets there
    first (they are normally made with the fiscal year and the organization)."""
    try:
        with transaction.atomic():
            model.objects.create(**key)
    except IntegrityError:
        pass


def voucher_write_posted(
    *,
    voucher: Voucher,
    number: NumberParts,
    lines: Sequence[LineInput],
    user: User,
    when: datetime,
    facts_version: int | None,
) -> bool:
    """Numbers, chains and writes a checked new voucher, built as posted but not yet saved, in
    one statement whatever the number of lines: its own transaction, or the caller's.

    `facts_version` is the version of the facts the voucher was checked against (None: read
    in this call, not remembered). Returns False, having written nothing, if the organization's
    facts have changed since: the voucher must be checked again."""
    # The hash's text around what the database takes: the number's digits (the number goes
    # between quotes, after its prefix and before its suffix), the place, the previous hash
    # (between quotes) and the voucher's id.
    before_number, before_position, before_previous, before_id, rest = ChainContent.of(
        voucher, chain_lines_of(voucher, lines)
    ).encoded_around(_TAKEN_IN_THE_DATABASE)
    hash_pieces = [
        f'{before_number}"{_json_inside_quotes(number.prefix)}',
        f'{_json_inside_quotes(number.suffix)}"{before_position}',
        f'{before_previous}"',
        f'"{before_id}',
        rest,
    ]
    db = transaction.get_connection()
    # The voucher's values in its columns' order: what Model.save() sends for a new row (each
    # field's pre_save, e.g. the creation time, prepared for the database), the number's
    # prefix and suffix where the number goes, nothing for what the statement takes.
    voucher_values: list[Any] = []
    for field in _voucher_columns():
        if field.column == "number":
            voucher_values += (number.prefix, number.suffix)
        elif field.column not in _TAKEN_COLUMNS:
            voucher_values.append(field.get_db_prep_save(field.pre_save(voucher, True), db))
    organization_id = voucher.organization_id
    with_history = history_enabled()
    stamp = history_stamp(user=user, when=when) if with_history else []
    params = [
        facts_version,
        organization_id,
        facts_version,
        organization_id,
        voucher.voucher_type_id,
        voucher.fiscal_year_id,
        organization_id,
        number.width,
        organization_id,
        Voucher._meta.db_table,
        *hash_pieces,
        *voucher_values,
        *stamp,
        *(value for row in line_values(lines) for value in row),
        *stamp,
        organization_id,
        voucher.date,
        voucher.party_id,
    ]
    sql = _post_sql(len(lines), with_history)
    own_transaction = not db.in_atomic_block
    for attempt in range(2):
        try:
            with statement_cursor() as cursor:
                cursor.execute(sql, params)
                row = cursor.fetchone()
        except DatabaseError as exc:
            # An error the server answers with rolled the statement back; a connection lost
            # on the way leaves its commit unknown.
            raw = db.connection
            if own_transaction and (raw is None or raw.closed or raw.broken):
                raise PostingOutcomeUnknown(str(exc)) from exc
            raise
        assert row is not None  # the statement always answers one row
        current, *written = row
        if not current:
            return False
        if written[0] is not None:
            break
        if attempt:
            raise RuntimeError(f"{voucher.organization_id}: no counter or chain head to take")
        _missing_create(
            VoucherSequence,
            organization_id=organization_id,
            voucher_type_id=voucher.voucher_type_id,
            fiscal_year_id=voucher.fiscal_year_id,
        )
        _missing_create(LedgerChainHead, organization_id=organization_id)
    (
        voucher.pk,
        voucher.sequence,
        voucher.number,
        voucher.chain_position,
        voucher.chain_previous,
        voucher.chain_hash,
    ) = written
    voucher._state.adding = False
    voucher._state.db = db.alias
    voucher._stored_status = voucher.status  # type: ignore[attr-defined]
    return True
