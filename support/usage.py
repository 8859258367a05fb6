"""How vouchers are entered in the first month: the marks an entry form carries (when it was
opened, whether a pointer was used), what is kept when one is posted, and the figures.

Opening a form writes nothing: the time it was opened travels signed in the form itself, and
only a post stores it, beside the voucher it made.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core import signing
from django.utils import timezone

from accounting.models import EntryChannel, EntryRefusal, Organization, Voucher
from support.models import EntryTiming

OPENED_FIELD = "entry_opened"
POINTER_FIELD = "entry_pointer"
_OPENED_SALT = "support.usage.opened"
# A form open longer than this was left and come back to: its time says nothing of entering.
MAX_FORM_AGE = timedelta(hours=12)
WINDOW = timedelta(days=30)
SCREEN_CHANNELS = (EntryChannel.CONFIG, EntryChannel.LEGACY)
TOP_RULES = 3


def opened_mark(now: datetime | None = None) -> str:
    """The signed value of a form's `entry_opened` field: when the form was drawn."""
    moment = now or timezone.now()
    return signing.dumps(moment.timestamp(), salt=_OPENED_SALT)


def opened_of(data: Mapping[str, Any], *, now: datetime | None = None) -> datetime | None:
    """When the posted form was first drawn, or None for a missing, forged, future or stale mark."""
    try:
        stamp = float(signing.loads(str(data.get(OPENED_FIELD, "")), salt=_OPENED_SALT))
    except (signing.BadSignature, TypeError, ValueError):
        return None
    opened = datetime.fromtimestamp(stamp, tz=timezone.get_current_timezone())
    now = now or timezone.now()
    if opened > now or now - opened > MAX_FORM_AGE:
        return None
    return opened


def keyboard_only_of(data: Mapping[str, Any]) -> bool | None:
    """Whether the form was filled without a pointer: usage.js writes "0" when the page loads
    and "1" at the first pointer press; without the script nothing is known (None)."""
    value = str(data.get(POINTER_FIELD, ""))
    return {"0": True, "1": False}.get(value)


def form_marks(data: Mapping[str, Any] | None) -> dict[str, str]:
    """The values an entry form's usage fields are drawn with: a fresh form's, or, when a
    posted form is drawn again (an error to correct), what it carried, so the time since the
    form was first opened, and a pointer once used, are kept."""
    opened = data.get(OPENED_FIELD) if data is not None else None
    if data is None or opened is None or opened_of(data) is None:
        return {"opened": opened_mark(), "pointer": ""}
    pointer = str(data.get(POINTER_FIELD, ""))
    return {"opened": str(opened), "pointer": pointer if pointer in ("0", "1") else ""}


def entry_timing_record(*, voucher: Voucher, channel: str, data: Mapping[str, Any]) -> bool:
    """Keeps how a voucher just posted from a screen was entered; nothing without a valid mark.

    The first record of a voucher is kept (a form sent again is not a second entry). One
    statement: an INSERT that leaves an existing row alone, rather than a read, then an insert
    in a transaction of its own. True when there was a mark to record.
    """
    opened = opened_of(data)
    if opened is None or channel not in SCREEN_CHANNELS:
        return False
    posted_at = voucher.posted_at or timezone.now()
    timing = EntryTiming(
        voucher=voucher,
        organization_id=voucher.organization_id,
        channel=channel,
        voucher_type=voucher.voucher_type.code,
        opened_at=min(opened, posted_at),
        posted_at=posted_at,
        keyboard_only=keyboard_only_of(data),
    )
    EntryTiming.objects.bulk_create([timing], ignore_conflicts=True)
    return True


# --- the figures -----------------------------------------------------------------------------


@dataclass(frozen=True)
class UsageWindow:
    since: datetime
    until: datetime


def usage_window(*, organization: Organization) -> UsageWindow | None:
    """The 30 days from the organization's first voucher entered on the configuration screen."""
    first = (
        Voucher.objects.filter(organization=organization, entry_channel=EntryChannel.CONFIG)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return None if first is None else UsageWindow(first, first + WINDOW)


@dataclass
class UsageRow:
    voucher_type: str
    channel: str
    entered: int = 0
    posted_timed: list[float] = field(default_factory=list)
    keyboard: int = 0
    keyboard_known: int = 0
    refusals: Counter[str] = field(default_factory=Counter)

    @property
    def median_seconds(self) -> Decimal | None:
        if not self.posted_timed:
            return None
        median = Decimal(str(statistics.median(self.posted_timed)))
        return median.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def keyboard_share(self) -> Decimal | None:
        """Keyboard-only posts among those whose pointer use is known, as a percentage."""
        if not self.keyboard_known:
            return None
        share = Decimal(self.keyboard * 100) / Decimal(self.keyboard_known)
        return share.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def top_rules(self) -> list[tuple[str, int]]:
        return sorted(self.refusals.items(), key=lambda item: (-item[1], item[0]))[:TOP_RULES]

    @property
    def top_rules_text(self) -> str:
        return "; ".join(f"{rule} ({count})" for rule, count in self.top_rules)


def usage_rows(*, organization: Organization, window: UsageWindow) -> list[UsageRow]:
    """Per voucher type and channel: vouchers entered, the median time from opening the form to
    posting, the share of keyboard-only posts and the most frequent refusal rules."""
    rows: dict[tuple[str, str], UsageRow] = {}

    def row(type_code: str, channel: str) -> UsageRow:
        key = (type_code, channel)
        if key not in rows:
            rows[key] = UsageRow(type_code, channel)
        return rows[key]

    in_window = {"organization": organization}
    entered = (
        Voucher.objects.filter(
            **in_window,
            entry_channel__in=SCREEN_CHANNELS,
            created_at__gte=window.since,
            created_at__lt=window.until,
        )
        .values_list("voucher_type__code", "entry_channel")
        .order_by()
    )
    for type_code, channel in entered:
        row(type_code, channel).entered += 1
    timings = EntryTiming.objects.filter(
        **in_window, posted_at__gte=window.since, posted_at__lt=window.until
    ).values_list("voucher_type", "channel", "opened_at", "posted_at", "keyboard_only")
    for type_code, channel, opened_at, posted_at, keyboard_only in timings:
        current = row(type_code, channel)
        current.posted_timed.append((posted_at - opened_at).total_seconds())
        if keyboard_only is not None:
            current.keyboard_known += 1
            current.keyboard += int(keyboard_only)
    refusals = EntryRefusal.objects.filter(
        **in_window, refused_at__gte=window.since, refused_at__lt=window.until
    ).values_list("voucher_type__code", "channel", "rule")
    for type_code, channel, rule in refusals:
        row(type_code, channel or "").refusals[rule] += 1
    return sorted(rows.values(), key=lambda r: (r.voucher_type, r.channel))


USAGE_CSV_HEADER: list[object] = [
    "voucher_type",
    "channel",
    "vouchers_entered",
    "posts_timed",
    "median_seconds_open_to_post",
    "keyboard_only_percent",
    "top_refusal_rules",
]


def usage_csv_rows(rows: list[UsageRow]) -> list[list[object]]:
    def shown(value: Decimal | None) -> str:
        return "" if value is None else str(value)

    return [
        USAGE_CSV_HEADER,
        *(
            [
                row.voucher_type,
                row.channel,
                row.entered,
                len(row.posted_timed),
                shown(row.median_seconds),
                shown(row.keyboard_share),
                row.top_rules_text,
            ]
            for row in rows
        ),
    ]
