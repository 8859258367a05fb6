"""First-month usage: the figures match a seeded set of vouchers exactly, the form carries
when it was opened (signed), and only a post stores how the voucher was entered."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from waffle.testutils import override_flag

from accounting.models import EntryChannel, EntryRefusal, Role, Voucher
from accounting.services.drafts import voucher_draft_create
from rollout.routing import FLAG_NAME
from support.models import EntryTiming
from support.usage import (
    OPENED_FIELD,
    POINTER_FIELD,
    entry_timing_record,
    opened_mark,
    opened_of,
    usage_rows,
    usage_window,
)
from tests.voucher_config.test_entry_helpers import entry_data, new_url, seed

USAGE = reverse("support-usage")
START = datetime(2026, 4, 1, 9, 0, tzinfo=timezone.get_current_timezone())


def voucher_at(books, channel, type_code, at, *, seconds=None, keyboard=None):
    """A voucher entered on `channel` at `at`; timed (`seconds` from opening its form to its
    post) when given. Kept a draft: a posted voucher's row cannot be changed, not even its date
    of entry, which the figures are placed by."""
    voucher = voucher_draft_create(
        organization=books.organization,
        voucher_input=books.entry(
            ("5200", "10.00", ""),
            ("1120", "", "10.00"),
            type_code=type_code,
            entry_channel=channel,
        ),
    )
    Voucher.objects.filter(pk=voucher.pk).update(created_at=at)
    if seconds is not None:
        EntryTiming.objects.create(
            voucher=voucher,
            organization=books.organization,
            channel=channel,
            voucher_type=type_code,
            opened_at=at - timedelta(seconds=seconds),
            posted_at=at,
            keyboard_only=keyboard,
        )
    return voucher


def refused(books, channel, type_code, rule, at):
    EntryRefusal.objects.create(
        organization=books.organization,
        voucher_type=books.types[type_code],
        action="post",
        channel=channel,
        rule=rule,
        message=f"refused by {rule}",
        refused_at=at,
    )


@pytest.fixture
def seeded_month(books):
    """The first config voucher on 1 April 09:00; the window ends 1 May 09:00."""
    day = timedelta(days=1)
    # Config PV: 4 timed posts of 30, 50, 70 and 200 s (median 60.0), 3 of them with pointer
    # use known: 2 keyboard only (66.7 %); and 1 untimed voucher (5 entered).
    voucher_at(books, "config", "PV", START, seconds=30, keyboard=True)
    voucher_at(books, "config", "PV", START + day, seconds=50, keyboard=True)
    voucher_at(books, "config", "PV", START + 2 * day, seconds=70, keyboard=False)
    voucher_at(books, "config", "PV", START + 3 * day, seconds=200, keyboard=None)
    voucher_at(books, "config", "PV", START + 4 * day)
    # Legacy PV: 3 timed posts of 20, 40 and 45 s (median 40.0), all by keyboard (100.0 %).
    for offset, seconds in ((1, 20), (2, 45), (3, 40)):
        voucher_at(books, "legacy", "PV", START + offset * day, seconds=seconds, keyboard=True)
    # Config RV: 2 timed posts of 10 and 15 s (median 12.5), no keyboard known.
    voucher_at(books, "config", "RV", START + 5 * day, seconds=10)
    voucher_at(books, "config", "RV", START + 6 * day, seconds=15)
    # Outside the window: before (legacy, before the first config voucher) and after.
    voucher_at(books, "legacy", "PV", START - day, seconds=999, keyboard=False)
    voucher_at(books, "config", "PV", START + 30 * day, seconds=999, keyboard=False)
    # Refusals: config PV balanced ×3, closed_period ×2, role ×1, status ×1; legacy PV status ×1.
    for rule, n in (("balanced", 3), ("closed_period", 2), ("role", 1), ("status", 1)):
        for i in range(n):
            refused(books, "config", "PV", rule, START + timedelta(hours=i + 1))
    refused(books, "legacy", "PV", "status", START + day)
    refused(books, "config", "PV", "balanced", START + 31 * day)  # after the window
    return books


def test_the_window_is_thirty_days_from_the_first_config_voucher(seeded_month):
    window = usage_window(organization=seeded_month.organization)
    assert window is not None
    assert (window.since, window.until) == (START, START + timedelta(days=30))


def test_the_figures_match_the_seeded_vouchers(seeded_month):
    organization = seeded_month.organization
    rows = usage_rows(organization=organization, window=usage_window(organization=organization))
    figures = {
        (row.voucher_type, row.channel): (
            row.entered,
            len(row.posted_timed),
            row.median_seconds,
            row.keyboard_share,
            row.top_rules,
        )
        for row in rows
    }
    assert figures == {
        ("PV", "config"): (
            5,
            4,
            Decimal("60.0"),
            Decimal("66.7"),
            [("balanced", 3), ("closed_period", 2), ("role", 1)],
        ),
        ("PV", "legacy"): (3, 3, Decimal("40.0"), Decimal("100.0"), [("status", 1)]),
        ("RV", "config"): (2, 2, Decimal("12.5"), None, []),
    }


def test_the_csv_export_holds_the_same_figures(seeded_month, client):
    client.force_login(seeded_month.member(Role.ADMIN))
    response = client.get(USAGE, {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="usage-acme.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        [
            "voucher_type",
            "channel",
            "vouchers_entered",
            "posts_timed",
            "median_seconds_open_to_post",
            "keyboard_only_percent",
            "top_refusal_rules",
        ],
        ["PV", "config", "5", "4", "60.0", "66.7", "balanced (3); closed_period (2); role (1)"],
        ["PV", "legacy", "3", "3", "40.0", "100.0", "status (1)"],
        ["RV", "config", "2", "2", "12.5", "", ""],
    ]
    page = client.get(USAGE).content.decode()
    assert "66.7 %" in page and "balanced (3)" in page


def test_usage_is_for_the_organizations_administrators_only(seeded_month, other_books, client):
    client.force_login(seeded_month.member(Role.ACCOUNTANT))
    assert client.get(USAGE).status_code == 403
    client.force_login(other_books.member(Role.ADMIN))
    response = client.get(USAGE, {"format": "csv"})
    assert response.status_code == 200
    assert response.content.decode().strip().count("\n") == 0  # the header alone
    assert "No voucher has been entered" in client.get(USAGE).content.decode()


# --- the marks an entry form carries --------------------------------------------------------


def test_the_opened_mark_is_signed_and_refused_when_forged_stale_or_future():
    now = timezone.now()
    assert opened_of({OPENED_FIELD: opened_mark(now - timedelta(seconds=42))}, now=now) == (
        now - timedelta(seconds=42)
    ).replace(microsecond=(now - timedelta(seconds=42)).microsecond)
    forged = signing.dumps((now - timedelta(seconds=5)).timestamp(), salt="another")
    assert opened_of({OPENED_FIELD: forged}, now=now) is None
    assert opened_of({OPENED_FIELD: opened_mark(now - timedelta(days=1))}, now=now) is None
    assert opened_of({OPENED_FIELD: opened_mark(now + timedelta(minutes=5))}, now=now) is None
    assert opened_of({}, now=now) is None


def marks_of(html: str) -> dict[str, str]:
    return dict(re.findall(r'name="(entry_opened|entry_pointer)" value="([^"]*)"', html))


@pytest.fixture
def accountant(books, client):
    seed(books)
    user = books.member(Role.ACCOUNTANT)
    client.force_login(user)
    return user


@pytest.mark.parametrize("pointer, keyboard_only", [("0", True), ("1", False), ("", None)])
def test_a_post_keeps_the_time_from_opening_the_form_and_the_keyboard_mark(
    books, client, accountant, pointer, keyboard_only
):
    with override_flag(FLAG_NAME, active=True):
        marks = marks_of(client.get(new_url("PV")).content.decode())
        assert set(marks) == {OPENED_FIELD, POINTER_FIELD}
        opened = opened_of(marks)
        assert opened is not None
        data = entry_data(books, "PV", action="post")
        data.update({OPENED_FIELD: marks[OPENED_FIELD], POINTER_FIELD: pointer})
        response = client.post(new_url("PV"), data)
    assert response.status_code in (200, 302)
    voucher = Voucher.objects.get()
    timing = EntryTiming.objects.get()
    assert timing.voucher == voucher
    assert (timing.channel, timing.voucher_type) == (EntryChannel.CONFIG, "PV")
    assert timing.opened_at == opened
    assert timing.posted_at == voucher.posted_at
    assert timing.keyboard_only is keyboard_only


def test_a_forged_opened_mark_stores_no_timing(books, client, accountant):
    with override_flag(FLAG_NAME, active=True):
        data = entry_data(books, "PV", action="post")
        data[OPENED_FIELD] = "1700000000.0"
        client.post(new_url("PV"), data)
    assert Voucher.objects.count() == 1
    assert EntryTiming.objects.count() == 0


def test_a_form_drawn_again_after_an_error_keeps_when_it_was_first_opened(
    books, client, accountant
):
    earlier = opened_mark(timezone.now() - timedelta(minutes=3))
    with override_flag(FLAG_NAME, active=True):
        data = entry_data(books, "PV", action="post", on="2031-06-30")  # refused by the ledger
        data.update({OPENED_FIELD: earlier, POINTER_FIELD: "1"})
        again = client.post(new_url("PV"), data)
    assert again.status_code == 422
    assert marks_of(again.content.decode()) == {OPENED_FIELD: earlier, POINTER_FIELD: "1"}


def test_a_voucher_recorded_twice_keeps_its_first_timing(books, django_assert_num_queries):
    voucher = voucher_at(books, EntryChannel.CONFIG, "PV", timezone.now())
    first = {OPENED_FIELD: opened_mark(), POINTER_FIELD: "0"}
    with django_assert_num_queries(1):
        assert entry_timing_record(voucher=voucher, channel=EntryChannel.CONFIG, data=first)
    kept = EntryTiming.objects.get()
    again = {OPENED_FIELD: opened_mark(), POINTER_FIELD: "1"}
    assert entry_timing_record(voucher=voucher, channel=EntryChannel.LEGACY, data=again)
    timing = EntryTiming.objects.get()
    assert (timing.pk, timing.opened_at, timing.channel) == (kept.pk, kept.opened_at, "config")
    assert timing.keyboard_only is True
