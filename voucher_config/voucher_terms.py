"""How the voucher page names the fields a configured type keeps in a voucher's `data`: the
labels and kinds of the configuration version the voucher was entered with (registered with the
ledger's `accounting.voucher_terms` when the app is ready)."""

from __future__ import annotations

from accounting.models import Voucher
from accounting.voucher_terms import DataTerm
from voucher_config.entry.definitions import EntryUnavailable, entry_definition_for_voucher


def configured_data_terms(voucher: Voucher) -> dict[str, DataTerm]:
    """The header fields of the voucher's configuration, in its order; none without one."""
    try:
        entry_def = entry_definition_for_voucher(voucher=voucher)
    except EntryUnavailable:
        return {}
    return {
        key: DataTerm(label=spec["label"], kind=spec["type"])
        for key, spec in entry_def.header_specs.items()
    }
