"""The terms a voucher's own fields (its `data`) are shown in on its page: the screen's own.

The ledger knows no entry screen. A screen that keeps fields of its own in a voucher's `data`
registers a reader of how it names them (its labels, its field kinds, its order), and the voucher
page asks here, so that it says "Paid from: 1120 Main bank account" where the screen said so,
rather than a label made from the stored key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from accounting.models import Voucher


@dataclass(frozen=True)
class DataTerm:
    """How a screen names one stored field: its label and its kind ("account", "date" …)."""

    label: str
    kind: str = "text"


TermsReader = Callable[[Voucher], Mapping[str, DataTerm]]
_readers: list[TermsReader] = []


def data_terms_reader_register(reader: TermsReader) -> None:
    """Adds a screen's reader; the first one that names a voucher's fields is used."""
    if reader not in _readers:
        _readers.append(reader)


def voucher_data_terms(*, voucher: Voucher) -> dict[str, DataTerm]:
    """The stored fields of `voucher` in its screen's order and terms; empty when no screen
    names them (labels are then made from the keys)."""
    for reader in _readers:
        terms = reader(voucher)
        if terms:
            return dict(terms)
    return {}
