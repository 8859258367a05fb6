"""The ledger records what it refused from an entry screen — each rule with its message — after
the refused entry rolled back, whichever screen sent it; opening a page records nothing."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from waffle.testutils import override_flag

from accounting.entry_pages import SCREEN_FIELD, screen_mark
from accounting.models import (
    EntryChannel,
    EntryRefusal,
    LedgerEntry,
    Membership,
    Role,
    Voucher,
)
from accounting.services.checks import VoucherRejected
from accounting.services.entering import voucher_enter
from accounting.services.entry_rules import EntryAction, EntryRefused
from legacy_entry.screen_forms import LegacyForms
from rollout.routing import FLAG_NAME
from support.models import EntryTiming
from tests.voucher_config.test_entry_helpers import entry_data, new_url, seed


def unbalanced(books, channel):
    return books.entry(
        ("5200", "10.00", ""), ("1120", "", "9.00"), type_code="JV", entry_channel=channel
    )


@pytest.mark.parametrize("channel", [EntryChannel.CONFIG, EntryChannel.LEGACY])
def test_a_refused_post_is_recorded_with_its_rule_and_nothing_is_posted(books, channel):
    user = books.member(Role.ACCOUNTANT)
    membership = Membership.objects.get(user=user)
    with pytest.raises(VoucherRejected):
        voucher_enter(
            organization=books.organization,
            membership=membership,
            user=user,
            action=EntryAction.POST,
            voucher_input=unbalanced(books, channel),
        )
    assert Voucher.objects.count() == 0 and LedgerEntry.objects.count() == 0
    refusal = EntryRefusal.objects.get()
    assert refusal.rule == "balanced"
    assert "balance" in refusal.message
    assert (refusal.user, refusal.organization, refusal.channel) == (
        user,
        books.organization,
        channel,
    )
    assert (refusal.action, refusal.voucher_type.code) == ("post", "JV")


def test_a_refusal_by_role_is_recorded_too(books):
    user = books.member(Role.VIEWER)
    with pytest.raises(EntryRefused):
        voucher_enter(
            organization=books.organization,
            membership=Membership.objects.get(user=user),
            user=user,
            action=EntryAction.SAVE,
            voucher_input=books.entry(
                ("5200", "10.00", ""), ("1120", "", "10.00"), entry_channel=EntryChannel.CONFIG
            ),
        )
    assert list(EntryRefusal.objects.values_list("rule", "action")) == [("role", "save")]


def test_an_import_reports_its_own_refusals_and_records_none(books):
    with pytest.raises(VoucherRejected):
        voucher_enter(
            organization=books.organization,
            membership=None,
            user=None,
            action=EntryAction.POST,
            voucher_input=unbalanced(books, EntryChannel.IMPORT),
        )
    assert EntryRefusal.objects.count() == 0


@pytest.fixture
def accountant(books, client):
    seed(books)
    user = books.member(Role.ACCOUNTANT)
    client.force_login(user)
    return user


def test_the_config_screen_records_a_refused_post_through_the_ledger(books, client, accountant):
    with override_flag(FLAG_NAME, active=True):
        # A date outside every fiscal year: the ledger refuses the post.
        data = entry_data(books, "PV", action="post", on="2031-06-30")
        response = client.post(new_url("PV"), data)
    assert response.status_code == 422
    assert response["X-Entry-Channel"] == "config"
    assert set(EntryRefusal.objects.values_list("channel", "action", "user")) == {
        ("config", "post", accountant.pk)
    }
    assert Voucher.objects.count() == 0


def test_the_legacy_screen_records_a_refused_post_through_the_ledger(books, client, accountant):
    lines = [{"account": "5200", "debit": "100.00"}, {"account": "2300", "credit": "99.99"}]
    data = LegacyForms.raw_data(type_code="JV", header={"date": "2026-03-15"}, lines=lines)
    data.update({"action": "post", SCREEN_FIELD: screen_mark(EntryChannel.LEGACY)})
    with override_flag(FLAG_NAME, active=False):
        response = client.post(new_url("JV"), data)
    assert response.status_code == 422
    assert response["X-Entry-Channel"] == "legacy"
    refusal = EntryRefusal.objects.get()
    assert (refusal.channel, refusal.action, refusal.rule) == ("legacy", "post", "balanced")
    assert "debits 100.00 ≠ credits 99.99" in refusal.message
    assert Voucher.objects.count() == 0


@pytest.mark.parametrize("config_screen", [True, False], ids=["config", "legacy"])
def test_opening_an_entry_page_writes_no_refusal_and_no_timing(
    books, client, accountant, config_screen
):
    with override_flag(FLAG_NAME, active=config_screen):
        client.get(new_url("PV"))  # warm
        with CaptureQueriesContext(connection) as captured:
            assert client.get(new_url("PV")).status_code == 200
    tables = ("accounting_entryrefusal", "support_")
    writes = [
        q["sql"]
        for q in captured
        if not q["sql"].lstrip().upper().startswith("SELECT") and any(t in q["sql"] for t in tables)
    ]
    assert writes == []
    assert EntryRefusal.objects.count() == 0 and EntryTiming.objects.count() == 0


def test_a_record_that_cannot_be_written_never_hides_the_refusal(books, monkeypatch, caplog):
    from django.db import DatabaseError

    def broken(*args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(EntryRefusal.objects, "bulk_create", broken)
    user = books.member(Role.ACCOUNTANT)
    with pytest.raises(VoucherRejected):
        voucher_enter(
            organization=books.organization,
            membership=Membership.objects.get(user=user),
            user=user,
            action=EntryAction.POST,
            voucher_input=unbalanced(books, EntryChannel.CONFIG),
        )
    assert "could not be recorded" in caplog.text


def test_posting_a_stored_draft_as_it_stands_is_recorded_under_its_channel(books):
    from accounting.services.drafts import voucher_draft_create

    user = books.member(Role.ACCOUNTANT)
    draft = voucher_draft_create(
        organization=books.organization,
        voucher_input=unbalanced(books, EntryChannel.LEGACY),
        user=user,
    )
    with pytest.raises(VoucherRejected):
        voucher_enter(
            organization=books.organization,
            membership=Membership.objects.get(user=user),
            user=user,
            action=EntryAction.POST,
            voucher_input=None,
            voucher=draft,
        )
    refusal = EntryRefusal.objects.get()
    assert (refusal.voucher, refusal.channel, refusal.rule) == (draft, "legacy", "balanced")
