"""What a screen, the import or a test hands the ledger: an entered voucher and its lines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from accounting.models import ZERO, EntryChannel, VoucherType

User = AbstractBaseUser | AnonymousUser | None


@dataclass
class LineInput:
    """One entered line: an account id, one side's amount, and what else the line carries."""

    account_id: int | None
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    description: str = ""
    party_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class VoucherInput:
    """A whole entered voucher, as the forms, the import and the tests hand it over."""

    voucher_type: VoucherType
    date: date
    lines: Sequence[LineInput]
    reference: str = ""
    narration: str = ""
    party_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    entry_channel: str = EntryChannel.LEGACY
    config_version: int | None = None
    config_hash: str = ""


def data_kept(*, stored: Mapping[str, Any], entered: Mapping[str, Any]) -> dict[str, Any]:
    """What a stored voucher's `data` becomes when a screen saves it: every value the screen
    entered, and every stored value it does not show, kept as it was.

    A screen enters every key it shows (an emptied field as None or ""), so a key missing from
    `entered` is one the screen never showed: another screen, or another version of the
    configuration, took it.
    """
    return {**stored, **entered}
