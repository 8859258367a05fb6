"""The voucher page shows what the configuration screen took, in the screen's own terms: each
type's own header fields under the screen's labels (an account or party by code and name), and
the lines with the parties the preview showed."""

from __future__ import annotations

import re
from datetime import date
from html import escape

import pytest
from django.urls import reverse

from accounting.dates import date_show
from accounting.models import Account, Party, Role, Voucher
from tests.voucher_config.test_entry_helpers import (
    HX,
    TYPES,
    config_for,
    entry_data,
    new_url,
    partial_url,
    seed,
)

CORE = {"date", "party", "reference", "narration"}


def shown_value(books, spec: dict, value: object) -> str:
    """A header value as the entry screen shows it beside its field."""
    if spec["type"] == "account":
        account = Account.objects.get(organization=books.organization, code=value)
        return f"{account.code} {account.name}"
    if spec["type"] == "party":
        party = Party.objects.get(organization=books.organization, code=value)
        return f"{party.code} {party.name}"
    if spec["type"] == "date":
        return date_show(date.fromisoformat(str(value)))
    return str(value)


def line_rows(lines) -> list[tuple[str, str, str, str]]:
    return [
        (
            line.account.code,
            line.party.name if line.party else "",
            f"{line.debit or 0:.2f}",
            f"{line.credit or 0:.2f}",
        )
        for line in lines
    ]


@pytest.mark.parametrize("type_code", TYPES)
def test_the_voucher_page_shows_what_the_screen_took_in_its_terms(books, client, type_code):
    seed(books)
    client.force_login(books.member(Role.ACCOUNTANT))
    config = config_for(books, type_code)
    data = entry_data(books, type_code)
    preview = client.post(partial_url("preview", type_code), data, headers=HX)
    assert preview.status_code == 200
    previewed = line_rows(preview.context["preview"].lines)

    saved = client.post(new_url(type_code), data)
    assert saved.status_code in (200, 302), saved.content.decode()[:2000]
    voucher = Voucher.objects.get()
    page = client.get(reverse("voucher-detail", args=[voucher.pk]))
    html = page.content.decode()

    assert line_rows(page.context["lines"]) == previewed
    specs = {spec["key"]: spec for spec in config.definition["header_fields"]}
    own = {
        key: value
        for key, value in voucher.data.items()
        if key not in CORE and value not in (None, "")
    }
    assert own or type_code == "JV"  # every other baseline type keeps fields of its own
    for key, value in own.items():
        expected = escape(shown_value(books, specs[key], value))
        label = escape(specs[key]["label"])
        assert f"<dt>{label}</dt><dd>{expected}</dd>" in html, (key, label, expected)
    # No stored key shows under a label made from the key when the screen has its own.
    for key in own:
        made = key.replace("_", " ").capitalize()
        if made != specs[key]["label"]:
            assert f"<dt>{made}</dt>" not in html


def test_a_payment_shows_its_bank_and_cheque_as_the_screen_did(books, client):
    seed(books)
    client.force_login(books.member(Role.ACCOUNTANT))
    data = entry_data(
        books,
        "PV",
        header={"bank_account": "1120", "cheque_number": "000451", "cheque_date": "2026-03-14"},
    )
    client.post(new_url("PV"), data)
    voucher = Voucher.objects.get()
    html = client.get(reverse("voucher-detail", args=[voucher.pk])).content.decode()
    assert "<dt>Paid from</dt><dd>1120 Main bank account</dd>" in html
    assert "<dt>Cheque number</dt><dd>000451</dd>" in html
    assert "<dt>Cheque date</dt><dd>2026-03-14</dd>" in html
    assert not re.search(r"<dt>Bank account</dt>", html)
