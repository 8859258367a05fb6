"""The admin: every ledger model loads, posted vouchers and ledger rows cannot be changed."""

from datetime import date

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounting.models import (
    Account,
    LedgerEntry,
    Party,
    Voucher,
    VoucherSequence,
    VoucherStatus,
)
from accounting.services.drafts import voucher_draft_create
from accounting.services.posting import voucher_create_posted, voucher_post
from tests.factories import PartyFactory, UserFactory


@pytest.fixture
def superuser_client(client, db):
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    user.save()
    client.force_login(user)
    return client


@pytest.fixture
def ledger(books):
    PartyFactory(organization=books.organization)
    books.member()
    posted = voucher_create_posted(
        organization=books.organization,
        voucher_input=books.entry(("5200", "100.00", ""), ("1120", "", "100.00"), type_code="PV"),
    )
    draft = voucher_draft_create(
        organization=books.organization,
        voucher_input=books.entry(
            ("5300", "40.00", ""), ("1120", "", "40.00"), on=date(2026, 3, 1)
        ),
    )
    return books, posted, draft


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def ledger_models():
    return [
        model
        for model in apps.get_app_config("accounting").get_models()
        if not model.__name__.startswith("Historical")
    ]


def test_every_ledger_model_is_registered():
    assert [m for m in ledger_models() if m not in admin.site._registry] == []


def test_changelists_and_change_pages_load_for_a_superuser(superuser_client, ledger):
    for model in ledger_models():
        response = superuser_client.get(admin_url(model, "changelist"))
        assert response.status_code == 200, model
        instance = model._default_manager.first()
        if instance is not None:
            response = superuser_client.get(admin_url(model, "change", instance.pk))
            assert response.status_code == 200, model
            if hasattr(model, "history"):
                response = superuser_client.get(admin_url(model, "history", instance.pk))
                assert response.status_code == 200, model


def test_changelist_search_and_filters_work(superuser_client, ledger):
    _books, posted, _draft = ledger
    response = superuser_client.get(admin_url(Voucher, "changelist"), {"q": posted.number})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [posted]
    response = superuser_client.get(admin_url(LedgerEntry, "changelist"), {"q": posted.number})
    assert response.context["cl"].result_count == 2


def test_posted_voucher_is_read_only_in_the_admin(superuser_client, ledger):
    _books, posted, _draft = ledger
    url = admin_url(Voucher, "change", posted.pk)

    page = superuser_client.get(url)
    assert page.context["has_change_permission"] is False
    assert page.context["has_delete_permission"] is False
    assert 'name="_save"' not in page.content.decode()

    response = superuser_client.post(url, {"narration": "changed", "date": "2026-03-16"})
    assert response.status_code == 403
    posted.refresh_from_db()
    assert posted.narration == ""
    assert superuser_client.post(admin_url(Voucher, "delete", posted.pk)).status_code == 403


def test_lines_of_a_posted_voucher_are_read_only(superuser_client, ledger):
    _books, posted, _draft = ledger
    line = posted.lines.first()
    page = superuser_client.get(admin_url(type(line), "change", line.pk))
    assert page.context["has_change_permission"] is False
    assert superuser_client.get(admin_url(type(line), "add")).status_code == 403


def test_a_draft_is_shown_but_changed_only_through_the_entry_service(superuser_client, ledger):
    _books, _posted, draft = ledger
    url = admin_url(Voucher, "change", draft.pk)
    page = superuser_client.get(url)
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert (
        superuser_client.post(url, {"narration": "changed", "date": "2026-03-16"}).status_code
        == 403
    )
    assert superuser_client.post(admin_url(Voucher, "delete", draft.pk)).status_code == 403
    assert superuser_client.get(admin_url(Voucher, "add")).status_code == 403
    draft.refresh_from_db()
    assert draft.narration == ""


def test_bulk_delete_is_not_offered_for_vouchers(superuser_client, ledger):
    page = superuser_client.get(admin_url(Voucher, "changelist"))
    assert page.status_code == 200
    assert "delete_selected" not in page.content.decode()


def test_ledger_entries_cannot_be_added_changed_or_deleted(superuser_client, ledger):
    entry = LedgerEntry.objects.first()
    assert superuser_client.get(admin_url(LedgerEntry, "add")).status_code == 403
    page = superuser_client.get(admin_url(LedgerEntry, "change", entry.pk))
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    response = superuser_client.post(admin_url(LedgerEntry, "change", entry.pk), {"debit": "1"})
    assert response.status_code == 403
    assert superuser_client.post(admin_url(LedgerEntry, "delete", entry.pk)).status_code == 403


@pytest.mark.parametrize("revert_disabled_everywhere", [True, False])
def test_a_posted_voucher_cannot_be_reverted_to_its_draft_version(
    superuser_client, ledger, settings, revert_disabled_everywhere
):
    settings.SIMPLE_HISTORY_REVERT_DISABLED = revert_disabled_everywhere
    _books, _posted, draft = ledger
    voucher_post(voucher=draft, user=None)
    draft_version = Voucher.history.filter(id=draft.pk, status=VoucherStatus.DRAFT).first()
    url = reverse(
        "admin:accounting_voucher_simple_history", args=[draft.pk, draft_version.history_id]
    )

    page = superuser_client.get(url)
    assert page.status_code == 200
    assert page.context["revert_disabled"] is True

    response = superuser_client.post(url, {"narration": "", "date": "2026-03-01"})
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.status == VoucherStatus.POSTED
    assert LedgerEntry.objects.filter(voucher=draft).count() == 2


def test_a_draft_cannot_be_reverted_even_where_reverting_is_enabled(
    superuser_client, ledger, settings
):
    settings.SIMPLE_HISTORY_REVERT_DISABLED = False
    _books, _posted, draft = ledger
    first = Voucher.history.filter(id=draft.pk).earliest("history_date")
    url = reverse("admin:accounting_voucher_simple_history", args=[draft.pk, first.history_id])
    assert superuser_client.get(url).context["revert_disabled"] is True
    assert superuser_client.post(url, {"narration": "x", "date": "2026-03-01"}).status_code == 403


def test_voucher_counters_are_read_only(superuser_client, ledger):
    sequence = VoucherSequence.objects.first()
    page = superuser_client.get(admin_url(VoucherSequence, "change", sequence.pk))
    assert page.context["has_change_permission"] is False
    assert superuser_client.get(admin_url(VoucherSequence, "add")).status_code == 403


def test_admin_is_closed_to_non_staff(client, books):
    user = books.member()
    user.save()
    client.force_login(user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302


@pytest.mark.parametrize("code", ["11\n00", '="1"', "11 00"])
def test_an_account_code_outside_the_allowed_characters_is_refused_naming_it(
    superuser_client, books, code
):
    before = Account.objects.count()
    response = superuser_client.post(
        admin_url(Account, "add"),
        {
            "organization": books.organization.pk,
            "code": code,
            "name": "Odd",
            "account_type": "expense",
            "subtype": "",
            "is_active": "on",
        },
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["code"]
    assert errors == [
        f"Code {code!r} is not allowed: use letters (A-Z, a-z), digits 0-9, '.', '-' and "
        "'/' only, 1 to 20 characters."
    ]
    assert Account.objects.count() == before


def test_a_party_code_outside_the_allowed_characters_is_refused(superuser_client, books):
    response = superuser_client.post(
        admin_url(Party, "add"),
        {
            "organization": books.organization.pk,
            "code": "@C1",
            "name": "Odd",
            "role": "customer",
            "control_account": books.account("1200").pk,
            "is_active": "on",
        },
    )

    assert "Code &#x27;@C1&#x27; is not allowed" in response.content.decode()
    assert not Party.objects.exists()


def test_model_validation_refuses_a_bad_code_and_accepts_a_plain_one(books):
    account = Account(organization=books.organization, code="9/1\n", name="X", account_type="asset")
    with pytest.raises(ValidationError) as refused:
        account.full_clean()
    assert list(refused.value.message_dict) == ["code"]

    account.code = "9.1-A/B"
    account.full_clean()
