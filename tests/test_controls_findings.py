"""The control findings an auditor would stop a go-live for, each tried again as it was found and
refused now, with the books unchanged. (Login throttling, the organization-scoped admin, the
tamper checks, double submits and import references have their own modules: test_login_protection,
test_admin_scoping, test_verification, test_exactly_once, test_import_references.)"""

from __future__ import annotations

import copy

import pytest
from django.urls import reverse

from accounting.entry_pages import SCREEN_FIELD, screen_mark
from accounting.models import LedgerEntry, Role, Voucher, VoucherStatus
from accounting.services.entering import voucher_enter
from legacy_entry.screen_forms import LegacyForms
from voucher_config.models import VoucherTypeConfig
from voucher_config.services import config_update, seed_organization


@pytest.fixture
def payments_need_approval(books):
    """Payment vouchers need approval, set as an administrator does: in the configuration."""
    seed_organization(organization=books.organization)
    config = VoucherTypeConfig.objects.get(organization=books.organization, voucher_type__code="PV")
    definition = copy.deepcopy(config.definition)
    definition["workflow"]["requires_approval"] = True
    config_update(config=config, definition=definition, reason="payments need approval")
    return books


def legacy_payment(action: str) -> dict[str, str]:
    data = LegacyForms.raw_data(
        type_code="PV",
        header={"date": "2026-03-15", "bank_account": "1120"},
        lines=[{"account": "5200", "amount": "125.00"}],
    )
    return {**data, "action": action, SCREEN_FIELD: screen_mark("legacy")}


def test_approval_cannot_be_skipped_through_the_legacy_screen(payments_need_approval, client):
    books = payments_need_approval
    assert books.types["PV"].__class__.objects.get(pk=books.types["PV"].pk).requires_approval
    client.force_login(books.member(Role.ADMIN))

    for url in (reverse("entry-new", args=["PV"]), reverse("legacy-entry-new", args=["PV"])):
        response = client.post(url, legacy_payment("post"))
        assert response.status_code in (405, 422)
    assert not Voucher.objects.exists()
    assert not LedgerEntry.objects.exists()


def test_one_person_cannot_enter_submit_approve_and_post_a_voucher(payments_need_approval, client):
    books = payments_need_approval
    client.force_login(books.member(Role.ADMIN))
    assert (
        client.post(reverse("entry-new", args=["PV"]), legacy_payment("submit")).status_code == 302
    )
    voucher = Voucher.objects.get()

    approve = client.post(reverse("entry-edit", args=[voucher.pk]), legacy_payment("approve"))
    post = client.post(reverse("entry-edit", args=[voucher.pk]), legacy_payment("post"))

    assert approve.status_code == 403
    assert "another person must approve it" in approve.content.decode()
    assert post.status_code in (403, 422)
    voucher.refresh_from_db()
    assert (voucher.status, voucher.approved_by, voucher.number) == ("submitted", None, None)


def test_an_approved_voucher_changed_goes_back_to_draft_and_needs_approval_again(
    payments_need_approval, client
):
    books = payments_need_approval
    clerk, approver = books.member(Role.CLERK), books.member(Role.ACCOUNTANT)
    client.force_login(clerk)
    client.post(reverse("entry-new", args=["PV"]), legacy_payment("submit"))
    voucher = Voucher.objects.get()
    client.force_login(approver)
    assert (
        client.post(reverse("entry-edit", args=[voucher.pk]), legacy_payment("approve")).status_code
        == 302
    )

    # The admin shows vouchers read-only: no change there at all.
    admin_user = books.member(Role.ADMIN)
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    change = reverse("admin:accounting_voucher_change", args=[voucher.pk])
    assert client.post(change, {"narration": "changed", "date": "2026-03-15"}).status_code == 403

    # Both screens show an approved voucher read-only; a change through the entry service (the
    # one path every channel takes) returns it to draft with its approval cleared …
    changed = voucher_enter(
        organization=books.organization,
        membership=clerk.memberships.get(),
        user=clerk,
        action="save",
        voucher=voucher,
        voucher_input=books.entry(("5200", "999.00", ""), ("1120", "", "999.00"), type_code="PV"),
    )
    assert changed.saved
    voucher.refresh_from_db()
    assert (voucher.status, voucher.approved_by, voucher.approved_at) == ("draft", None, None)

    # … and cannot be posted until a second person approves it again.
    client.force_login(approver)
    refused = client.post(reverse("entry-edit", args=[voucher.pk]), legacy_payment("post"))
    assert refused.status_code in (403, 422)
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.DRAFT
    assert not LedgerEntry.objects.exists()


def test_the_workflow_is_not_changed_in_the_admin(payments_need_approval, client):
    books = payments_need_approval
    admin_user = books.member(Role.ADMIN)
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    voucher_type = books.types["PV"]
    page = client.get(reverse("admin:accounting_vouchertype_change", args=[voucher_type.pk]))
    form_fields = page.context["adminform"].form.fields
    assert not {"requires_approval", "approver_role", "poster_role"} & set(form_fields)
