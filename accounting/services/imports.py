"""Importing vouchers from JSON or CSV files: every voucher checked, then all written or none."""

from __future__ import annotations

import csv
import io
import json
import re
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
    Voucher,
    VoucherLine,
    VoucherType,
)
from accounting.services.entering import EntryAction, EntryRefused, EntryWorkflow, voucher_enter
from accounting.services.inputs import LineInput, User, VoucherInput
from accounting.services.checks import (
    AccountFacts,
    LineFacts,
    Problem,
    VoucherRejected,
    line_problems,
    parse_amount,
    period_problems,
)

CSV_COLUMNS = (
    "reference",
    "type",
    "date",
    "narration",
    "account",
    "debit",
    "credit",
    "description",
    "party",
)
CSV_REQUIRED_COLUMNS = ("reference", "type", "date", "account", "debit", "credit")
JSON_VOUCHER_KEYS = ("type", "date", "reference", "narration", "party", "lines")
JSON_LINE_KEYS = ("account", "debit", "credit", "description", "party")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Column widths of the stored fields, checked here so a long value is reported, not a crash.
REFERENCE_MAX = Voucher._meta.get_field("reference").max_length or 100
DESCRIPTION_MAX = VoucherLine._meta.get_field("description").max_length or 255


@dataclass(frozen=True)
class ImportProblem:
    """One reason the file was refused, with where in the file it was found."""

    where: str  # "voucher 3 (reference INV-7) line 2", "row 14 (reference INV-7)", "file"
    message: str
    voucher: int | None = None  # 1-based position of the voucher in the file
    line: int | None = None  # 1-based line of that voucher
    row: int | None = None  # CSV row, the header being row 1

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


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


# What the file says, before any code is looked up.


@dataclass
class _LineSource:
    where: str
    account: Any
    debit: Any
    credit: Any
    description: Any = ""
    party: Any = None
    row: int | None = None
    readable: bool = True


@dataclass
class _VoucherSource:
    position: int
    where: str
    type: Any
    date: Any
    reference: Any = ""
    narration: Any = ""
    party: Any = None
    lines: list[_LineSource] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    readable: bool = True

    def problem(self, message: str) -> ImportProblem:
        return ImportProblem(self.where, message, voucher=self.position, row=_first(self.rows))

    def line_problem(self, line: int, message: str) -> ImportProblem:
        source = self.lines[line - 1]
        return ImportProblem(
            source.where, message, voucher=self.position, line=line, row=source.row
        )


def _first(rows: Sequence[int]) -> int | None:
    return rows[0] if rows else None


def _rows_label(rows: Sequence[int]) -> str:
    """5, 6, 7, 9 → "rows 5–7, 9"."""
    if len(rows) == 1:
        return f"row {rows[0]}"
    spans: list[list[int]] = []
    for row in sorted(rows):
        if spans and row == spans[-1][1] + 1:
            spans[-1][1] = row
        else:
            spans.append([row, row])
    return "rows " + ", ".join(f"{a}–{b}" if a != b else str(a) for a, b in spans)


def _with_reference(label: str, reference: Any) -> str:
    return f"{label} (reference {reference})" if isinstance(reference, str) and reference else label


def _read_json(text: str) -> tuple[list[_VoucherSource], list[ImportProblem]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [ImportProblem("file", f"is not valid JSON: {exc}")]
    if not isinstance(document, dict) or not isinstance(document.get("vouchers"), list):
        return [], [ImportProblem("file", 'must be a JSON object with a "vouchers" list')]
    vouchers = []
    for position, raw in enumerate(document["vouchers"], start=1):
        if not isinstance(raw, dict):
            where = f"voucher {position}"
            source = _VoucherSource(position, where, None, None, readable=False)
            source.problems.append(source.problem("must be an object with type, date and lines"))
            vouchers.append(source)
            continue
        label = _with_reference(f"voucher {position}", raw.get("reference"))
        source = _VoucherSource(
            position=position,
            where=label,
            type=raw.get("type"),
            date=raw.get("date"),
            reference=raw.get("reference", ""),
            narration=raw.get("narration", ""),
            party=raw.get("party"),
        )
        unknown = sorted(set(raw) - set(JSON_VOUCHER_KEYS))
        if unknown:
            source.problems.append(
                source.problem(
                    f"unknown field(s) {', '.join(unknown)}; "
                    f"allowed: {', '.join(JSON_VOUCHER_KEYS)}"
                )
            )
        raw_lines = raw.get("lines")
        if not isinstance(raw_lines, list):
            source.problems.append(source.problem('"lines" must be a list of lines'))
            vouchers.append(source)
            continue
        for number, raw_line in enumerate(raw_lines, start=1):
            where = f"{label} line {number}"
            if not isinstance(raw_line, dict):
                source.lines.append(_LineSource(where, None, None, None, readable=False))
                source.problems.append(
                    source.line_problem(number, "must be an object with account and an amount")
                )
                continue
            source.lines.append(
                _LineSource(
                    where,
                    account=raw_line.get("account"),
                    debit=raw_line.get("debit"),
                    credit=raw_line.get("credit"),
                    description=raw_line.get("description", ""),
                    party=raw_line.get("party"),
                )
            )
            unknown = sorted(set(raw_line) - set(JSON_LINE_KEYS))
            if unknown:
                source.problems.append(
                    source.line_problem(
                        number,
                        f"unknown field(s) {', '.join(unknown)}; "
                        f"allowed: {', '.join(JSON_LINE_KEYS)}",
                    )
                )
        vouchers.append(source)
    return vouchers, []


def _read_csv(text: str) -> tuple[list[_VoucherSource], list[ImportProblem]]:
    reader = csv.reader(io.StringIO(text))
    header = [name.strip().lower() for name in next(reader, [])]
    missing = [name for name in CSV_REQUIRED_COLUMNS if name not in header]
    unknown = [name for name in header if name not in CSV_COLUMNS]
    repeated = sorted({name for name in header if header.count(name) > 1})
    problems = []
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s): {', '.join(unknown)}")
    if repeated:
        problems.append(f"repeated column(s): {', '.join(repeated)}")
    if problems:
        allowed = (
            f"; the columns are {', '.join(CSV_COLUMNS)} (narration, description, party optional)"
        )
        return [], [ImportProblem("row 1", p + allowed, row=1) for p in problems]
    by_reference: dict[str, _VoucherSource] = {}
    vouchers: list[_VoucherSource] = []
    loose: list[ImportProblem] = []
    for row_number, values in enumerate(reader, start=2):
        if not any(value.strip() for value in values):
            continue
        if len(values) != len(header):
            loose.append(
                ImportProblem(
                    f"row {row_number}",
                    f"has {len(values)} values; the header has {len(header)} columns",
                    row=row_number,
                )
            )
            continue
        row = dict(zip(header, (value.strip() for value in values), strict=True))
        reference = row["reference"]
        if not reference:
            loose.append(
                ImportProblem(
                    f"row {row_number}",
                    "reference is empty; rows are grouped into vouchers by reference",
                    row=row_number,
                )
            )
            continue
        source = by_reference.get(reference)
        if source is None:
            source = _VoucherSource(
                position=len(vouchers) + 1,
                where="",
                type=row["type"],
                date=row["date"],
                reference=reference,
                narration=row.get("narration", ""),
            )
            by_reference[reference] = source
            vouchers.append(source)
        else:
            for column in ("type", "date", "narration"):
                value, earlier = row.get(column, ""), getattr(source, column)
                if value and not earlier:
                    setattr(source, column, value)
                elif value and value != earlier:
                    source.problems.append(
                        ImportProblem(
                            _with_reference(f"row {row_number}", reference),
                            f"{column} '{value}' differs from '{earlier}' given earlier for "
                            "this reference; the rows of one voucher repeat its header or "
                            "leave it empty",
                            voucher=source.position,
                            row=row_number,
                        )
                    )
        source.rows.append(row_number)
        source.lines.append(
            _LineSource(
                _with_reference(f"row {row_number}", reference),
                account=row["account"],
                debit=row["debit"],
                credit=row["credit"],
                description=row.get("description", ""),
                party=row.get("party") or None,
                row=row_number,
            )
        )
    for source in vouchers:
        source.where = _with_reference(_rows_label(source.rows), source.reference)
    return vouchers, loose


def _detect_format(text: str, name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in (".json", ".csv"):
        return suffix[1:]
    return "json" if text.lstrip()[:1] in ("{", "[") else "csv"


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
        problems.append(f'{side}: {exc}; write amounts as text such as "10.50"')
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


def _voucher_input(source: _VoucherSource, books: _Books) -> VoucherInput | None:
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
    source.problems += [source.problem(message) for message in header]

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
        source.problems += [source.line_problem(number, message) for message in found]
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


def _source_text(source: Path | str | IO[str] | IO[bytes]) -> tuple[str, str]:
    if isinstance(source, str | Path):
        path = Path(source)
        return path.read_text(encoding="utf-8-sig"), path.name
    content = source.read()
    if isinstance(content, bytes):
        content = content.decode("utf-8-sig")
    return content.removeprefix("\ufeff"), str(getattr(source, "name", ""))


def vouchers_import(
    *,
    organization: Organization,
    source: Path | str | IO[str] | IO[bytes],
    post: bool,
    dry_run: bool,
    user: User = None,
    file_format: str | None = None,
) -> ImportResult:
    """Imports every voucher in a JSON or CSV file, or none of them.

    `source` is a path or an open file; the format comes from `file_format`, else the file name's
    extension, else the content. Every voucher is checked, and every problem in the file is
    collected before anything is kept: if there is one, the transaction is rolled back and
    ImportRejected lists them all. A dry run checks the same way and always rolls back.
    Raises OSError or UnicodeDecodeError when the file cannot be read.
    """
    text, name = _source_text(source)
    file_format = (file_format or _detect_format(text, name)).lower()
    if file_format not in ("json", "csv"):
        raise ImportRejected([ImportProblem("file", f"format '{file_format}' is not json or csv")])
    sources, problems = _read_json(text) if file_format == "json" else _read_csv(text)
    if not sources and not problems:
        problems.append(ImportProblem("file", "contains no vouchers"))
    membership = None
    if user is not None and user.pk:
        membership = Membership.objects.filter(organization=organization, user_id=user.pk).first()
        if membership is None:
            raise ImportRejected(
                [ImportProblem("file", f"{user} is not a member of {organization}")]
            )
    books = _Books.load(organization)
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
            try:
                if not post:
                    rule_problems = _posting_problems(voucher_input, books, organization.pk)
                    if rule_problems:
                        raise VoucherRejected(parsed.where, rule_problems)
                voucher = voucher_enter(
                    organization=organization,
                    membership=membership,
                    user=user,
                    action=EntryAction.POST if post else EntryAction.SAVE,
                    workflow=EntryWorkflow(),
                    voucher_input=voucher_input,
                ).voucher
                assert voucher is not None
            except VoucherRejected as rejected:
                parsed.problems += _located(parsed, rejected.problems)
                continue
            except EntryRefused as refused:
                parsed.problems.append(parsed.problem(refused.message))
                continue
            result.vouchers.append(
                ImportedVoucher(
                    position=parsed.position,
                    type_code=voucher_input.voucher_type.code,
                    fiscal_year_code=voucher.fiscal_year.code if voucher.fiscal_year else "",
                    number=voucher.number,
                    pk=None if dry_run else voucher.pk,
                )
            )
        problems += [problem for parsed in sources for problem in parsed.problems]
        if problems or dry_run:
            transaction.set_rollback(True)
    if problems:
        raise ImportRejected(_in_file_order(problems), vouchers_in_file=len(sources))
    return result


def _located(source: _VoucherSource, problems: Iterable[Problem]) -> list[ImportProblem]:
    located = []
    for problem in problems:
        if problem.line is not None and 1 <= problem.line <= len(source.lines):
            located.append(source.line_problem(problem.line, problem.message))
        else:
            located.append(source.problem(problem.message))
    return located


def _in_file_order(problems: Iterable[ImportProblem]) -> list[ImportProblem]:
    def key(problem: ImportProblem) -> tuple[int, int, int]:
        return (problem.row or 0, problem.voucher or 0, problem.line or 0)

    return sorted(problems, key=key)
