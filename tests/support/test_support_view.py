"""The support view of a member: their recent vouchers, their refused entries with rule and
message, and the screen each voucher type opens in for them — the rollout router's decision."""

from __future__ import annotations

import pytest
from django.urls import reverse
from waffle.models import Flag

from accounting.models import EntryChannel, EntryRefusal, Membership, Role
from accounting.services.checks import VoucherRejected
from accounting.services.entering import voucher_enter
from accounting.services.entry_rules import EntryAction
from accounting.services.posting import voucher_create_posted
from rollout.routing import FLAG_NAME
from support.screens import screen_decisions
from tests.factories import post
from tests.voucher_config.test_entry_helpers import seed


def member_url(user) -> str:
    return reverse("support-member", args=[user.pk])


@pytest.fixture
def accountant(books):
    seed(books)
    return books.member(Role.ACCOUNTANT, username="alice")


def refused_post(books, user):
    with pytest.raises(VoucherRejected):
        voucher_enter(
            organization=books.organization,
            membership=Membership.objects.get(user=user),
            user=user,
            action=EntryAction.POST,
            voucher_input=books.entry(
                ("5200", "10.00", ""),
                ("1120", "", "7.00"),
                entry_channel=EntryChannel.CONFIG,
            ),
        )


def flag(everyone):
    Flag.objects.update_or_create(name=FLAG_NAME, defaults={"everyone": everyone})


def test_an_administrator_sees_a_members_vouchers_refusals_and_screen(books, client, accountant):
    voucher = voucher_create_posted(
        organization=books.organization,
        voucher_input=books.entry(("5200", "10.00", ""), ("1120", "", "10.00")),
        user=accountant,
    )
    post(books, ("5200", "3.00", ""), ("1120", "", "3.00"))  # someone else's: not shown
    refused_post(books, accountant)
    flag(True)
    client.force_login(books.member(Role.ADMIN))
    response = client.get(member_url(accountant))
    assert response.status_code == 200
    html = response.content.decode()
    assert voucher.number in html
    assert '<td class="rule">balanced</td>' in html
    assert "debits 10.00 ≠ credits 7.00" in html
    screens = {
        d.voucher_type: d.channel
        for d in screen_decisions(user=accountant, organization=books.organization)
    }
    assert screens["PV"] == "config"
    assert "<td>PV</td><td>config</td>" in html


def test_the_screen_shown_is_the_routers_decision(books, accountant):
    flag(False)
    decisions = screen_decisions(user=accountant, organization=books.organization)
    assert decisions
    assert {d.channel for d in decisions} == {"legacy"}
    assert all("off for everyone" in d.reason for d in decisions)


def test_only_administrators_of_the_members_organization_see_it(
    books, other_books, client, accountant
):
    refused_post(books, accountant)
    client.force_login(books.member(Role.ACCOUNTANT))
    assert client.get(member_url(accountant)).status_code == 403
    client.force_login(other_books.member(Role.ADMIN))
    assert client.get(member_url(accountant)).status_code == 404
    members = client.get(reverse("support-members")).content.decode()
    assert "alice" not in members
    assert EntryRefusal.objects.count() == 1
