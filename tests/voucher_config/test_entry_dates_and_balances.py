"""Dates on the entry screens are one text field in the organization's format (ISO taken too),
and the page offers posted balances to whoever may read the ledger."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.urls import reverse
from waffle.testutils import override_flag

from accounting.dates import date_format_active, date_text
from accounting.forms import DateInput, ReversalForm
from accounting.models import DateFormat, Role, Voucher
from rollout.routing import FLAG_NAME
from tests.voucher_config.test_entry_helpers import edit_url, entry_data, new_url, seed


def date_input(html: str, name: str = "date") -> str:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert found, f"no {name} input"
    return found.group(0)


@pytest.mark.parametrize(
    ("pattern", "hint", "shown"),
    [
        (DateFormat.ISO, "YYYY-MM-DD", "2026-03-15"),
        (DateFormat.DAY_MONTH_YEAR, "DD/MM/YYYY", "15/03/2026"),
        (DateFormat.MONTH_DAY_YEAR, "MM/DD/YYYY", "03/15/2026"),
        (DateFormat.DAY_MON_YEAR, "DD Mon YYYY", "15 Mar 2026"),
    ],
)
def test_the_config_screen_shows_and_hints_the_organization_format(
    books, client, pattern, hint, shown
):
    seed(books)
    books.organization.date_format = pattern
    books.organization.save()
    client.force_login(books.member(Role.ACCOUNTANT))
    client.post(new_url("PV"), entry_data(books, "PV", on="2026-03-15"))
    voucher = Voucher.objects.get()
    assert voucher.date == date(2026, 3, 15)

    html = client.get(edit_url(voucher.pk)).content.decode()

    field = date_input(html)
    assert 'type="text"' in field
    assert f'value="{shown}"' in field
    assert f'placeholder="{hint}"' in field
    assert f'data-date-format="{pattern.value}"' in html


def test_the_config_screen_takes_the_organization_format_and_iso(books, client):
    seed(books)
    books.organization.date_format = DateFormat.DAY_MONTH_YEAR
    books.organization.save()
    client.force_login(books.member(Role.ACCOUNTANT))
    client.post(new_url("PV"), entry_data(books, "PV", on="16/03/2026"))
    client.post(new_url("PV"), entry_data(books, "PV", on="2026-03-17"))
    assert sorted(Voucher.objects.values_list("date", flat=True)) == [
        date(2026, 3, 16),
        date(2026, 3, 17),
    ]


def test_the_legacy_screen_date_is_a_text_field_in_the_organization_format(books, client):
    seed(books)
    books.organization.date_format = DateFormat.DAY_MON_YEAR
    books.organization.save()
    client.force_login(books.member(Role.ACCOUNTANT))
    with override_flag(FLAG_NAME, active=False):
        html = client.get(reverse("entry-new", args=["PV"])).content.decode()
    field = date_input(html)
    assert 'type="text"' in field and 'placeholder="DD Mon YYYY"' in field


def test_the_shared_date_input_writes_and_reads_the_active_format():
    with date_format_active(DateFormat.DAY_MONTH_YEAR):
        rendered = DateInput().render("date", date(2026, 3, 5))
        assert 'value="05/03/2026"' in rendered
        assert 'title="DD/MM/YYYY, or YYYY-MM-DD"' in rendered
        form = ReversalForm({"date": "05/03/2026", "reason": "twice"})
        assert form.is_valid() and form.cleaned_data["date"] == date(2026, 3, 5)
        assert date_text("2026-03-05") == "05/03/2026"
        assert date_text("5 March") == "5 March"  # what was typed stays as typed


def test_the_page_offers_balances_to_whoever_may_read_the_ledger(books, client):
    seed(books)
    client.force_login(books.member(Role.CLERK))
    html = client.get(new_url("PV")).content.decode()
    assert f'data-balance-url="{reverse("entry-balance", args=["PV"])}"' in html
