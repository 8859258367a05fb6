"""The configuration screen's actions offer duplicate, cancel and delete for a stored draft, and
its context names the balance endpoint."""

from django.urls import reverse

from accounting.models import Voucher
from tests.voucher_config.test_entry_helpers import edit_url, entry_data, new_url, seed


def test_a_stored_draft_offers_duplicate_cancel_and_delete(books, client):
    seed(books)
    client.force_login(books.member("clerk"))
    client.post(new_url("PV"), entry_data(books, "PV"))
    voucher = Voucher.objects.get()

    response = client.get(edit_url(voucher.pk))

    html = response.content.decode()
    assert f'formaction="{reverse("voucher-duplicate", args=[voucher.pk])}"' in html
    assert f'href="{reverse("voucher-cancel", args=[voucher.pk])}"' in html
    assert f'href="{reverse("voucher-delete", args=[voucher.pk])}"' in html
    assert response.context["urls"]["balance"] == reverse("entry-balance", args=["PV"])


def test_a_new_entry_offers_none_of_them(books, client):
    seed(books)
    client.force_login(books.member("clerk"))
    html = client.get(new_url("PV")).content.decode()
    assert "/duplicate/" not in html and "/delete/" not in html


def test_the_heading_names_the_draft_once_with_its_date_as_the_organization_writes_it(
    books, client
):
    seed(books)
    books.organization.date_format = "%d/%m/%Y"
    books.organization.save()
    client.force_login(books.member("clerk"))
    response = client.post(new_url("PV"), entry_data(books, "PV"), follow=True)
    voucher = Voucher.objects.get()

    assert response.context["heading"] == f"Payment voucher PV #{voucher.pk} of 15/03/2026"
    assert f"Draft PV #{voucher.pk} is saved." in response.content.decode()
    assert "Draft Draft" not in response.content.decode()
