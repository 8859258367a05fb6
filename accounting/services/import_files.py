"""Reading an import file, JSON or CSV, into vouchers as the file states them, with every problem
of form found on the way and where in the file it is (voucher, line, row)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from accounting.models import Voucher, VoucherLine

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
    rule: str = "import_format"  # the rule broken, explained in accounting/services/refusals.py

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


# What the file says, before any code is looked up.


@dataclass
class LineSource:
    where: str
    account: Any
    debit: Any
    credit: Any
    description: Any = ""
    party: Any = None
    row: int | None = None
    readable: bool = True


@dataclass
class VoucherSource:
    position: int
    where: str
    type: Any
    date: Any
    reference: Any = ""
    narration: Any = ""
    party: Any = None
    lines: list[LineSource] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    readable: bool = True

    def problem(self, message: str, *, rule: str = "import_format") -> ImportProblem:
        return ImportProblem(
            self.where, message, voucher=self.position, row=_first(self.rows), rule=rule
        )

    def line_problem(
        self, line: int, message: str, *, rule: str = "import_format"
    ) -> ImportProblem:
        source = self.lines[line - 1]
        return ImportProblem(
            source.where, message, voucher=self.position, line=line, row=source.row, rule=rule
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


# A voucher file nests five levels (the document, "vouchers", a voucher, "lines", a line); deeper
# is a wrong value somewhere, and far deeper would exhaust the parser's stack.
JSON_MAX_DEPTH = 20
JSON_TOO_DEEP = (
    f"the JSON is nested too deeply (more than {JSON_MAX_DEPTH} levels); a voucher file is an "
    'object with a "vouchers" list of objects, each with a "lines" list of objects'
)


def _nested_deeper_than(document: Any, limit: int) -> bool:
    """Whether lists and objects in `document` nest deeper than `limit`, found without
    recursion."""
    pending: list[tuple[Any, int]] = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


def read_json(text: str) -> tuple[list[VoucherSource], list[ImportProblem]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [ImportProblem("file", f"is not valid JSON: {exc}")]
    except RecursionError:
        return [], [ImportProblem("file", JSON_TOO_DEEP)]
    if _nested_deeper_than(document, JSON_MAX_DEPTH):
        return [], [ImportProblem("file", JSON_TOO_DEEP)]
    if not isinstance(document, dict) or not isinstance(document.get("vouchers"), list):
        return [], [ImportProblem("file", 'must be a JSON object with a "vouchers" list')]
    vouchers = []
    for position, raw in enumerate(document["vouchers"], start=1):
        if not isinstance(raw, dict):
            where = f"voucher {position}"
            source = VoucherSource(position, where, None, None, readable=False)
            source.problems.append(source.problem("must be an object with type, date and lines"))
            vouchers.append(source)
            continue
        label = _with_reference(f"voucher {position}", raw.get("reference"))
        source = VoucherSource(
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
                source.lines.append(LineSource(where, None, None, None, readable=False))
                source.problems.append(
                    source.line_problem(number, "must be an object with account and an amount")
                )
                continue
            source.lines.append(
                LineSource(
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


def read_csv(text: str) -> tuple[list[VoucherSource], list[ImportProblem]]:
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
    by_reference: dict[str, VoucherSource] = {}
    vouchers: list[VoucherSource] = []
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
            source = VoucherSource(
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
            LineSource(
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


def detect_format(text: str, name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in (".json", ".csv"):
        return suffix[1:]
    return "json" if text.lstrip()[:1] in ("{", "[") else "csv"


def source_text(source: Path | str | IO[str] | IO[bytes]) -> tuple[str, str]:
    if isinstance(source, str | Path):
        path = Path(source)
        return path.read_text(encoding="utf-8-sig"), path.name
    content = source.read()
    if isinstance(content, bytes):
        content = content.decode("utf-8-sig")
    return content.removeprefix("\ufeff"), str(getattr(source, "name", ""))
