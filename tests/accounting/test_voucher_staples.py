"""Beside saving: duplicate a voucher, cancel or delete a draft (asked first, audited), the
posted balance beside a field, and the voucher page printed as a document."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from accounting.models import LedgerEntry, Role, Voucher, VoucherLine, VoucherStatus
from accounting.services.drafts import voucher_draft_create, voucher_submit
from tests.factories import post, sign_in
from voucher_config.services import seed_organization


def state() -> tuple:
    return (
        list(Voucher.objects.order_by("pk").values_list("pk", "status")),
        VoucherLine.objects.count(),
        LedgerEntry.objects.count(),
        Voucher.history.count(),  # type: ignore[attr-defined]
    )


@pytest.fixture
def draft(books):
    return voucher_draft_create(
        organization=books.organization,
        voucher_input=books.entry(
            ("5200", "5.00", ""), ("1120", "", "5.00"), narration="Stamps", reference="R-1"
        ),
    )


# Duplicate


def test_duplicate_makes_a_draft_dated_today_and_opens_it(client, books):
    user = sign_in(client, books, Role.CLERK)
    original = post(
        books, ("5200", "5.00", ""), ("1120", "", "5.00"), narration="Stamps", reference="R-1"
    )

    response = client.post(reverse("voucher-duplicate", args=[original.pk]))

    copy = Voucher.objects.exclude(pk=original.pk).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("entry-edit", args=[copy.pk])
    assert copy.status == VoucherStatus.DRAFT
    assert copy.date == timezone.localdate()
    assert (copy.narration, copy.reference, copy.created_by) == ("Stamps", "R-1", user)
    assert list(copy.lines.order_by("order").values_list("account__code", "debit", "credit")) == [
        ("5200", 5, 0),
        ("1120", 0, 5),
    ]


def test_a_viewer_cannot_duplicate(client, books, draft):
    sign_in(client, books, Role.VIEWER)
    before = state()
    assert client.post(reverse("voucher-duplicate", args=[draft.pk])).status_code == 403
    assert state() == before


def test_the_voucher_page_offers_duplicate_cancel_and_delete(client, books, draft):
    sign_in(client, books, Role.CLERK)
    html = client.get(reverse("voucher-detail", args=[draft.pk])).content.decode()
    for name in ("voucher-duplicate", "voucher-cancel", "voucher-delete"):
        assert reverse(name, args=[draft.pk]) in html


# Cancel and delete


def test_cancel_asks_first_then_cancels_with_a_history_row(client, books, draft):
    sign_in(client, books, Role.CLERK)
    before = state()

    page = client.get(reverse("voucher-cancel", args=[draft.pk]))
    assert page.status_code == 200 and "Cancelling keeps" in page.content.decode()
    assert state() == before

    response = client.post(reverse("voucher-cancel", args=[draft.pk]))

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == VoucherStatus.CANCELLED
    assert draft.history.first().status == VoucherStatus.CANCELLED


def test_delete_removes_a_draft_never_submitted_and_keeps_a_history_row(client, books, draft):
    user = sign_in(client, books, Role.CLERK)
    pk = draft.pk

    assert "Deleting removes" in client.get(reverse("voucher-delete", args=[pk])).content.decode()
    response = client.post(reverse("voucher-delete", args=[pk]))

    assert response.status_code == 302
    assert not Voucher.objects.filter(pk=pk).exists()
    assert not VoucherLine.objects.filter(voucher_id=pk).exists()
    deleted = Voucher.history.filter(id=pk).order_by("-history_id").first()  # type: ignore[attr-defined]
    assert (deleted.history_type, deleted.history_user) == ("-", user)


def test_a_draft_once_submitted_cannot_be_deleted(client, books, draft):
    clerk = sign_in(client, books, Role.CLERK)
    voucher_submit(voucher=draft, user=clerk)
    # Saving it again sends it back to draft: it was still submitted once.
    Voucher.objects.filter(pk=draft.pk).update(status=VoucherStatus.DRAFT)
    before = state()

    response = client.post(reverse("voucher-delete", args=[draft.pk]))

    assert response.status_code == 400
    assert "cancel it instead" in response.content.decode()
    assert state() == before


def test_a_posted_voucher_cannot_be_cancelled_or_deleted(client, books):
    sign_in(client, books, Role.ADMIN)
    posted = post(books, ("5200", "5.00", ""), ("1120", "", "5.00"))
    before = state()
    assert client.post(reverse("voucher-cancel", args=[posted.pk])).status_code in (400, 403)
    assert client.post(reverse("voucher-delete", args=[posted.pk])).status_code in (400, 403)
    assert state() == before


def test_a_viewer_cannot_cancel_or_delete(client, books, draft):
    sign_in(client, books, Role.VIEWER)
    before = state()
    assert client.post(reverse("voucher-cancel", args=[draft.pk])).status_code == 403
    assert client.post(reverse("voucher-delete", args=[draft.pk])).status_code == 403
    assert state() == before


# The posted balance beside a field


@pytest.fixture
def balances(books):
    seed_organization(organization=books.organization)
    post(books, ("1120", "12340.00", ""), ("3100", "", "12340.00"), on=date(2026, 3, 1))
    post(books, ("5200", "40.00", ""), ("1120", "", "40.00"), on=date(2026, 3, 20))
    return books


def test_the_balance_of_an_account_on_the_voucher_date(
    client, balances, django_assert_max_num_queries
):
    sign_in(client, balances, Role.CLERK)
    url = reverse("entry-balance", args=["PV"])

    with django_assert_max_num_queries(8):
        response = client.get(url, {"account": "1120", "date": "2026-03-15"})

    assert response.status_code == 200
    assert response.content.decode() == "Balance on 2026-03-15: 12,340.00 Dr"
    later = client.get(url, {"account": "1120", "date": "2026-03-31"}).content.decode()
    assert later == "Balance on 2026-03-31: 12,300.00 Dr"
    capital = client.get(url, {"account": "3100", "date": "2026-03-31"}).content.decode()
    assert capital == "Balance on 2026-03-31: 12,340.00 Cr"


def test_the_balance_of_a_party(client, balances, parties):
    sign_in(client, balances, Role.CLERK)
    post(
        balances,
        ("5200", "15.00", ""),
        ("2100", "", "15.00"),
        on=date(2026, 3, 2),
        party_id=parties["supplier"].pk,
    )
    response = client.get(
        reverse("entry-balance", args=["PV"]), {"party": "S001", "date": "2026-03-15"}
    )
    assert response.content.decode() == "Balance on 2026-03-15: 15.00 Cr"


def test_the_balance_asks_for_one_account_or_party(client, balances):
    sign_in(client, balances, Role.CLERK)
    url = reverse("entry-balance", args=["PV"])
    assert client.get(url, {"date": "2026-03-15"}).status_code == 400
    assert client.get(url, {"account": "9999"}).status_code == 404


def test_the_balance_is_refused_to_a_non_member(client, balances, other_books):
    sign_in(client, other_books, Role.ADMIN)
    response = client.get(reverse("entry-balance", args=["PV"]), {"account": "1120"})
    assert response.status_code in (403, 404)
    assert "12,340.00" not in response.content.decode()


# Print


def test_the_voucher_page_has_a_print_stylesheet(client, books, draft):
    sign_in(client, books, Role.VIEWER)
    html = client.get(reverse("voucher-detail", args=[draft.pk])).content.decode()
    assert 'css/print.css" media="print"' in html
