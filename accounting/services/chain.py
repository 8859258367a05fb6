"""The ledger's hash chain: what posting freezes of a voucher, encoded canonically and hashed.

Every posted voucher carries a link in its organization's chain: `chain_position` (1, 2, 3, … in
order of posting, gapless), `chain_previous` (the hash of the voucher at the place before it,
CHAIN_GENESIS for the first) and `chain_hash`, the SHA-256 (hex) of the canonical encoding below,
which includes that previous hash. Changing anything the encoding covers, in any voucher, changes
its hash; rewriting the hash as well breaks the next voucher's link. `services/verification.py`
recomputes the chain from the stored rows.

The canonical encoding, version 1
---------------------------------
A JSON object serialised with sorted keys and no whitespace, non-ASCII text kept as UTF-8
(`json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()`):

    approved_at   UTC ISO 8601 with microseconds ("2026-03-15T09:30:00.000000+00:00") or null
    approved_by   user id or null
    created_by    user id or null
    date          the voucher date, "YYYY-MM-DD"
    fiscal_year   fiscal year id
    lines         the ledger rows in order (line order, then row id), each an object:
                    account      account id
                    credit       2-place decimal string, "0.00" on a debit row
                    debit        2-place decimal string, "0.00" on a credit row
                    description  text
                    order        the line's order number
                    party        party id (the line's own, else the voucher's) or null
    narration     text
    number        the voucher number, e.g. "PV-2026-00001"
    organization  organization id
    party         the voucher's party id or null
    position      its place in the organization's chain
    posted_at     UTC ISO 8601 with microseconds (null only on rows posted without a time)
    posted_by     user id or null
    previous      the previous voucher's chain_hash, 64 hex digits
    reference     text
    reversal_of   id of the voucher it reverses, or null
    version       1
    voucher       voucher id
    voucher_type  voucher type id

The lines are read from the ledger rows posting wrote (what the books hold), not from the input.
A voucher's `status` is not covered, so reversing it (which marks it "reversed") leaves the
chain valid. The encoding of an existing version never changes: hashes already stored depend on
it; a change is a new version.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Context, Decimal
from functools import cache
from typing import Any

from django.db import IntegrityError, connection, transaction

from accounting.models import LedgerChainHead, Voucher

CHAIN_VERSION = 1
TWO_PLACES = Decimal("0.01")
# SQLite hands decimals back as floats of 15 significant digits; read them as Django does.
_FLOAT_CONTEXT = Context(prec=15)


def money_text(value: Decimal | str | int | float) -> str:
    """An amount as the chain writes it: a decimal string with exactly two places."""
    if isinstance(value, float):
        amount = _FLOAT_CONTEXT.create_decimal_from_float(value)
    else:
        amount = Decimal(value)
    return format(amount.quantize(TWO_PLACES), "f")


def timestamp_text(value: datetime) -> str:
    """A timestamp as the chain writes it: UTC, ISO 8601, always with microseconds."""
    if value.tzinfo is None:
        raise ValueError(f"{value} has no time zone; the chain needs an aware timestamp")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class ChainLine:
    """One ledger row of a posted voucher, as the chain covers it."""

    order: int
    account_id: int
    debit: Decimal | str | int | float
    credit: Decimal | str | int | float
    party_id: int | None
    description: str

    def encoded(self) -> dict[str, Any]:
        return {
            "account": self.account_id,
            "credit": money_text(self.credit),
            "debit": money_text(self.debit),
            "description": self.description,
            "order": self.order,
            "party": self.party_id,
        }


@dataclass(frozen=True)
class ChainContent:
    """What posting freezes of a voucher: its header, who posted it and when, its ledger rows."""

    organization_id: int
    voucher_id: int
    voucher_type_id: int
    number: str
    fiscal_year_id: int
    date: date
    party_id: int | None
    reference: str
    narration: str
    reversal_of_id: int | None
    created_by_id: int | None
    posted_by_id: int | None
    posted_at: datetime | None
    approved_by_id: int | None
    approved_at: datetime | None
    lines: tuple[ChainLine, ...]

    @classmethod
    def of(cls, voucher: Any, lines: Iterable[ChainLine]) -> ChainContent:
        """The content of a voucher (a model instance, or a migration's historical one)."""
        return cls(
            organization_id=voucher.organization_id,
            voucher_id=voucher.pk,
            voucher_type_id=voucher.voucher_type_id,
            number=voucher.number,
            fiscal_year_id=voucher.fiscal_year_id,
            date=voucher.date,
            party_id=voucher.party_id,
            reference=voucher.reference,
            narration=voucher.narration,
            reversal_of_id=voucher.reversal_of_id,
            created_by_id=voucher.created_by_id,
            posted_by_id=voucher.posted_by_id,
            posted_at=voucher.posted_at,
            approved_by_id=voucher.approved_by_id,
            approved_at=voucher.approved_at,
            lines=tuple(lines),
        )

    def _document(self, *, position: Any, previous: Any) -> dict[str, Any]:
        return {
            "approved_at": timestamp_text(self.approved_at) if self.approved_at else None,
            "approved_by": self.approved_by_id,
            "created_by": self.created_by_id,
            "date": self.date.isoformat(),
            "fiscal_year": self.fiscal_year_id,
            "lines": [line.encoded() for line in self.lines],
            "narration": self.narration,
            "number": self.number,
            "organization": self.organization_id,
            "party": self.party_id,
            "position": position,
            "posted_at": timestamp_text(self.posted_at) if self.posted_at else None,
            "posted_by": self.posted_by_id,
            "previous": previous,
            "reference": self.reference,
            "reversal_of": self.reversal_of_id,
            "version": CHAIN_VERSION,
            "voucher": self.voucher_id,
            "voucher_type": self.voucher_type_id,
        }

    def encoded(self, *, position: int, previous: str) -> bytes:
        """The canonical encoding (see the module's docstring) at a place in the chain."""
        document = self._document(position=position, previous=previous)
        return _canonical_json(document).encode("utf-8")

    def encoded_around(self, keys: Sequence[str]) -> list[str]:
        """The canonical encoding as text, cut around the values of `keys` (in the order they
        come in the encoding, which is sorted): len(keys) + 1 pieces, between which the JSON of
        each key's value goes. Posting on PostgreSQL hashes in the database, where the number,
        the place in the chain and the voucher's id are taken."""
        document = self._document(position=None, previous=None)
        if list(keys) != sorted(keys) or not set(keys) <= document.keys():
            raise ValueError(f"not keys of the encoding in its order: {keys}")
        document.update(dict.fromkeys(keys))
        rest = _canonical_json(document)
        pieces = []
        for key in keys:
            # `"key":null` is the member itself: inside a JSON string every quote is escaped.
            before, found, rest = rest.partition(f'"{key}":null')
            assert found, key
            pieces.append(f'{before}"{key}":')
        return [*pieces, rest]


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(content: ChainContent, *, position: int, previous: str) -> str:
    """The SHA-256 (hex) of a voucher's canonical encoding at a place in the chain."""
    return hashlib.sha256(content.encoded(position=position, previous=previous)).hexdigest()


def ledger_rows_in_order(rows: Iterable[Sequence[Any]]) -> list[ChainLine]:
    """Ledger rows as (id, line order, account, debit, credit, party, description), in the
    chain's order: line order, then row id."""
    return [
        ChainLine(
            order=row[1],
            account_id=row[2],
            debit=row[3],
            credit=row[4],
            party_id=row[5],
            description=row[6],
        )
        for row in sorted(rows, key=lambda row: (row[1], row[0]))
    ]


@cache
def _head_take_sql() -> str:
    table = connection.ops.quote_name(LedgerChainHead._meta.db_table)
    return (
        f"UPDATE {table} SET last_position = last_position + 1"
        " WHERE organization_id = %s RETURNING last_position, last_hash"
    )


@cache
def _head_set_sql() -> str:
    table = connection.ops.quote_name(LedgerChainHead._meta.db_table)
    return f"UPDATE {table} SET last_hash = %s WHERE organization_id = %s"


@cache
def _link_save_sql() -> str:
    table = connection.ops.quote_name(Voucher._meta.db_table)
    return (
        f"UPDATE {table} SET chain_position = %s, chain_previous = %s, chain_hash = %s"
        " WHERE id = %s"
    )


def _head_take(organization_id: int) -> tuple[int, str] | None:
    with connection.cursor() as cursor:
        cursor.execute(_head_take_sql(), [organization_id])
        row = cursor.fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


def chain_append(*, voucher: Voucher, lines: Sequence[ChainLine]) -> None:
    """Gives a voucher being posted the next place in its organization's chain.

    Runs inside the posting transaction, after the voucher and its counter are locked: one
    `UPDATE … SET last_position = last_position + 1 … RETURNING` locks the organization's chain
    head and reads the place and the previous hash (a concurrent poster of the organization
    waits on that lock until this transaction ends, then reads what it wrote), and one UPDATE
    moves the head to the new hash. Sets the voucher's chain fields; the caller stores them.
    `lines` are the ledger rows just written, in the chain's order.
    """
    assert transaction.get_connection().in_atomic_block, "chain_append needs a transaction"
    head = _head_take(voucher.organization_id)
    if head is None:
        # Heads are made with the organization (and by the migration for older ones); one
        # missing is made on first use, by whichever concurrent poster gets there first.
        try:
            with transaction.atomic():
                LedgerChainHead.objects.create(organization_id=voucher.organization_id)
        except IntegrityError:
            pass
        head = _head_take(voucher.organization_id)
        assert head is not None
    position, previous = head
    digest = chain_hash(ChainContent.of(voucher, lines), position=position, previous=previous)
    voucher.chain_position, voucher.chain_previous, voucher.chain_hash = position, previous, digest
    with connection.cursor() as cursor:
        cursor.execute(_head_set_sql(), [digest, voucher.organization_id])


def chain_link_save(voucher: Voucher) -> None:
    """Stores the chain fields `chain_append` set, on a voucher already written as posted."""
    with connection.cursor() as cursor:
        cursor.execute(
            _link_save_sql(),
            [voucher.chain_position, voucher.chain_previous, voucher.chain_hash, voucher.pk],
        )
