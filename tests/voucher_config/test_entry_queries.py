"""The entry screen's SQL does not grow with the number of lines or of accounts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounting.models import Role, Voucher
from rollout import recording
from tests.factories import AccountFactory
from tests.voucher_config.test_entry_helpers import (
    HX,
    edit_url,
    entry_data,
    new_url,
    partial_url,
    seed,
)

# Absolute ceilings, so a regression that adds queries to both sizes is caught too. The page and
# the save go through the rollout router, which reads the flag and the voucher type or voucher;
# the configuration is read once, by the router, and handed to the page. The partials read the
# configuration from the shared cache, as the router does.
ROUTER_MAX = 2
PAGE_MAX = 6 + ROUTER_MAX
SAVE_MAX = 19 + ROUTER_MAX
PARTIAL_MAX = 4


@pytest.fixture(autouse=True)
def without_request_metrics(monkeypatch):
    """A timing lands in a histogram bucket by its size, so a slower request may open a new
    per-minute row where a faster one updated one; the metrics' own query count is pinned in
    test_metrics.py, so here they are left out."""
    monkeypatch.setattr(recording, "record_routed_request", lambda *args, **kwargs: None)


@pytest.fixture
def accountant(books, client):
    seed(books)
    user = books.member(Role.ACCOUNTANT)
    client.force_login(user)
    return user


def payment_lines(count: int) -> list[dict[str, str]]:
    codes = ["5200", "5300", "5400", "5500", "5600"]
    return [{"account": codes[n % 5], "amount": f"{n + 1}.25"} for n in range(count)]


def journal_lines(count: int) -> list[dict[str, str]]:
    lines = [{"account": "5200", "debit": "1.00"} for _ in range(count - 1)]
    return [*lines, {"account": "1120", "credit": f"{count - 1}.00"}]


def queries(client, method: str, url: str, data=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url, data, headers=HX)
    assert response.status_code in (200, 204), response.content.decode()[:2000]
    return len(captured)


def more_accounts(books, count: int = 200) -> None:
    for n in range(count):
        AccountFactory(organization=books.organization, code=f"7{n:04d}", account_type="expense")


def test_new_entry_page_queries_do_not_grow_with_accounts(
    books, client, accountant, django_assert_max_num_queries
):
    few = queries(client, "get", new_url("PV"))
    more_accounts(books)
    with django_assert_max_num_queries(min(few, PAGE_MAX)):
        client.get(new_url("PV"), headers=HX)


def test_edit_page_queries_do_not_grow_with_lines(
    books, client, accountant, django_assert_max_num_queries
):
    client.post(new_url("PV"), entry_data(books, "PV", lines=payment_lines(2)))
    client.post(new_url("PV"), entry_data(books, "PV", lines=payment_lines(50)))
    small, big = Voucher.objects.order_by("pk")
    assert big.lines.count() == 51
    few = queries(client, "get", edit_url(small.pk))
    more_accounts(books)
    with django_assert_max_num_queries(min(few, PAGE_MAX)):
        response = client.get(edit_url(big.pk), headers=HX)
    assert response.content.decode().count('class="line"') == 50


@pytest.mark.parametrize("action", ["save", "post"])
def test_save_and_post_queries_do_not_grow_with_lines(
    action, books, client, accountant, django_assert_max_num_queries
):
    small = entry_data(books, "JV", lines=journal_lines(2), action=action)
    big = entry_data(books, "JV", lines=journal_lines(50), action=action)
    few = queries(client, "post", new_url("JV"), small)
    more_accounts(books)
    with django_assert_max_num_queries(min(few, SAVE_MAX)):
        client.post(new_url("JV"), big, headers=HX)
    assert Voucher.objects.order_by("pk").last().lines.count() == 50


def test_saving_an_edited_draft_queries_do_not_grow_with_lines(
    books, client, accountant, django_assert_max_num_queries
):
    client.post(new_url("JV"), entry_data(books, "JV", lines=journal_lines(2)))
    client.post(new_url("JV"), entry_data(books, "JV", lines=journal_lines(50)))
    small, big = Voucher.objects.order_by("pk")
    few = queries(
        client,
        "post",
        edit_url(small.pk),
        entry_data(books, "JV", lines=journal_lines(3), header={"reference": "x"}),
    )
    data = entry_data(books, "JV", lines=journal_lines(49), header={"reference": "x"})
    with django_assert_max_num_queries(min(few, SAVE_MAX)):
        client.post(edit_url(big.pk), data, headers=HX)
    assert big.lines.count() == 49


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("add-line", {}),
        ("remove-line", {"action": "remove_line-1"}),
        ("totals", {}),
        ("validate", {"changed": "lines-1-account"}),
        ("validate", {"changed": "bank_account"}),
        ("preview", {}),
    ],
)
def test_partial_queries_do_not_grow_with_lines_or_accounts(
    name, extra, books, client, accountant, django_assert_max_num_queries
):
    small = {**entry_data(books, "PV", lines=payment_lines(2)), **extra}
    big = {**entry_data(books, "PV", lines=payment_lines(50)), **extra}
    few = queries(client, "post", partial_url(name, "PV"), small)
    more_accounts(books)
    with django_assert_max_num_queries(min(few, PARTIAL_MAX)):
        client.post(partial_url(name, "PV"), big, headers=HX)


@pytest.mark.parametrize("kind", ["account", "party"])
def test_search_takes_one_query_beyond_the_session(
    kind, books, client, accountant, django_assert_max_num_queries
):
    params = {"field": "bank_account" if kind == "account" else "party", "q": "1"}
    few = queries(client, "get", partial_url(f"{kind}-search", "PV") + "?section=header", params)
    more_accounts(books)
    with django_assert_max_num_queries(min(few, PARTIAL_MAX)):
        client.get(partial_url(f"{kind}-search", "PV"), params, headers=HX)
