"""cleanup_config_drafts removes only unposted vouchers entered through the configuration UI."""

from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounting.models import EntryChannel, Voucher
from accounting.services.drafts import voucher_cancel, voucher_draft_create
from accounting.services.posting import voucher_create_posted


def entry(books, channel):
    return books.entry(
        ("5200", "10.00", ""), ("1120", "", "10.00"), type_code="PV", entry_channel=channel
    )


@pytest.fixture
def mixed(books):
    org = books.organization
    config_draft = voucher_draft_create(organization=org, voucher_input=entry(books, "config"))
    cancelled = voucher_cancel(
        voucher=voucher_draft_create(organization=org, voucher_input=entry(books, "config")),
        user=None,
    )
    legacy_draft = voucher_draft_create(organization=org, voucher_input=entry(books, "legacy"))
    config_posted = voucher_create_posted(organization=org, voucher_input=entry(books, "config"))
    return config_draft, cancelled, legacy_draft, config_posted


def test_dry_run_lists_and_deletes_nothing(mixed, capsys):
    call_command("cleanup_config_drafts")
    out = capsys.readouterr().out
    assert f"draft #{mixed[0].pk} PV" in out and f"draft #{mixed[1].pk} PV" in out
    assert f"#{mixed[2].pk} " not in out and f"#{mixed[3].pk} " not in out
    assert "Dry run: 2 config-channel draft(s) would be deleted" in out
    assert Voucher.objects.count() == 4


def test_commit_deletes_only_config_channel_drafts(mixed, capsys):
    config_draft, _cancelled, legacy_draft, config_posted = mixed
    call_command("cleanup_config_drafts", "--commit")
    assert "Deleted 2 config-channel draft(s)." in capsys.readouterr().out
    assert set(Voucher.objects.values_list("pk", flat=True)) == {legacy_draft.pk, config_posted.pk}
    assert config_posted.ledger_entries.count() == 2
    assert Voucher.history.filter(id=config_draft.pk, history_type="-").exists()


def test_before_limits_to_older_drafts(mixed, capsys):
    Voucher.objects.filter(pk=mixed[0].pk).update(created_at=timezone.now() - timedelta(days=10))
    call_command(
        "cleanup_config_drafts",
        "--before",
        (date.today() - timedelta(days=1)).isoformat(),
        "--commit",
    )
    assert "Deleted 1 config-channel draft(s)." in capsys.readouterr().out
    assert not Voucher.objects.filter(pk=mixed[0].pk).exists()
    assert Voucher.objects.filter(pk=mixed[1].pk).exists()


def test_org_limits_to_one_organization(mixed, other_books, capsys):
    theirs = voucher_draft_create(
        organization=other_books.organization, voucher_input=entry(other_books, "config")
    )
    call_command("cleanup_config_drafts", "--org", "rival", "--commit")
    assert "Deleted 1 config-channel draft(s)." in capsys.readouterr().out
    assert not Voucher.objects.filter(pk=theirs.pk).exists()
    assert Voucher.objects.filter(entry_channel=EntryChannel.CONFIG).count() == 3


def test_bad_arguments_are_refused(db):
    with pytest.raises(CommandError, match="not a YYYY-MM-DD date"):
        call_command("cleanup_config_drafts", "--before", "yesterday")
    with pytest.raises(CommandError, match="No organization"):
        call_command("cleanup_config_drafts", "--org", "nobody")
