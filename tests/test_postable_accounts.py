"""One rule for the accounts an entry may name — the organization's active accounts that are not
groups, narrowed by the field's filter — read by every screen, search and lookup from
`accounting.selectors.postable_accounts`; reports still offer inactive accounts."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from waffle.testutils import override_flag

from accounting.models import Account, AccountSubtype, AccountType, Role
from accounting.selectors import active_parties, postable_accounts, report_accounts
from legacy_entry.screen_forms import LegacyForms
from rollout.routing import FLAG_NAME
from tests.factories import AccountFactory, PartyFactory, sign_in
from voucher_config.form_factory import EntryLookups
from voucher_config.services import seed_organization


@pytest.fixture
def closed_rent(books) -> Account:
    """5200 Rent, closed: it keeps its history but takes no new entries."""
    rent = books.account("5200")
    rent.is_active = False
    rent.save()
    return rent


def codes(accounts) -> list[str]:
    return [account.code for account in accounts]


def test_postable_accounts_are_active_non_group_accounts_of_the_organization(
    books, other_books, closed_rent
):
    AccountFactory(organization=other_books.organization, code="5999")
    postable = codes(postable_accounts(organization=books.organization))
    assert "5200" not in postable  # inactive
    assert "5000" not in postable and "1100" not in postable  # groups
    assert "5999" not in postable  # another organization's
    assert "5300" in postable


def test_a_fields_filter_narrows_them_by_type_and_subtype(books):
    banks = postable_accounts(organization=books.organization, subtypes=[AccountSubtype.BANK])
    assert codes(banks) == ["1120", "1130"]
    income = postable_accounts(organization=books.organization, account_types=[AccountType.INCOME])
    assert {a.account_type for a in income} == {AccountType.INCOME}


def test_reports_still_offer_a_closed_account(books, closed_rent):
    assert "5200" in codes(report_accounts(organization=books.organization))


def test_active_parties_fit_the_role_asked_for(books, parties):
    dormant = PartyFactory(organization=books.organization, code="C999", is_active=False)
    customers = active_parties(organization=books.organization, role="customer")
    assert [p.code for p in customers] == ["C001"]
    assert dormant.code not in [p.code for p in active_parties(organization=books.organization)]


def test_the_legacy_screen_offers_and_accepts_only_postable_accounts(books, client, closed_rent):
    sign_in(client, books, Role.ACCOUNTANT)
    page = client.get(reverse("legacy-entry-new", args=["JV"])).content.decode()
    offered = set(re.findall(r'<option value="(\d{4})"', page))
    assert "5300" in offered and "5200" not in offered and "5000" not in offered

    legacy = LegacyForms(
        organization=books.organization,
        type_code="JV",
        data=LegacyForms.raw_data(
            type_code="JV",
            header={"date": "2026-03-15"},
            lines=[{"account": "5200", "debit": "1.00"}, {"account": "1120", "credit": "1.00"}],
        ),
    )
    assert not legacy.is_valid()


def test_the_configuration_screen_searches_and_accepts_only_postable_accounts(
    books, client, closed_rent
):
    seed_organization(organization=books.organization)
    sign_in(client, books, Role.ACCOUNTANT)
    with override_flag(FLAG_NAME, active=True):
        response = client.get(
            reverse("entry-account-search", args=["JV"]),
            {"field": "account", "section": "line", "q": "5"},
            headers={"HX-Request": "true"},
        )
    found = re.findall(r'data-code="([^"]+)"', response.content.decode())
    assert "5300" in found and "5200" not in found and "5000" not in found
    assert "5200" not in EntryLookups(books.organization).accounts
