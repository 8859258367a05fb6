"""Reversing a posted voucher: a confirmation page with date and reason, then one posting that
goes through every check; a reversal is not reversed, a voucher not reversed twice."""

from datetime import date

import pytest
from django.urls import reverse

from accounting.models import LedgerEntry, Organization, Role, Voucher, VoucherStatus
from accounting.services.checks import VoucherRejected
from accounting.services.organizations import period_set_closed
from accounting.services.posting import voucher_reverse
from accounting.services.voucher_types import voucher_type_workflow_set
from tests.factories import post, sign_in


def ledger_state(organization: Organization) -> tuple:
    """What a refused reversal must leave as it was."""
    return (
        list(Voucher.objects.order_by("pk").values_list("pk", "status", "number", "narration")),
        LedgerEntry.objects.count(),
        Voucher.history.count(),  # type: ignore[attr-defined]
    )


@pytest.fixture
def posted(books):
    return post(books, ("5200", "5.00", ""), ("1120", "", "5.00"), on=date(2026, 3, 15))


def test_the_confirmation_page_asks_for_a_date_and_a_reason(client, books, posted):
    sign_in(client, books, Role.ACCOUNTANT)
    before = ledger_state(books.organization)

    response = client.get(reverse("voucher-reverse", args=[posted.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="reason"' in html and 'name="date"' in html
    assert response.context["form"].initial["date"] == date(2026, 3, 15)
    assert ledger_state(books.organization) == before


def test_the_default_date_is_today_when_the_original_period_is_closed(client, books, posted):
    sign_in(client, books, Role.ACCOUNTANT)
    period_set_closed(period=books.fiscal_year.periods.get(number=3), closed=True)

    response = client.get(reverse("voucher-reverse", args=[posted.pk]))

    assert response.context["form"].initial["date"] != date(2026, 3, 15)


def test_accountant_posts_a_reversal_with_its_date_and_reason(client, books, posted):
    user = sign_in(client, books, Role.ACCOUNTANT)

    response = client.post(
        reverse("voucher-reverse", args=[posted.pk]),
        {"date": "2026-04-02", "reason": "entered twice"},
        follow=True,
    )

    posted.refresh_from_db()
    assert posted.status == VoucherStatus.REVERSED
    reversal = Voucher.objects.get(reversal_of=posted)
    assert reversal.date == date(2026, 4, 2)
    assert reversal.narration == "Reversal of JV-2026-00001: entered twice"
    assert reversal.posted_by == user
    assert reversal.chain_hash  # posted through the chain like any voucher
    assert response.redirect_chain[-1][0] == reverse("voucher-detail", args=[reversal.pk])
    assert "JV-2026-00001 is reversed by JV-2026-00002." in response.content.decode()
    assert [(e.debit, e.credit) for e in reversal.ledger_entries.order_by("line_order")] == [
        (0, 5),
        (5, 0),
    ]


def test_a_reason_is_required_and_nothing_is_written_without_it(client, books, posted):
    sign_in(client, books, Role.ACCOUNTANT)
    before = ledger_state(books.organization)

    response = client.post(
        reverse("voucher-reverse", args=[posted.pk]), {"date": "2026-03-15", "reason": " "}
    )

    assert response.status_code == 400
    assert ledger_state(books.organization) == before


def test_the_service_refuses_a_blank_reason(books, posted):
    before = ledger_state(books.organization)
    with pytest.raises(VoucherRejected) as caught:
        voucher_reverse(voucher=posted, user=None, reason="  ")
    assert caught.value.rules == {"reversal_reason"}
    assert ledger_state(books.organization) == before


def test_a_reversal_cannot_be_reversed(client, books, posted):
    reversal = voucher_reverse(voucher=posted, user=None, reason="wrong month")
    before = ledger_state(books.organization)

    with pytest.raises(VoucherRejected) as caught:
        voucher_reverse(voucher=reversal, user=None, reason="undo the undo")
    assert caught.value.rules == {"reversal_of_reversal"}

    sign_in(client, books, Role.ACCOUNTANT)
    page = client.get(reverse("voucher-detail", args=[reversal.pk])).content.decode()
    assert "/reverse/" not in page
    confirmation = client.get(reverse("voucher-reverse", args=[reversal.pk])).content.decode()
    assert "is itself a reversal" in confirmation and 'name="reason"' not in confirmation
    response = client.post(
        reverse("voucher-reverse", args=[reversal.pk]),
        {"date": "2026-03-15", "reason": "undo the undo"},
    )
    assert response.status_code == 400
    assert "is itself a reversal" in response.content.decode()
    assert ledger_state(books.organization) == before


def test_a_voucher_is_reversed_once(client, books, posted):
    voucher_reverse(voucher=posted, user=None, reason="entered twice")
    before = ledger_state(books.organization)

    with pytest.raises(VoucherRejected) as caught:
        voucher_reverse(voucher=posted, user=None, reason="again")
    assert caught.value.rules == {"reversed_twice"}
    assert "is already reversed by JV-2026-00002" in caught.value.messages[0]

    sign_in(client, books, Role.ACCOUNTANT)
    response = client.post(
        reverse("voucher-reverse", args=[posted.pk]), {"date": "2026-03-15", "reason": "again"}
    )
    assert response.status_code == 400
    assert ledger_state(books.organization) == before


def test_a_reversal_into_a_closed_period_is_refused(client, books, posted):
    sign_in(client, books, Role.ACCOUNTANT)
    period_set_closed(period=books.fiscal_year.periods.get(number=3), closed=True)
    before = ledger_state(books.organization)

    response = client.post(
        reverse("voucher-reverse", args=[posted.pk]), {"date": "2026-03-20", "reason": "typo"}
    )

    assert response.status_code == 400
    assert "closed" in response.content.decode()
    assert ledger_state(books.organization) == before


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CLERK])
def test_who_may_not_reverse_sees_no_button_and_is_refused(client, books, posted, role):
    sign_in(client, books, role)
    assert (
        "/reverse/" not in client.get(reverse("voucher-detail", args=[posted.pk])).content.decode()
    )
    before = ledger_state(books.organization)

    assert client.get(reverse("voucher-reverse", args=[posted.pk])).status_code == 403
    response = client.post(
        reverse("voucher-reverse", args=[posted.pk]), {"date": "2026-03-15", "reason": "typo"}
    )

    assert response.status_code == 403
    assert ledger_state(books.organization) == before


def test_a_clerk_reverses_when_the_type_lets_clerks_post(client, books, posted):
    voucher_type_workflow_set(voucher_type=books.types["JV"], poster_role=Role.CLERK)
    sign_in(client, books, Role.CLERK)

    response = client.post(
        reverse("voucher-reverse", args=[posted.pk]), {"date": "2026-03-15", "reason": "typo"}
    )

    assert response.status_code == 302
    assert Voucher.objects.filter(reversal_of=posted).exists()


def test_the_reversal_date_may_be_typed_in_the_organization_format(client, books, posted):
    books.organization.date_format = "%d/%m/%Y"
    books.organization.save()
    sign_in(client, books, Role.ACCOUNTANT)

    client.post(
        reverse("voucher-reverse", args=[posted.pk]), {"date": "03/04/2026", "reason": "typo"}
    )

    assert Voucher.objects.get(reversal_of=posted).date == date(2026, 4, 3)
