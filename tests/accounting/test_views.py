"""Ledger pages: layout, home, voucher list and detail, reversal and the organization switch."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounting.middleware import SESSION_KEY
from accounting.models import Role
from accounting.services.drafts import voucher_draft_create
from tests.factories import MembershipFactory, PartyFactory, post, sign_in


def draft(books, *lines, on=date(2026, 3, 15), type_code="JV", **header):
    return voucher_draft_create(
        organization=books.organization,
        voucher_input=books.entry(*lines, type_code=type_code, on=on, **header),
    )


# Layout and home


def test_pages_need_a_login(client, books):
    for name in ["home", "trial-balance", "account-ledger", "voucher-list"]:
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_login_page_signs_a_user_in(client, books):
    user = books.member(Role.VIEWER, username="ledger-viewer")
    user.set_password("correct-horse-battery")
    user.save()
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert 'name="username"' in page.content.decode()

    response = client.post(
        reverse("login"), {"username": "ledger-viewer", "password": "correct-horse-battery"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_layout_has_nav_csrf_header_logout_form_and_no_inline_code(client, books):
    sign_in(client, books)
    html = client.get(reverse("home")).content.decode()

    assert re.search(r"<body hx-headers='\{\"x-csrftoken\": \"\w+\"\}'>", html)
    assert "/static/vendor/htmx.min.js" in html
    assert "/static/css/app.css" in html
    for name in ["home", "voucher-list", "trial-balance", "account-ledger"]:
        assert f'href="{reverse(name)}"' in html
    assert f'<form method="post" action="{reverse("logout")}"' in html
    assert 'aria-current="page">Home' in html
    assert "Acme Ltd" in html
    # A strict Content-Security-Policy comes later: no inline scripts or styles.
    assert "<style" not in html
    assert " style=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert "/admin/" not in html  # not staff


def test_admin_link_is_shown_to_staff(client, books):
    user = sign_in(client, books)
    user.is_staff = True
    user.save()
    client.force_login(user)
    assert 'href="/admin/"' in client.get(reverse("home")).content.decode()


def test_logout_is_a_post(client, books):
    sign_in(client, books)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_home_counts_drafts_and_posted_vouchers(client, books):
    sign_in(client, books)
    post(books, ("5200", "10.00", ""), ("1120", "", "10.00"))
    post(books, ("5200", "20.00", ""), ("1120", "", "20.00"))
    draft(books, ("5200", "30.00", ""), ("1120", "", "30.00"))

    response = client.get(reverse("home"))

    counts = response.context["counts"]
    assert (counts.draft, counts.posted, counts.reversed) == (1, 2, 0)
    html = response.content.decode()
    assert '<span class="tile-count">2</span> posted' in html
    assert '<span class="tile-count">1</span> draft' in html


# Voucher list


@pytest.fixture
def listed(books):
    """Vouchers of several types, dates, parties and amounts."""
    party = PartyFactory(organization=books.organization, name="Northwind")
    vouchers = {
        "rent": post(
            books,
            ("5200", "1200.00", ""),
            ("1120", "", "1200.00"),
            type_code="PV",
            on=date(2026, 2, 1),
        ),
        "sale": post(
            books,
            ("1200", "500.00", ""),
            ("4100", "", "500.00"),
            type_code="SV",
            on=date(2026, 3, 5),
            party_id=party.pk,
        ),
        "receipt": post(
            books,
            ("1120", "500.00", ""),
            ("1200", "", "500.00"),
            type_code="RV",
            on=date(2026, 3, 20),
            party_id=party.pk,
        ),
        "draft": draft(books, ("5600", "75.00", ""), ("1110", "", "75.00"), on=date(2026, 4, 1)),
    }
    return books, party, vouchers


def listed_ids(client, **params):
    response = client.get(reverse("voucher-list"), params)
    assert response.status_code == 200
    return [v.pk for v in response.context["page"].object_list]


def test_voucher_list_is_newest_first_with_totals(client, listed):
    books, _party, v = listed
    sign_in(client, books)
    response = client.get(reverse("voucher-list"))

    page = response.context["page"]
    assert [x.pk for x in page] == [v["draft"].pk, v["receipt"].pk, v["sale"].pk, v["rent"].pk]
    assert [x.total_debit for x in page] == [Decimal(a) for a in ("75", "500", "500", "1200")]
    html = response.content.decode()
    assert "PV-2026-00001" in html
    assert "1,200.00" in html
    assert f"Draft JV #{v['draft'].pk}" in html


def test_voucher_list_filters(client, listed):
    books, party, v = listed
    sign_in(client, books)

    assert listed_ids(client, voucher_type=books.types["PV"].pk) == [v["rent"].pk]
    assert listed_ids(client, status="draft") == [v["draft"].pk]
    assert listed_ids(client, date_from="2026-03-01", date_to="2026-03-31") == [
        v["receipt"].pk,
        v["sale"].pk,
    ]
    assert listed_ids(client, number="sv-2026") == [v["sale"].pk]
    assert listed_ids(client, party=party.pk) == [v["receipt"].pk, v["sale"].pk]
    assert listed_ids(client, amount_min="600") == [v["rent"].pk]
    assert listed_ids(client, amount_max="100") == [v["draft"].pk]
    assert listed_ids(client, amount_min="500", amount_max="500", status="posted") == [
        v["receipt"].pk,
        v["sale"].pk,
    ]


def test_voucher_list_reports_bad_filters_and_shows_everything(client, listed):
    books, _party, _vouchers = listed
    sign_in(client, books)
    response = client.get(
        reverse("voucher-list"),
        {"date_from": "2026-05-01", "date_to": "2026-01-01", "amount_min": "9", "amount_max": "1"},
    )
    form = response.context["form"]
    assert form.errors.keys() == {"date_to", "amount_max"}
    assert len(response.context["page"].object_list) == 4
    assert "The end date must be on or after 2026-05-01." in response.content.decode()


def test_voucher_list_paginates_fifty_a_page_in_constant_queries(
    client, books, django_assert_max_num_queries
):
    sign_in(client, books)
    for number in range(120):
        post(books, ("5500", f"{number + 1}.00", ""), ("1120", "", f"{number + 1}.00"))

    with django_assert_max_num_queries(9):
        first = client.get(reverse("voucher-list"), {"status": "posted"})
    with django_assert_max_num_queries(9):
        last = client.get(reverse("voucher-list"), {"status": "posted", "page": 3})

    assert len(first.context["page"].object_list) == 50
    assert first.context["page"].paginator.num_pages == 3
    assert len(last.context["page"].object_list) == 20
    html = first.content.decode()
    assert "?status=posted&amp;page=2" in html
    assert "Vouchers 1–50 of 120" in html


def test_voucher_list_queries_do_not_grow_with_rows(client, books, django_assert_num_queries):
    sign_in(client, books)
    post(books, ("5500", "1.00", ""), ("1120", "", "1.00"))
    client.get(reverse("voucher-list"))  # warms what every page caches (announcements)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("voucher-list"))
    party = PartyFactory(organization=books.organization)
    for _ in range(30):
        post(books, ("5500", "1.00", ""), ("1120", "", "1.00"), party_id=party.pk)
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(reverse("voucher-list"))


# Voucher detail and reversal


def test_voucher_detail_shows_header_lines_entries_and_history(client, books):
    sign_in(client, books, Role.ACCOUNTANT)
    voucher = post(
        books,
        ("5200", "1200.00", ""),
        ("1120", "", "1200.00"),
        type_code="PV",
        reference="INV-77",
        narration="March rent",
    )

    response = client.get(reverse("voucher-detail", args=[voucher.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    for text in ["PV-2026-00001", "INV-77", "March rent", "5200 Rent", "1120 Main bank account"]:
        assert text in html
    assert len(response.context["lines"]) == 2
    assert len(response.context["entries"]) == 2
    assert [record.history_type for record in response.context["history"]] == ["+"]
    assert f'href="{reverse("voucher-reverse", args=[voucher.pk])}"' in html


def test_voucher_detail_of_a_draft_has_no_entries_and_no_reverse_button(client, books):
    sign_in(client, books, Role.ACCOUNTANT)
    voucher = draft(books, ("5200", "5.00", ""), ("1120", "", "5.00"))
    html = client.get(reverse("voucher-detail", args=[voucher.pk])).content.decode()
    assert "Not numbered until posted" in html
    assert "Nothing in the ledger yet" in html
    assert "voucher-reverse" not in html and "/reverse/" not in html


def test_voucher_detail_queries_do_not_grow_with_lines(
    client, books, django_assert_max_num_queries
):
    sign_in(client, books)
    many = [("5500", "1.00", "") for _ in range(40)] + [("1120", "", "40.00")]
    voucher = post(books, *many)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("voucher-detail", args=[voucher.pk]))
    assert len(response.context["lines"]) == 41


# Organization switch


def test_member_of_two_organizations_switches_between_them(client, books, other_books):
    user = sign_in(client, books)
    MembershipFactory(user=user, organization=other_books.organization, role=Role.VIEWER)
    post(other_books, ("5200", "7.00", ""), ("1120", "", "7.00"))

    html = client.get(reverse("home")).content.decode()
    assert 'name="organization"' in html  # the switcher
    assert client.get(reverse("home")).context["organization"] == books.organization

    response = client.post(
        reverse("organization-switch"),
        {"organization": other_books.organization.pk, "next": reverse("trial-balance")},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("trial-balance")
    assert client.session[SESSION_KEY] == other_books.organization.pk
    listing = client.get(reverse("voucher-list"))
    assert listing.context["organization"] == other_books.organization
    assert len(listing.context["page"].object_list) == 1


def test_switch_ignores_an_unsafe_next_url(client, books, other_books):
    user = sign_in(client, books)
    MembershipFactory(user=user, organization=other_books.organization, role=Role.VIEWER)
    response = client.post(
        reverse("organization-switch"),
        {"organization": other_books.organization.pk, "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("home")


def test_switch_refuses_an_organization_the_user_is_not_a_member_of(client, books, other_books):
    sign_in(client, books)
    response = client.post(
        reverse("organization-switch"), {"organization": other_books.organization.pk}
    )
    assert response.status_code == 404
    assert SESSION_KEY not in client.session
    assert client.post(reverse("organization-switch"), {"organization": "x"}).status_code == 404
    assert client.get(reverse("organization-switch")).status_code == 405


def test_single_organization_member_sees_no_switcher(client, books):
    sign_in(client, books)
    html = client.get(reverse("home")).content.decode()
    assert 'name="organization"' not in html
    assert '<span class="organization-name">Acme Ltd</span>' in html
