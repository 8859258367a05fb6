"""The preview shows each line with the party posting stores on it, not the payee everywhere."""

from accounting.models import Party, Voucher
from tests.voucher_config.test_entry_helpers import HX, entry_data, new_url, partial_url, seed


def test_the_preview_lines_carry_the_parties_the_saved_lines_carry(books, client):
    seed(books)
    client.force_login(books.member("accountant"))
    supplier = Party.objects.get(organization=books.organization, code="EXAMPLE-SUPPLIER")
    data = entry_data(books, "PV", header={"party": supplier.code})

    preview = client.post(partial_url("preview", "PV"), data, headers=HX)
    previewed = [
        (line.account.code, line.party.pk if line.party else None)
        for line in preview.context["preview"].lines
    ]

    client.post(new_url("PV"), {**data, "action": "save"})
    voucher = Voucher.objects.get()
    stored = [
        (line.account.code, line.party_id)
        for line in voucher.lines.select_related("account").order_by("order", "id")
    ]

    assert previewed == stored
    # The expense line has no party of its own; the bank line carries the payee.
    assert [party for _, party in previewed][-1] == supplier.pk
    assert set([party for _, party in previewed][:-1]) == {None}
