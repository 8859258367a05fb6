"""Every role against every protected entry action, on both screens: what a role may not do is
refused (403, or 404 for another organization's voucher) and changes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse
from waffle.testutils import override_flag

from accounting.entry_pages import SCREEN_FIELD, screen_mark
from accounting.models import LedgerEntry, Role, Voucher, VoucherStatus
from legacy_entry.screen_forms import LegacyForms
from rollout.routing import FLAG_NAME
from tests.factories import Books
from tests.voucher_config.test_entry_helpers import entry_data
from voucher_config.services import seed_organization

SCREENS = ["config", "legacy"]
ROLES = [Role.VIEWER, Role.CLERK, Role.ACCOUNTANT, Role.ADMIN, "outsider"]
# Who may do what: entering is a clerk's job, approving and posting an accountant's.
MAY = {
    "save": {Role.CLERK, Role.ACCOUNTANT, Role.ADMIN},
    "submit": {Role.CLERK, Role.ACCOUNTANT, Role.ADMIN},
    "post": {Role.ACCOUNTANT, Role.ADMIN},
    "approve": {Role.ACCOUNTANT, Role.ADMIN},
}


def payment(books, screen: str, action: str) -> dict[str, str]:
    if screen == "config":
        data = entry_data(books, "PV", action=action)
    else:
        data = LegacyForms.raw_data(
            type_code="PV",
            header={"date": "2026-03-15", "bank_account": "1120"},
            lines=[{"account": "5200", "amount": "125.00"}],
        )
        data["action"] = action
    return {**data, SCREEN_FIELD: screen_mark(screen)}


def sign_in_as(client, books, role):
    if role == "outsider":
        rival = Books(slug="rival")
        user = rival.member(Role.ADMIN)
    else:
        user = books.member(role)
    client.force_login(user)
    return user


def books_state() -> tuple:
    return (
        sorted(Voucher.objects.values_list("pk", "status", "updated_at")),
        LedgerEntry.objects.count(),
        Voucher.history.count(),
    )


@pytest.fixture
def seeded(books):
    seed_organization(organization=books.organization)
    return books


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ["save", "submit", "post"])
def test_entering_a_new_voucher(seeded, client, screen, role, action):
    sign_in_as(client, seeded, role)
    before = books_state()
    with override_flag(FLAG_NAME, active=screen == "config"):
        response = client.post(reverse("entry-new", args=["PV"]), payment(seeded, screen, action))

    if role == "outsider":  # served in their own organization's books, never in ours
        assert not Voucher.objects.filter(organization=seeded.organization).exists()
    elif role in MAY[action]:
        assert response.status_code == 302, response.content.decode()[:300]
        assert Voucher.objects.count() == 1
    else:
        assert response.status_code in (403, 404)
        assert books_state() == before


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ["approve", "post"])
def test_acting_on_a_submitted_voucher_that_needs_approval(seeded, client, screen, role, action):
    seeded.require_approval("PV")
    client.force_login(seeded.member(Role.CLERK))
    with override_flag(FLAG_NAME, active=screen == "config"):
        entered = client.post(reverse("entry-new", args=["PV"]), payment(seeded, screen, "submit"))
    assert entered.status_code == 302
    voucher = Voucher.objects.get()
    assert voucher.status == VoucherStatus.SUBMITTED
    sign_in_as(client, seeded, role)
    before = books_state()
    data = payment(seeded, screen, action)  # the form as the clerk submitted it
    with override_flag(FLAG_NAME, active=screen == "config"):
        response = client.post(reverse("entry-edit", args=[voucher.pk]), data)

    if action == "approve" and role in MAY["approve"]:
        assert response.status_code == 302, response.content.decode()[:300]
        assert Voucher.objects.get(pk=voucher.pk).status == VoucherStatus.APPROVED
        return
    # Posting a submitted voucher is refused to everyone: it must be approved first.
    assert response.status_code in (403, 404, 422)
    if role not in MAY[action]:
        assert response.status_code in (403, 404)
    assert books_state() == before
