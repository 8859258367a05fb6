"""A draft moves between the two screens with the rollout flag and loses nothing: the legacy
screen keeps the values it does not show, the configuration screen opens a legacy draft."""

from __future__ import annotations

import copy

import pytest
from django.urls import reverse
from waffle.testutils import override_flag

from accounting.entry_pages import SCREEN_FIELD, screen_mark
from accounting.models import EntryChannel, Role, Voucher
from legacy_entry.screen_forms import LegacyForms
from legacy_entry.vouchers import legacy_initial
from rollout.routing import FLAG_NAME
from tests.voucher_config.test_entry_helpers import config_for, entry_data, seed
from voucher_config.services import config_update

NOTE = "approved by phone"


@pytest.fixture
def accountant(books, client):
    seed(books)
    config = config_for(books, "PV")
    definition = copy.deepcopy(config.definition)
    definition["header_fields"].insert(
        -1, {"key": "approval_note", "label": "Approval note", "type": "text", "max_length": 60}
    )
    definition["layout"]["header_sections"][-1]["fields"].insert(0, "approval_note")
    config_update(config=config, definition=definition)
    user = books.member(Role.ACCOUNTANT)
    client.force_login(user)
    return user


def config_save(client, books, url: str, **header) -> None:
    data = entry_data(books, "PV", header=header, action="save")
    with override_flag(FLAG_NAME, active=True):
        response = client.post(url, data)
    assert response.status_code in (200, 302), response.content.decode()[:2000]


def legacy_resave(client, voucher: Voucher, **changes) -> None:
    """The legacy screen, the flag off, saves the stored draft with what it shows."""
    header, lines = legacy_initial(voucher=voucher)
    raw_header = {k: (v.code if hasattr(v, "code") else v) for k, v in header.items()}
    raw_header = {
        k: (v.isoformat() if hasattr(v, "isoformat") else v)
        for k, v in raw_header.items()
        if v is not None
    }
    raw_lines = [
        {k: (v.code if hasattr(v, "code") else v) for k, v in line.items() if v is not None}
        for line in lines
    ]
    data = LegacyForms.raw_data(type_code="PV", header={**raw_header, **changes}, lines=raw_lines)
    data.update({"action": "save", SCREEN_FIELD: screen_mark(EntryChannel.LEGACY)})
    with override_flag(FLAG_NAME, active=False):
        response = client.post(reverse("entry-edit", args=[voucher.pk]), data)
    assert response["X-Entry-Channel"] == "legacy"
    assert response.status_code == 302, response.content.decode()[:3000]


def test_a_config_draft_saved_in_the_legacy_screen_keeps_its_custom_value(
    books, client, accountant
):
    config_save(client, books, reverse("entry-new", args=["PV"]), approval_note=NOTE)
    voucher = Voucher.objects.get()
    assert voucher.data["approval_note"] == NOTE

    legacy_resave(client, voucher, narration="changed in the legacy screen")

    voucher.refresh_from_db()
    assert voucher.entry_channel == EntryChannel.LEGACY
    assert voucher.narration == "changed in the legacy screen"
    assert voucher.data["approval_note"] == NOTE

    with override_flag(FLAG_NAME, active=True):
        page = client.get(reverse("entry-edit", args=[voucher.pk]))
    assert page.status_code == 200
    assert page["X-Entry-Channel"] == "config"
    assert NOTE in page.content.decode()
    assert "can only be changed there" not in page.content.decode()


def test_a_legacy_draft_opens_and_saves_in_the_configuration_screen(books, client, accountant):
    data = LegacyForms.raw_data(
        type_code="PV",
        header={"date": "2026-03-15", "bank_account": "1120", "cheque_number": "000451"},
        lines=[{"account": "5200", "amount": "125.00"}],
    )
    data.update({"action": "save", SCREEN_FIELD: screen_mark(EntryChannel.LEGACY)})
    with override_flag(FLAG_NAME, active=False):
        client.post(reverse("entry-new", args=["PV"]), data)
    voucher = Voucher.objects.get()
    assert voucher.entry_channel == EntryChannel.LEGACY

    with override_flag(FLAG_NAME, active=True):
        page = client.get(reverse("entry-edit", args=[voucher.pk]))
    assert page.status_code == 200
    assert page["X-Entry-Channel"] == "config"
    assert "000451" in page.content.decode()

    config_save(
        client,
        books,
        reverse("entry-edit", args=[voucher.pk]),
        cheque_number="000452",
        approval_note=NOTE,
    )

    voucher.refresh_from_db()
    assert voucher.entry_channel == EntryChannel.CONFIG
    assert voucher.config_version == config_for(books, "PV").version
    assert (voucher.data["cheque_number"], voucher.data["approval_note"]) == ("000452", NOTE)


def test_a_line_value_the_legacy_screen_does_not_show_is_kept(books, client, accountant):
    config = config_for(books, "PV")
    definition = copy.deepcopy(config.definition)
    definition["line_fields"].append(
        {"key": "cost_centre", "label": "Cost centre", "type": "text", "max_length": 20}
    )
    definition["layout"]["line_columns"].append({"field": "cost_centre", "width": 20})
    config_update(config=config, definition=definition)
    example = config_for(books, "PV").definition["examples"][0]["lines"]
    lines = [{**line, "cost_centre": f"CC-{n}"} for n, line in enumerate(example, start=1)]
    data = entry_data(books, "PV", lines=lines, action="save")
    with override_flag(FLAG_NAME, active=True):
        client.post(reverse("entry-new", args=["PV"]), data)
    voucher = Voucher.objects.get()

    legacy_resave(client, voucher, narration="changed in the legacy screen")

    kept = [
        line.data.get("cost_centre")
        for line in voucher.lines.order_by("order", "id")
        if not line.data.get("generated")
    ]
    assert kept == [f"CC-{n}" for n in range(1, len(example) + 1)]
