"""How pages name a voucher (its status said once) and write dates (the organization's format)."""

from datetime import date

import pytest
from django.urls import reverse

from accounting.dates import date_format_active, date_show
from accounting.forms import TrialBalanceForm
from accounting.models import DateFormat, Role
from accounting.services.drafts import voucher_draft_create
from tests.factories import post, sign_in


def test_a_draft_heading_says_draft_once(client, books):
    sign_in(client, books, Role.ACCOUNTANT)
    draft = voucher_draft_create(
        organization=books.organization,
        voucher_input=books.entry(("5200", "5.00", ""), ("1120", "", "5.00"), type_code="PV"),
    )

    html = client.get(reverse("voucher-detail", args=[draft.pk])).content.decode()

    heading = html[html.index("<h1>") : html.index("</h1>")]
    assert f"Payment voucher PV #{draft.pk}" in heading
    assert heading.count("Draft") == 1


@pytest.mark.parametrize(
    ("pattern", "shown"),
    [
        (DateFormat.ISO, "2026-03-05"),
        (DateFormat.DAY_MONTH_YEAR, "05/03/2026"),
        (DateFormat.MONTH_DAY_YEAR, "03/05/2026"),
        (DateFormat.DAY_MON_YEAR, "05 Mar 2026"),
    ],
)
def test_each_date_format_writes_a_date_its_way(pattern, shown):
    assert date_show(date(2026, 3, 5), pattern=pattern) == shown


def test_pages_write_dates_in_the_organization_format(client, books):
    books.organization.date_format = DateFormat.DAY_MON_YEAR
    books.organization.save()
    sign_in(client, books, Role.ACCOUNTANT)
    voucher = post(books, ("5200", "5.00", ""), ("1120", "", "5.00"), on=date(2026, 3, 5))

    detail = client.get(reverse("voucher-detail", args=[voucher.pk])).content.decode()
    listing = client.get(reverse("voucher-list")).content.decode()
    ledger = client.get(
        reverse("account-ledger"),
        {"account": books.account("5200").pk, "start": "2026-01-01", "end": "2026-12-31"},
    ).content.decode()
    balance = client.get(reverse("trial-balance"), {"as_of": "2026-03-31"}).content.decode()

    for html in (detail, listing, ledger):
        assert "05 Mar 2026" in html
        assert "2026-03-05<" not in html
    assert "31 Mar 2026" in balance


def test_iso_is_the_format_by_default(client, books):
    sign_in(client, books, Role.ACCOUNTANT)
    voucher = post(books, ("5200", "5.00", ""), ("1120", "", "5.00"), on=date(2026, 3, 5))
    assert (
        "<dd>2026-03-05</dd>"
        in client.get(reverse("voucher-detail", args=[voucher.pk])).content.decode()
    )


def test_forms_accept_iso_and_the_organization_format_only():
    with date_format_active(DateFormat.DAY_MONTH_YEAR):
        assert TrialBalanceForm({"as_of": "2026-03-05"}).is_valid()
        form = TrialBalanceForm({"as_of": "05/03/2026"})
        assert form.is_valid() and form.cleaned_data["as_of"] == date(2026, 3, 5)
    with date_format_active(DateFormat.ISO):
        assert not TrialBalanceForm({"as_of": "05/03/2026"}).is_valid()
