"""No page, choice list or report shows one organization's books to another's members."""

import pytest
from django.urls import reverse

from accounting.models import Role, Voucher, VoucherStatus
from accounting.permissions import NOT_A_MEMBER
from tests import factories
from tests.factories import UserFactory, post


def sign_in(client, books, role=Role.ACCOUNTANT):
    return factories.sign_in(client, books, role)


@pytest.fixture
def rival_voucher(other_books):
    # Distinctive figures so they can be looked for in our pages.
    return post(
        other_books,
        ("5930", "4321.09", ""),
        ("1120", "", "4321.09"),
        type_code="PV",
        narration="Rival advertising",
    )


def test_member_gets_404_for_another_organizations_voucher(client, books, rival_voucher):
    sign_in(client, books, Role.ADMIN)
    response = client.get(reverse("voucher-detail", args=[rival_voucher.pk]))
    assert response.status_code == 404
    assert "Rival advertising" not in response.content.decode()


def test_member_gets_404_when_reversing_another_organizations_voucher(client, books, rival_voucher):
    sign_in(client, books, Role.ADMIN)
    response = client.post(reverse("voucher-reverse", args=[rival_voucher.pk]))
    assert response.status_code == 404
    rival_voucher.refresh_from_db()
    assert rival_voucher.status == VoucherStatus.POSTED
    assert not Voucher.objects.filter(reversal_of=rival_voucher).exists()


def test_account_ledger_refuses_another_organizations_account(client, books, rival_voucher):
    sign_in(client, books)
    rival_account = rival_voucher.lines.get(order=1).account

    response = client.get(reverse("account-ledger"), {"account": rival_account.pk})

    assert response.status_code == 200
    assert response.context["ledger"] is None
    assert "account" in response.context["form"].errors
    html = response.content.decode()
    assert "4,321.09" not in html
    assert f'value="{rival_account.pk}"' not in html
    csv = client.get(reverse("account-ledger"), {"account": rival_account.pk, "format": "csv"})
    assert not csv["Content-Type"].startswith("text/csv")


def test_account_choices_are_only_the_organizations_own(client, books, other_books):
    sign_in(client, books)
    choices = client.get(reverse("account-ledger")).context["form"].fields["account"].queryset
    assert {a.organization_id for a in choices} == {books.organization.pk}


def test_reports_and_lists_show_only_own_data(client, books, rival_voucher):
    sign_in(client, books)
    ours = post(books, ("5200", "10.00", ""), ("1120", "", "10.00"))

    report = client.get(reverse("trial-balance"), {"as_of": "2026-12-31"}).context["report"]
    assert [(r.code, str(r.debit), str(r.credit)) for r in report.rows] == [
        ("1120", "0.00", "10.00"),
        ("5200", "10.00", "0.00"),
    ]
    csv = client.get(reverse("trial-balance"), {"as_of": "2026-12-31", "format": "csv"})
    assert b"4321.09" not in csv.content

    listing = client.get(reverse("voucher-list"))
    assert [v.pk for v in listing.context["page"].object_list] == [ours.pk]
    assert "Rival advertising" not in listing.content.decode()

    home = client.get(reverse("home"))
    assert home.context["counts"].posted == 1


def test_voucher_list_filter_choices_are_the_organizations_own(client, books, other_books):
    sign_in(client, books)
    form = client.get(reverse("voucher-list")).context["form"]
    types = form.fields["voucher_type"].queryset
    assert {t.organization_id for t in types} == {books.organization.pk}
    assert {p.organization_id for p in form.fields["party"].queryset} <= {books.organization.pk}

    rival_type = other_books.types["PV"]
    response = client.get(reverse("voucher-list"), {"voucher_type": rival_type.pk})
    assert "voucher_type" in response.context["form"].errors


def test_non_member_gets_403_on_every_page(client, books, rival_voucher):
    user = UserFactory()
    user.save()
    client.force_login(user)
    pages = [
        ("get", reverse("home")),
        ("get", reverse("trial-balance")),
        ("get", reverse("account-ledger")),
        ("get", reverse("voucher-list")),
        ("get", reverse("voucher-detail", args=[rival_voucher.pk])),
        ("post", reverse("voucher-reverse", args=[rival_voucher.pk])),
        ("post", reverse("organization-switch")),
    ]
    for method, url in pages:
        response = getattr(client, method)(url)
        assert response.status_code == 403, url
        assert NOT_A_MEMBER in response.content.decode()


def test_switching_into_another_organization_needs_a_membership(client, books, rival_voucher):
    sign_in(client, books)
    session = client.session
    # Even a session that names another organization falls back to the user's own.
    session["active_organization_id"] = rival_voucher.organization_id
    session.save()
    assert client.get(reverse("voucher-detail", args=[rival_voucher.pk])).status_code == 404
    response = client.post(
        reverse("organization-switch"), {"organization": rival_voucher.organization_id}
    )
    assert response.status_code == 404
