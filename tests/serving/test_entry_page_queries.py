"""With warm caches an entry page costs at most six queries: the session, the rollout flag and
the type's configuration come from the cache, and the metrics are added up in memory, not written.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from waffle.models import Flag

from accounting.models import Role, Voucher
from rollout.metrics import recording
from rollout.models import MetricMinute
from rollout.routing import FLAG_NAME
from tests.voucher_config.test_entry_helpers import HX, edit_url, entry_data, new_url, seed

WARM_PAGE_MAX = 6


@pytest.fixture
def accountant(books, client, settings):
    settings.VOUCHER_METRICS_FLUSH_SECONDS = 3600  # as in production: nothing written per view
    seed(books)
    user = books.member(Role.ACCOUNTANT)
    client.force_login(user)
    return user


def screen(on: bool) -> None:
    """The flag saved as the admin saves it: waffle deletes its cache key when the save commits."""
    flag, _ = Flag.objects.get_or_create(name=FLAG_NAME)
    flag.everyone = on
    flag.save()
    flag.flush()  # what the commit would run; the test's transaction never commits


def draft(books, client) -> Voucher:
    screen(True)
    response = client.post(new_url("PV"), entry_data(books, "PV"))
    assert response.status_code in (200, 302), response.content.decode()[:500]
    return Voucher.objects.get()


@pytest.mark.parametrize("channel", ["config", "legacy"])
@pytest.mark.parametrize("page", ["new", "edit"])
@pytest.mark.parametrize("htmx", [False, True], ids=["full", "htmx"])
def test_a_warm_entry_page_reads_little_and_writes_nothing(
    channel, page, htmx, books, client, accountant, django_assert_max_num_queries
):
    url = edit_url(draft(books, client).pk) if page == "edit" else new_url("PV")
    screen(channel == "config")
    headers = HX if htmx else {}
    first = client.get(url, headers=headers)  # warms the caches; marks the user active once
    assert first.status_code == 200
    assert first["X-Entry-Channel"] == channel
    rows_before = MetricMinute.objects.count()
    with (
        CaptureQueriesContext(connection) as captured,
        django_assert_max_num_queries(WARM_PAGE_MAX),
    ):
        response = client.get(url, headers=headers)
    assert response.status_code == 200
    assert response["X-Entry-Channel"] == channel
    writes = [q["sql"] for q in captured if not q["sql"].lstrip().upper().startswith("SELECT")]
    assert writes == []
    assert MetricMinute.objects.count() == rows_before
    assert recording.PENDING.sums  # the load was counted, in memory
