"""A rule added to the ledger's entry service holds for every channel: both screens, the import
and the admin, with nothing written by any of them."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from waffle.testutils import override_flag

from accounting.entry_pages import SCREEN_FIELD, screen_mark
from accounting.models import EntryChannel, Role, Voucher
from accounting.services import entering, entry_rules
from accounting.services.entry_rules import EntryAttempt, EntryRefused
from accounting.services.imports import ImportRejected, vouchers_import
from legacy_entry.screen_forms import LegacyForms
from rollout.routing import FLAG_NAME
from tests.voucher_config.test_entry_helpers import entry_data
from voucher_config.services import seed_organization

RESERVED = "YEAR-END"


def year_end_reference_is_reserved(attempt: EntryAttempt) -> EntryRefused | None:
    entered = attempt.voucher_input
    if entered is not None and entered.reference == RESERVED:
        return EntryRefused(f"The reference {RESERVED} is reserved for closing.", rule="reserved")
    return None


@pytest.fixture
def reserved_reference_rule(monkeypatch):
    monkeypatch.setattr(
        entry_rules, "ENTRY_RULES", (*entry_rules.ENTRY_RULES, year_end_reference_is_reserved)
    )


@pytest.fixture
def accountant(books, client):
    seed_organization(organization=books.organization)
    user = books.member(Role.ACCOUNTANT)
    client.force_login(user)
    return user


def test_the_configuration_screen_refuses_what_the_rule_forbids(
    books, client, accountant, reserved_reference_rule
):
    data = entry_data(books, "PV", header={"reference": RESERVED}, action="post")
    with override_flag(FLAG_NAME, active=True):
        response = client.post(reverse("entry-new", args=["PV"]), data)
    assert response["X-Entry-Channel"] == "config"
    assert response.status_code == 403
    assert f"The reference {RESERVED} is reserved for closing." in response.content.decode()
    assert not Voucher.objects.exists()


def test_the_legacy_screen_refuses_what_the_rule_forbids(
    books, client, accountant, reserved_reference_rule
):
    data = LegacyForms.raw_data(
        type_code="PV",
        header={"date": "2026-03-15", "bank_account": "1120", "reference": RESERVED},
        lines=[{"account": "5200", "amount": "125.00"}],
    )
    data.update({"action": "post", SCREEN_FIELD: screen_mark(EntryChannel.LEGACY)})
    response = client.post(reverse("entry-new", args=["PV"]), data)
    assert response["X-Entry-Channel"] == "legacy"
    assert response.status_code == 403
    assert f"The reference {RESERVED} is reserved for closing." in response.content.decode()
    assert not Voucher.objects.exists()


@pytest.mark.parametrize("post", [True, False], ids=["posted", "as drafts"])
def test_the_import_refuses_what_the_rule_forbids(books, tmp_path, reserved_reference_rule, post):
    line = {"account": "5200", "debit": "10.00"}, {"account": "1120", "credit": "10.00"}
    vouchers = [
        {"type": "JV", "date": "2026-03-15", "reference": "OK-1", "lines": list(line)},
        {"type": "JV", "date": "2026-03-16", "reference": RESERVED, "lines": list(line)},
    ]
    path = tmp_path / "vouchers.json"
    path.write_text(json.dumps({"vouchers": vouchers}), encoding="utf-8")

    with pytest.raises(ImportRejected) as rejected:
        vouchers_import(organization=books.organization, source=path, post=post, dry_run=False)

    assert [str(p) for p in rejected.value.problems] == [
        f"voucher 2 (reference {RESERVED}): The reference {RESERVED} is reserved for closing."
    ]
    assert not Voucher.objects.exists()


def test_the_admin_writes_no_voucher_at_all(books, client, reserved_reference_rule):
    from django.contrib.auth import get_user_model

    admin_user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin_user)
    draft = entering.voucher_enter(
        organization=books.organization,
        membership=None,
        user=None,
        action="save",
        voucher_input=books.entry(("5200", "10.00", ""), ("1120", "", "10.00")),
    ).voucher
    assert draft is not None

    change = reverse("admin:accounting_voucher_change", args=[draft.pk])
    response = client.post(change, {"reference": RESERVED, "date": "2026-03-15"})
    assert response.status_code == 403
    assert client.get(reverse("admin:accounting_voucher_add")).status_code == 403
    draft.refresh_from_db()
    assert draft.reference == ""
