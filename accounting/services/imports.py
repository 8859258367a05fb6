"""Importing vouchers from JSON or CSV files: every voucher checked, then all written or none."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.db.models import Exists, OuterRef

from accounting.models import (
    ZERO,
    Account,
    AccountingPeriod,
    EntryChannel,
    Membership,
    Organization,
    Party,
    VoucherStatus,
    VoucherType,
)
from accounting.services.checks import (
    AccountFacts,
    LineFacts,
    Problem,
    VoucherRejected,
    line_problems,
    parse_amount,
    period_problems,
)
from accounting.services.entering import voucher_enter
from accounting.services.entry_rules import EntryAction, EntryRefused
from accounting.services.import_files import (
    DESCRIPTION_MAX,
    ISO_DATE,
    REFERENCE_MAX,
    ImportProblem,
    VoucherSource,
    detect_format,
    read_csv,
    read_json,
    source_text,
)
from accounting.services.import_references import reference_problems
from accounting.services.inputs import LineInput, User, VoucherInput


class ImportRejected(Exception):
    """The file breaks one or more rules; nothing was imported."""

    def __init__(self, problems: Sequence[ImportProblem], *, vouchers_in_file: int = 0):
        self.problems = list(problems)
        self.vouchers_in_file = vouchers_in_file
        super().__init__("; ".join(str(p) for p in self.problems))

    @property
    def rejected_vouchers(self) -> int:
        return len({p.voucher for p in self.problems if p.voucher is not None})


@dataclass(frozen=True)
class ImportedVoucher:
    position: int
    type_code: str
    fiscal_year_code: str
    number: str | None  # None for a draft
    pk: int | None  # None after a dry run
    status: str = VoucherStatus.POSTED


@dataclass
class ImportResult:
    format: str
    posted: bool
    dry_run: bool
    lines: int
    vouchers: list[ImportedVoucher] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.vouchers)

    @property
    def submitted(self) -> list[ImportedVoucher]:
        """Vouchers of types that need approval: submitted for it instead of posted."""
        return [v for v in self.vouchers if v.status == VoucherStatus.SUBMITTED]

    def number_ranges(self) -> list[str]:
        """First and last number per voucher type and fiscal year, e.g. JV-2026-00001 … 00400."""
        series: dict[tuple[str, str], list[str]] = {}
        for voucher in self.vouchers:
            if voucher.number:
                series.setdefault((voucher.type_code, voucher.fiscal_year_code), []).append(
                    voucher.number
                )
        ranges = []
        for numbers in series.values():
            if len(numbers) == 1:
                ranges.append(numbers[0])
            else:
                ranges.append(f"{numbers[0]} … {numbers[-1]} ({len(numbers)})")
        return ranges


# Codes looked up once per import, each kind in one query.


@dataclass
class _Books:
    types: dict[str, VoucherType]
    accounts: dict[str, AccountFacts]
    accounts_by_id: dict[int, AccountFacts]
    parties: dict[str, tuple[int, bool]]
    period_starts: list[date]
    periods: list[AccountingPeriod]

    @classmethod
    def load(cls, organization: Organization) -> _Books:
        accounts = (
            Account.objects.filter(organization=organization)
            .annotate(is_group=Exists(Account.objects.filter(parent_id=OuterRef("pk"))))
            .values_list("id", "code", "organization_id", "is_active", "is_group")
        )
        periods = list(
            AccountingPeriod.objects.filter(fiscal_year__organization=organization)
            .select_related("fiscal_year")
            .order_by("start_date")
        )
        facts = [AccountFacts(*row) for row in accounts]
        return cls(
            types={t.code: t for t in VoucherType.objects.filter(organization=organization)},
            accounts={f.code: f for f in facts},
            accounts_by_id={f.id: f for f in facts},
            parties={
                code: (pk, active)
                for pk, code, active in Party.objects.filter(organization=organization).values_list(
                    "pk", "code", "is_active"
                )
            },
            period_starts=[p.start_date for p in periods],
            periods=periods,
        )

    def period_on(self, on: date) -> AccountingPeriod | None:
        index = bisect_right(self.period_starts, on) - 1
        if index >= 0 and self.periods[index].end_date >= on:
            return self.periods[index]
        return None


def _text(value: Any, name: str, problems: list[str], *, limit: int | None = None) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.append(f"{name} must be text")
        return ""
    value = value.strip()
    if limit is not None and len(value) > limit:
        problems.append(f"{name} is {len(value)} characters long; at most {limit} are allowed")
    return value


def _code(value: Any) -> str:
    """A code as text; a JSON number such as 1010 is read as the code "1010"."""
    if isinstance(value, bool) or value is None:
        return ""
    return str(value).strip()


def _amount(value: Any, side: str, problems: list[str]) -> Decimal:
    try:
        return parse_amount(value)
    except ValueError as exc:
        problems.append(f"{side}: {exc}")
        return ZERO


def _party(code: Any, books: _Books, problems: list[str]) -> int | None:
    if code is None or code == "":
        return None
    party = books.parties.get(_code(code))
    if party is None:
        problems.append(f"party '{code}' is not a party of this organization")
        return None
    if not party[1]:
        problems.append(f"party '{code}' is inactive")
    return party[0]


def _voucher_input(source: VoucherSource, books: _Books) -> VoucherInput | None:
    """Turns codes into ids; records what cannot be understood and returns None if anything."""
    if not source.readable:
        return None
    header: list[str] = []
    type_code = _code(source.type)
    voucher_type = books.types.get(type_code)
    if not type_code:
        header.append("type is missing")
    elif voucher_type is None:
        header.append(f"voucher type '{type_code}' is not one of {', '.join(sorted(books.types))}")
    elif not voucher_type.is_active:
        header.append(f"voucher type '{type_code}' is inactive")
    on: date | None = None
    if not isinstance(source.date, str) or not ISO_DATE.match(source.date.strip()):
        header.append(f"date '{source.date or ''}' is not a date in YYYY-MM-DD form")
    else:
        try:
            on = date.fromisoformat(source.date.strip())
        except ValueError:
            header.append(f"date '{source.date}' does not exist")
    reference = _text(source.reference, "reference", header, limit=REFERENCE_MAX)
    narration = _text(source.narration, "narration", header)
    party_id = _party(source.party, books, header)
    source.problems += [source.problem(message, rule="import_value") for message in header]

    lines = []
    for number, line in enumerate(source.lines, start=1):
        if not line.readable:
            continue
        found: list[str] = []
        account_code = _code(line.account)
        account = books.accounts.get(account_code)
        if not account_code:
            found.append("account is missing")
        elif account is None:
            found.append(f"account '{account_code}' is not an account of this organization")
        lines.append(
            LineInput(
                account_id=account.id if account else None,
                debit=_amount(line.debit, "debit", found),
                credit=_amount(line.credit, "credit", found),
                description=_text(line.description, "description", found, limit=DESCRIPTION_MAX),
                party_id=_party(line.party, books, found),
            )
        )
        source.problems += [
            source.line_problem(number, message, rule="import_value") for message in found
        ]
    if source.problems:
        return None
    assert voucher_type is not None and on is not None
    return VoucherInput(
        voucher_type=voucher_type,
        date=on,
        lines=lines,
        reference=reference,
        narration=narration,
        party_id=party_id,
        entry_channel=EntryChannel.IMPORT,
    )


def _posting_problems(
    voucher_input: VoucherInput, books: _Books, organization_id: int
) -> list[Problem]:
    """The posting checks an imported draft must already pass, from facts read once."""
    lines = [
        LineFacts(
            account_id=line.account_id,
            debit=line.debit,
            credit=line.credit,
            account=books.accounts_by_id.get(line.account_id) if line.account_id else None,
        )
        for line in voucher_input.lines
    ]
    problems = line_problems(lines, organization_id=organization_id)
    problems += period_problems(books.period_on(voucher_input.date), on=voucher_input.date)
    return problems


def vouchers_import(
    *,
    organization: Organization,
    source: Path | str | IO[str] | IO[bytes],
    post: bool,
    dry_run: bool,
    user: User = None,
    file_format: str | None = None,
    allow_duplicate_references: bool = False,
) -> ImportResult:
    """Imports every voucher in a JSON or CSV file, or none of them.

    `source` is a path or an open file; the format comes from `file_format`, else the file name's
    extension, else the content. Every voucher is checked, and every problem in the file is
    collected before anything is kept: if there is one, the transaction is rolled back and
    ImportRejected lists them all. A dry run checks the same way and always rolls back.
    A reference already used by a voucher of the same type (in the organization, or earlier in
    the file) is a problem unless `allow_duplicate_references`; so a file imported twice is
    refused the second time.
    Raises OSError or UnicodeDecodeError when the file cannot be read.
    """
    text, name = source_text(source)
    file_format = (file_format or detect_format(text, name)).lower()
    if file_format not in ("json", "csv"):
        raise ImportRejected([ImportProblem("file", f"format '{file_format}' is not json or csv")])
    sources, problems = read_json(text) if file_format == "json" else read_csv(text)
    if not sources and not problems:
        problems.append(ImportProblem("file", "contains no vouchers", rule="import_empty"))
    membership = None
    if user is not None and user.pk:
        membership = Membership.objects.filter(organization=organization, user_id=user.pk).first()
        if membership is None:
            raise ImportRejected(
                [
                    ImportProblem(
                        "file",
                        f"{user} is not a member of {organization}",
                        rule="import_membership",
                    )
                ]
            )
    books = _Books.load(organization)
    if not allow_duplicate_references:
        problems += reference_problems(
            organization=organization, sources=sources, types=books.types
        )
    inputs = [(parsed, _voucher_input(parsed, books)) for parsed in sources]

    result = ImportResult(
        format=file_format,
        posted=post,
        dry_run=dry_run,
        lines=sum(len(parsed.lines) for parsed in sources),
    )
    with transaction.atomic():
        for parsed, voucher_input in inputs:
            if voucher_input is None:
                continue
            action = _import_action(voucher_input, post=post)
            try:
                if action != EntryAction.POST:
                    rule_problems = _posting_problems(voucher_input, books, organization.pk)
                    if rule_problems:
                        raise VoucherRejected(parsed.where, rule_problems)
                voucher = voucher_enter(
                    organization=organization,
                    membership=membership,
                    user=user,
                    action=action,
                    voucher_input=voucher_input,
                ).voucher
                assert voucher is not None
            except VoucherRejected as rejected:
                parsed.problems += _located(parsed, rejected.problems)
                continue
            except EntryRefused as refused:
                parsed.problems.append(parsed.problem(refused.message, rule=refused.rule))
                continue
            result.vouchers.append(
                ImportedVoucher(
                    position=parsed.position,
                    type_code=voucher_input.voucher_type.code,
                    fiscal_year_code=voucher.fiscal_year.code if voucher.fiscal_year else "",
                    number=voucher.number,
                    pk=None if dry_run else voucher.pk,
                    status=voucher.status,
                )
            )
        problems += [problem for parsed in sources for problem in parsed.problems]
        if problems or dry_run:
            transaction.set_rollback(True)
    if problems:
        raise ImportRejected(_in_file_order(problems), vouchers_in_file=len(sources))
    return result


def _import_action(voucher_input: VoucherInput, *, post: bool) -> EntryAction:
    """Posting imports post, except a type that needs approval: its vouchers come in submitted
    for a second person to approve, never posted."""
    if not post:
        return EntryAction.SAVE
    return EntryAction.SUBMIT if voucher_input.voucher_type.requires_approval else EntryAction.POST


def _located(source: VoucherSource, problems: Iterable[Problem]) -> list[ImportProblem]:
    located = []
    for problem in problems:
        if problem.line is not None and 1 <= problem.line <= len(source.lines):
            located.append(source.line_problem(problem.line, problem.message, rule=problem.rule))
        else:
            located.append(source.problem(problem.message, rule=problem.rule))
    return located


def _in_file_order(problems: Iterable[ImportProblem]) -> list[ImportProblem]:
    def key(problem: ImportProblem) -> tuple[int, int, int]:
        return (problem.row or 0, problem.voucher or 0, problem.line or 0)

    return sorted(problems, key=key)
