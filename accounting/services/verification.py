"""Verifying an organization's books after the fact: the hash chain recomputed from the stored
rows, and every posted voucher checked against its ledger rows and its organization.

Each voucher of the chain, in order, is put through these checks, the first that fails named:

    chain         it holds the next place (the chain is gapless from 1) and is posted or reversed
    organization  every account and party on its lines and ledger rows, and its own party,
                  belong to its organization, and its ledger rows are booked to it
    balance       its lines, and its ledger rows, sum to zero
    ledger        its ledger rows are its lines: as many, in the same order, with the same
                  accounts, amounts, parties and descriptions, on the voucher's date
    link          the previous hash it recorded is the hash of the voucher before it
    hash          what is stored of it now hashes to the hash it was given when posted
    anchor        at the place of an anchor (a place and hash recorded by an earlier run and
                  kept where the database's users cannot write), it still has that hash

then the organization as a whole:

    anchor        the chain reaches the anchor's place
    head          the chain head holds the last voucher's place and hash (nothing cut off the end)
    unchained     no posted or reversed voucher is outside the chain
    stray         no ledger row booked to the organization belongs to a voucher outside its chain

Reads are chunked: one query for the head, three per CHUNK vouchers (vouchers, their lines,
their ledger rows), one for anything beyond the head, one for vouchers outside the chain and one
for stray rows, whatever the number of vouchers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from accounting.models import (
    CHAIN_GENESIS,
    ZERO,
    LedgerChainHead,
    LedgerEntry,
    Organization,
    Voucher,
    VoucherLine,
    VoucherStatus,
)
from accounting.services.chain import ChainContent, ChainLine, chain_hash

CHUNK = 500
CHAINED_STATUSES = (VoucherStatus.POSTED, VoucherStatus.REVERSED)

_VOUCHER_FIELDS = (
    "id",
    "number",
    "status",
    "chain_position",
    "chain_previous",
    "chain_hash",
    "organization_id",
    "voucher_type_id",
    "fiscal_year_id",
    "date",
    "party_id",
    "party__organization_id",
    "reference",
    "narration",
    "reversal_of_id",
    "created_by_id",
    "posted_by_id",
    "posted_at",
    "approved_by_id",
    "approved_at",
)


@dataclass(frozen=True)
class VerificationFailure:
    """The first thing found wrong: which check, where, and why."""

    check: str
    reason: str
    voucher_id: int | None = None
    number: str | None = None
    position: int | None = None
    line: int | None = None  # 1-based, as the entry screens number lines

    def describe(self) -> str:
        if self.voucher_id is None:
            where = "the organization's chain"
        else:
            where = f"voucher {self.number or '(no number)'} (id {self.voucher_id}"
            where += f", chain position {self.position})" if self.position else ")"
        if self.line is not None:
            where += f", line {self.line}"
        return f"{where} fails the {self.check} check: {self.reason}"


@dataclass(frozen=True)
class LedgerVerification:
    """What `ledger_verify` found for one organization."""

    organization: str
    vouchers_checked: int
    last_position: int
    last_hash: str
    first_failure: VerificationFailure | None

    @property
    def ok(self) -> bool:
        return self.first_failure is None

    def summary(self) -> str:
        if self.first_failure is not None:
            return (
                f"{self.organization}: ledger verification FAILED after "
                f"{self.vouchers_checked} voucher(s): {self.first_failure.describe()}"
            )
        # The head as POSITION:HASH, the form --anchor takes.
        return (
            f"{self.organization}: {self.vouchers_checked} posted voucher(s) verified; chain "
            f"intact, head {self.last_position}:{self.last_hash}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "organization": self.organization,
            "vouchers_checked": self.vouchers_checked,
            "ok": self.ok,
            "last_position": self.last_position,
            "last_hash": self.last_hash,
            "first_failure": asdict(self.first_failure) if self.first_failure else None,
        }


def _failure(
    check: str, reason: str, voucher: dict[str, Any], line: int | None = None
) -> VerificationFailure:
    return VerificationFailure(
        check=check,
        reason=reason,
        voucher_id=voucher["id"],
        number=voucher["number"],
        position=voucher["chain_position"],
        line=line,
    )


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _short(digest: str) -> str:
    return f"{digest[:16]}…" if digest else "(none)"


def _vouchers_after(organization: Organization, position: int, end: int) -> list[dict[str, Any]]:
    return list(
        Voucher.objects.filter(
            organization=organization, chain_position__gt=position, chain_position__lte=end
        )
        .order_by("chain_position")
        .values(*_VOUCHER_FIELDS)[:CHUNK]
    )


def _lines_of(ids: Sequence[int]) -> dict[int, list[tuple[Any, ...]]]:
    grouped: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for voucher_id, *row in (
        VoucherLine.objects.filter(voucher_id__in=ids)
        .order_by("voucher_id", "order", "id")
        .values_list(
            "voucher_id",
            "order",
            "account_id",
            "account__organization_id",
            "debit",
            "credit",
            "party_id",
            "party__organization_id",
            "description",
        )
    ):
        grouped[voucher_id].append(tuple(row))
    return grouped


def _ledger_rows_of(ids: Sequence[int]) -> dict[int, list[tuple[Any, ...]]]:
    grouped: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for voucher_id, *row in (
        LedgerEntry.objects.filter(voucher_id__in=ids)
        .order_by("voucher_id", "line_order", "id")
        .values_list(
            "voucher_id",
            "line_order",
            "account_id",
            "account__organization_id",
            "debit",
            "credit",
            "party_id",
            "party__organization_id",
            "description",
            "organization_id",
            "date",
        )
    ):
        grouped[voucher_id].append(tuple(row))
    return grouped


# The columns of a line, and of a ledger row's first nine, as _lines_of and _ledger_rows_of read
# them.
ORDER, ACCOUNT, ACCOUNT_ORG, DEBIT, CREDIT, PARTY, PARTY_ORG, DESCRIPTION = range(8)
BOOKED_TO, DATE = 8, 9


def _organization_check(
    voucher: dict[str, Any], lines: list[tuple[Any, ...]], rows: list[tuple[Any, ...]]
) -> VerificationFailure | None:
    own = voucher["organization_id"]
    if voucher["party_id"] is not None and voucher["party__organization_id"] != own:
        return _failure(
            "organization",
            f"its party {voucher['party_id']} belongs to another organization "
            f"(id {voucher['party__organization_id']})",
            voucher,
        )
    for kind, entries in (("line", lines), ("ledger row", rows)):
        for number, entry in enumerate(entries, start=1):
            if entry[ACCOUNT_ORG] != own:
                return _failure(
                    "organization",
                    f"its {kind} names account {entry[ACCOUNT]}, which belongs to another "
                    f"organization (id {entry[ACCOUNT_ORG]})",
                    voucher,
                    number,
                )
            if entry[PARTY] is not None and entry[PARTY_ORG] != own:
                return _failure(
                    "organization",
                    f"its {kind} names party {entry[PARTY]}, which belongs to another "
                    f"organization (id {entry[PARTY_ORG]})",
                    voucher,
                    number,
                )
            if kind == "ledger row" and entry[BOOKED_TO] != own:
                return _failure(
                    "organization",
                    f"its ledger row is booked to another organization (id {entry[BOOKED_TO]})",
                    voucher,
                    number,
                )
    return None


def _balance_check(
    voucher: dict[str, Any], lines: list[tuple[Any, ...]], rows: list[tuple[Any, ...]]
) -> VerificationFailure | None:
    for kind, entries in (("lines", lines), ("ledger rows", rows)):
        debits = sum((Decimal(e[DEBIT]) for e in entries), ZERO)
        credits = sum((Decimal(e[CREDIT]) for e in entries), ZERO)
        if debits != credits:
            return _failure(
                "balance",
                f"its {kind} do not balance: debits {debits}, credits {credits}",
                voucher,
            )
    return None


_COMPARED = (
    ("order", ORDER),
    ("account", ACCOUNT),
    ("debit", DEBIT),
    ("credit", CREDIT),
    ("description", DESCRIPTION),
)


def _ledger_check(
    voucher: dict[str, Any], lines: list[tuple[Any, ...]], rows: list[tuple[Any, ...]]
) -> VerificationFailure | None:
    if len(rows) != len(lines):
        return _failure(
            "ledger", f"it has {len(rows)} ledger row(s) for {len(lines)} line(s)", voucher
        )
    for number, (line, row) in enumerate(zip(lines, rows, strict=True), start=1):
        for name, column in _COMPARED:
            if row[column] != line[column]:
                return _failure(
                    "ledger",
                    f"its ledger row has {name} {_shown(row[column])} where the line has "
                    f"{_shown(line[column])}",
                    voucher,
                    number,
                )
        party = line[PARTY] if line[PARTY] is not None else voucher["party_id"]
        if row[PARTY] != party:
            return _failure(
                "ledger",
                f"its ledger row names party {row[PARTY]} where the line (or voucher) names "
                f"{party}",
                voucher,
                number,
            )
        if row[DATE] != voucher["date"]:
            return _failure(
                "ledger",
                f"its ledger row is dated {row[DATE]}, the voucher {voucher['date']}",
                voucher,
                number,
            )
    return None


def _content(voucher: dict[str, Any], rows: list[tuple[Any, ...]]) -> ChainContent:
    return ChainContent(
        organization_id=voucher["organization_id"],
        voucher_id=voucher["id"],
        voucher_type_id=voucher["voucher_type_id"],
        number=voucher["number"],
        fiscal_year_id=voucher["fiscal_year_id"],
        date=voucher["date"],
        party_id=voucher["party_id"],
        reference=voucher["reference"],
        narration=voucher["narration"],
        reversal_of_id=voucher["reversal_of_id"],
        created_by_id=voucher["created_by_id"],
        posted_by_id=voucher["posted_by_id"],
        posted_at=voucher["posted_at"],
        approved_by_id=voucher["approved_by_id"],
        approved_at=voucher["approved_at"],
        lines=tuple(
            ChainLine(
                order=row[ORDER],
                account_id=row[ACCOUNT],
                debit=row[DEBIT],
                credit=row[CREDIT],
                party_id=row[PARTY],
                description=row[DESCRIPTION],
            )
            for row in rows
        ),
    )


def _voucher_check(
    voucher: dict[str, Any],
    lines: list[tuple[Any, ...]],
    rows: list[tuple[Any, ...]],
    *,
    before: dict[str, Any] | None,
) -> VerificationFailure | None:
    """The first check the voucher fails, in the order the module lists, or None."""
    position = voucher["chain_position"]
    expected = before["chain_position"] + 1 if before else 1
    if position != expected:
        return _failure(
            "chain",
            f"it holds place {position} where place {expected} was expected: the voucher at "
            f"place {expected} is missing or was moved",
            voucher,
        )
    if voucher["status"] not in CHAINED_STATUSES:
        return _failure(
            "chain",
            f"it is {voucher['status']} yet holds place {position} of the chain: a posted "
            "voucher's status was changed",
            voucher,
        )
    failure = (
        _organization_check(voucher, lines, rows)
        or _balance_check(voucher, lines, rows)
        or _ledger_check(voucher, lines, rows)
    )
    if failure is not None:
        return failure
    previous = before["chain_hash"] if before else CHAIN_GENESIS
    if voucher["chain_previous"] != previous:
        holder = f"the voucher before it ({before['number']})" if before else "the chain's start"
        return _failure(
            "link",
            f"it was chained to {_short(voucher['chain_previous'])}, but {holder} now has "
            f"{_short(previous)}: that voucher or its hash was changed after this one was posted",
            voucher,
        )
    recomputed = chain_hash(_content(voucher, rows), position=position, previous=previous)
    if recomputed != voucher["chain_hash"]:
        return _failure(
            "hash",
            f"its stored rows hash to {_short(recomputed)}, not to the "
            f"{_short(voucher['chain_hash'])} it was given when posted: its header, who posted "
            "or approved it and when, or its ledger rows were changed after posting",
            voucher,
        )
    return None


def _head_of(organization: Organization) -> tuple[int, str] | None:
    return (
        LedgerChainHead.objects.filter(organization=organization)
        .values_list("last_position", "last_hash")
        .first()
    )


def _head_failure(
    organization: Organization, head: tuple[int, str] | None, last: dict[str, Any] | None
) -> VerificationFailure | None:
    """Whether the chain ends where its head says, and nothing lies beyond the head."""
    end = (last["chain_position"], last["chain_hash"]) if last else (0, CHAIN_GENESIS)
    if head is None and last is None:
        head = (0, CHAIN_GENESIS)  # an organization that never posted may have no head yet
    if head != end:
        shown = f"at place {head[0]} ({_short(head[1])})" if head else "missing"
        reason = (
            f"the chain head is {shown} but the chain ends at place {end[0]} "
            f"({_short(end[1])}): vouchers were removed from its end, or the head was moved"
        )
        return _failure("head", reason, last) if last else VerificationFailure("head", reason)
    beyond = (
        Voucher.objects.filter(organization=organization, chain_position__gt=end[0])
        .order_by("chain_position")
        .values(*_VOUCHER_FIELDS)
        .first()
    )
    if beyond is None:
        return None
    # A voucher posted since the head was read has moved the head past it by now.
    moved = _head_of(organization)
    if moved is None or moved[0] < beyond["chain_position"]:
        return _failure(
            "head",
            f"it holds place {beyond['chain_position']}, beyond the chain head "
            f"({moved[0] if moved else 'missing'}): the head was moved back",
            beyond,
        )
    return None


def _organization_failure(organization: Organization) -> VerificationFailure | None:
    """Posted vouchers outside the chain, and ledger rows of vouchers outside it."""
    unchained = (
        Voucher.objects.filter(
            organization=organization,
            status__in=CHAINED_STATUSES,
            chain_position__isnull=True,
        )
        .order_by("id")
        .values(*_VOUCHER_FIELDS)
        .first()
    )
    if unchained is not None:
        return _failure(
            "unchained",
            f"it is {unchained['status']} but has no place in the chain: it was posted around "
            "the posting service, or its link was removed",
            unchained,
        )
    stray = (
        LedgerEntry.objects.filter(organization=organization)
        .exclude(voucher__organization=organization, voucher__chain_position__isnull=False)
        .order_by("voucher_id", "line_order", "id")
        .values("id", "voucher_id", "voucher__number", "voucher__chain_position")
        .first()
    )
    if stray is not None:
        return VerificationFailure(
            check="stray",
            reason=f"ledger row {stray['id']} is booked to this organization, but its voucher "
            "is not in the organization's chain",
            voucher_id=stray["voucher_id"],
            number=stray["voucher__number"],
            position=stray["voucher__chain_position"],
        )
    return None


def _anchor_failure(
    voucher: dict[str, Any], anchor: tuple[int, str] | None
) -> VerificationFailure | None:
    if (
        anchor is None
        or voucher["chain_position"] != anchor[0]
        or voucher["chain_hash"] == anchor[1]
    ):
        return None
    return _failure(
        "anchor",
        f"it has {_short(voucher['chain_hash'])} where the anchor recorded {_short(anchor[1])}: "
        "the chain was rewritten, consistently, at or before this place since the anchor was taken",
        voucher,
    )


def ledger_verify(
    *, organization: Organization, anchor: tuple[int, str] | None = None
) -> LedgerVerification:
    """Recomputes an organization's chain from the stored rows and checks every posted voucher,
    stopping at the first failure. Read-only, and safe while others post: the chain is read up
    to the head as it was at the start, which everything posted before then has reached.

    A hash chain shows a change to one voucher, but not a chain rewritten from that voucher on
    by someone who recomputed every later hash; `anchor`, the (position, hash) an earlier run
    reported and kept out of the database's reach, shows that too.
    """
    head = _head_of(organization)
    end = head[0] if head else 0
    checked = 0
    before: dict[str, Any] | None = None
    failure: VerificationFailure | None = None
    while failure is None:
        vouchers = _vouchers_after(organization, before["chain_position"] if before else 0, end)
        if not vouchers:
            break
        ids = [v["id"] for v in vouchers]
        lines, rows = _lines_of(ids), _ledger_rows_of(ids)
        for voucher in vouchers:
            checked += 1
            failure = _voucher_check(
                voucher, lines.get(voucher["id"], []), rows.get(voucher["id"], []), before=before
            ) or _anchor_failure(voucher, anchor)
            if failure is not None:
                break
            before = voucher
        if len(vouchers) < CHUNK:
            break
    reached = before["chain_position"] if before else 0
    if failure is None and anchor is not None and anchor[0] > reached:
        failure = VerificationFailure(
            check="anchor",
            reason=f"the chain ends at place {reached}, before the anchor's place {anchor[0]}: "
            "vouchers were removed from its end",
        )
    if failure is None:
        failure = _head_failure(organization, head, before) or _organization_failure(organization)
    return LedgerVerification(
        organization=organization.slug,
        vouchers_checked=checked,
        last_position=reached,
        last_hash=before["chain_hash"] if before else CHAIN_GENESIS,
        first_failure=failure,
    )
