"""backup_database and restore_database, on whichever database the suite runs against."""

import pytest
from django.core.management import CommandError, call_command

from accounting.models import Voucher
from accounting.services.posting import voucher_create_posted
from tests.factories import Books


@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_brings_back_the_books(tmp_path, capsys):
    books = Books(slug="backup")
    voucher_create_posted(
        organization=books.organization,
        voucher_input=books.entry(("5200", "10.00", ""), ("1120", "", "10.00")),
    )
    target = tmp_path / "before.bak"
    call_command("backup_database", "--output", str(target))
    assert target.stat().st_size > 0
    assert f"Backup written to {target}" in capsys.readouterr().out

    voucher_create_posted(
        organization=books.organization,
        voucher_input=books.entry(("5200", "20.00", ""), ("1120", "", "20.00")),
    )
    assert Voucher.objects.count() == 2

    call_command("restore_database", str(target), "--yes")
    assert Voucher.objects.count() == 1
    assert Voucher.objects.get().number == "JV-2026-00001"


def test_restore_needs_confirmation_and_an_existing_file(db, tmp_path):
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore_database", str(tmp_path / "x.bak"))
    with pytest.raises(CommandError, match="does not exist"):
        call_command("restore_database", str(tmp_path / "x.bak"), "--yes")


def test_a_backup_inside_a_transaction_is_refused(db, tmp_path):
    with pytest.raises(CommandError, match="outside a transaction"):
        call_command("backup_database", "--output", str(tmp_path / "x.bak"))
