"""Writing CSV for spreadsheets, the one way every export does it (web downloads and commands):
text a spreadsheet would run as a formula is neutralised, numbers stay numbers."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# A plain decimal number, such as an amount or a balance: "-12.50" is data, not a formula.
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)
# What a download's file name keeps; anything else (a newline in a code) becomes "-".
_FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class TextOut(Protocol):
    def write(self, text: str, /) -> Any: ...


def spreadsheet_safe(cell: object) -> str:
    """The cell as text, with a leading ' when a spreadsheet would otherwise run it as a formula
    (OWASP's advice); numbers are left as they are."""
    text = "" if cell is None else str(cell)
    if text.startswith(FORMULA_PREFIXES) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_rows_write(
    rows: Iterable[Sequence[object]], out: TextOut, *, lineterminator: str = "\r\n"
) -> None:
    """Writes rows to `out` as CSV, every cell through `spreadsheet_safe`."""
    writer = csv.writer(out, lineterminator=lineterminator)
    writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)


def download_filename(*parts: str, extension: str = "csv") -> str:
    """A file name for a Content-Disposition header: `parts` joined by "-", keeping only letters,
    digits, ".", "_" and "-", so that no code or slug (a newline in one) can break the header."""
    cleaned = [_FILENAME_UNSAFE.sub("-", part).strip("-") for part in parts]
    return "-".join(part for part in cleaned if part) + f".{extension}"
