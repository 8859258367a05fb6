"""A voucher form submitted twice — a double click, a retried request, two requests at the same
moment — makes one voucher, on both screens; the second submit gets the first one's voucher."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from waffle.testutils import override_flag

from accounting.models import Role, Voucher
from legacy_entry.screen_forms import LegacyForms
from rollout.models import MetricMinute
from rollout.routing import FLAG_NAME
from tests.factories import Books
from tests.threads import in_threads
from tests.voucher_config.test_entry_helpers import entry_data
from voucher_config.services import seed_organization


def drawn_form(client, url) -> tuple[str, dict[str, str]]:
    html = client.get(url).content.decode()
    for attributes, body in re.findall(r"<form([^>]*)>(.*?)</form>", html, re.S):
        if 'name="entry_screen"' in body:
            action = re.search(r'action="([^"]+)"', attributes).group(1)
            hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', body))
            return action, hidden
    raise AssertionError("no entry form on the page")


def typed(books, screen: str) -> dict[str, str]:
    if screen == "config":
        return entry_data(books, "PV", action="post")
    data = LegacyForms.raw_data(
        type_code="PV",
        header={"date": "2026-03-15", "bank_account": "1120"},
        lines=[{"account": "5200", "amount": "125.00"}],
    )
    return {**data, "action": "post"}


def posted_count(channel: str) -> int:
    rows = MetricMinute.objects.filter(name="voucher_posted", channel=channel)
    return sum(rows.values_list("count", flat=True))


@pytest.mark.parametrize("screen", ["config", "legacy"])
def test_a_form_posted_twice_posts_one_voucher(books, client, screen):
    seed_organization(organization=books.organization)
    client.force_login(books.member(Role.ACCOUNTANT))
    with override_flag(FLAG_NAME, active=screen == "config"):
        action, hidden = drawn_form(client, reverse("entry-new", args=["PV"]))
        data = {**typed(books, screen), **hidden}
        first = client.post(action, data)
        second = client.post(action, data)

    voucher = Voucher.objects.get()
    assert (voucher.number, voucher.status) == ("PV-2026-00001", "posted")
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == reverse("voucher-detail", args=[voucher.pk])
    assert posted_count(screen) == 1


@pytest.mark.parametrize("screen", ["config", "legacy"])
def test_a_forged_submission_key_protects_nothing_and_breaks_nothing(books, client, screen):
    seed_organization(organization=books.organization)
    client.force_login(books.member(Role.ACCOUNTANT))
    with override_flag(FLAG_NAME, active=screen == "config"):
        action, hidden = drawn_form(client, reverse("entry-new", args=["PV"]))
        data = {**typed(books, screen), **hidden, "submission_key": "made-up"}
        assert client.post(action, data).status_code == 302
    assert Voucher.objects.get().submission_key is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("screen", ["config", "legacy"])
def test_two_simultaneous_posts_of_one_form_make_one_voucher(screen):
    books = Books()
    seed_organization(organization=books.organization)
    user = books.member(Role.ACCOUNTANT)
    with override_flag(FLAG_NAME, active=screen == "config"):
        first = Client()
        first.force_login(user)
        action, hidden = drawn_form(first, reverse("entry-new", args=["PV"]))
        data = {**typed(books, screen), **hidden}
        responses = []

        def submit(_: int) -> None:
            client = Client()
            client.force_login(user)
            responses.append(client.post(action, data))

        errors = in_threads(2, submit)

    assert errors == []
    voucher = Voucher.objects.get()
    assert voucher.number == "PV-2026-00001"
    assert [r.status_code for r in responses] == [302, 302]
    assert {r["Location"] for r in responses} == {reverse("voucher-detail", args=[voucher.pk])}
    assert posted_count(screen) == 1
