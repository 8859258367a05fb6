"""Parallel-run metrics: recording per minute, summaries, adoption, retention, /metrics, beacon."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.sql import emit_post_migrate_signal
from django.db import DatabaseError, connection
from django.db.models import QuerySet
from django.test import Client
from django.utils import timezone

from accounting.models import EntryChannel, Role
from accounting.services.drafts import voucher_draft_create
from rollout.display import shown_ms
from rollout.metrics.adoption import adoption_series
from rollout.metrics.pruning import ROLLUP_MINUTE, metrics_prune
from rollout.metrics.recording import INF, metric_count, metric_observe, user_active_mark
from rollout.metrics.summary import AboveLastBound, histogram_quantile, metrics_summary
from rollout.models import ChannelUserDay, MetricMinute
from tests.factories import UserFactory

LEGACY, CONFIG = EntryChannel.LEGACY, EntryChannel.CONFIG
NOON = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


# --- recording -------------------------------------------------------------------------------


def test_two_events_in_one_minute_make_one_row_counting_two(db):
    metric_count(name="voucher_posted", channel=CONFIG, voucher_type="PV", at=NOON)
    metric_count(
        name="voucher_posted", channel=CONFIG, voucher_type="PV", at=NOON + timedelta(seconds=59)
    )

    row = MetricMinute.objects.get()
    assert (row.minute, row.count, row.bucket) == (NOON, 2, MetricMinute.COUNTER)


def test_events_in_different_minutes_make_two_rows(db):
    metric_count(name="voucher_posted", channel=CONFIG, voucher_type="PV", at=NOON)
    metric_count(
        name="voucher_posted", channel=CONFIG, voucher_type="PV", at=NOON + timedelta(minutes=1)
    )

    assert list(MetricMinute.objects.order_by("minute").values_list("minute", "count")) == [
        (NOON, 1),
        (NOON + timedelta(minutes=1), 1),
    ]


def test_each_channel_type_and_reason_counts_apart(db):
    metric_count(
        name="post_failed", channel=CONFIG, voucher_type="PV", reason="unbalanced", at=NOON
    )
    metric_count(name="post_failed", channel=CONFIG, voucher_type="PV", reason="closed", at=NOON)
    metric_count(name="post_failed", channel=LEGACY, voucher_type="PV", reason="closed", at=NOON)
    metric_count(name="post_failed", channel=LEGACY, voucher_type="JV", reason="closed", at=NOON)

    assert MetricMinute.objects.count() == 4


def test_count_adds_its_amount(db):
    metric_count(name="fallback", channel=LEGACY, voucher_type="PV", reason="x", at=NOON, amount=3)
    metric_count(name="fallback", channel=LEGACY, voucher_type="PV", reason="x", at=NOON, amount=2)

    assert MetricMinute.objects.get().count == 5


def test_observation_lands_in_the_smallest_bucket_that_holds_it(db):
    for value in (30, 50, 10_000, 25_000):
        metric_observe(
            name="form_load_ms", channel=CONFIG, voucher_type="PV", value_ms=value, at=NOON
        )

    rows = dict(MetricMinute.objects.values_list("bucket", "count"))
    assert rows == {50: 2, 10_000: 1, INF: 1}
    assert MetricMinute.objects.get(bucket=50).total == 80


def test_metric_count_costs_the_same_queries_however_many_events_came_before(
    db, django_assert_max_num_queries
):
    # The first event of a minute: UPDATE (no row), then INSERT inside a savepoint.
    with django_assert_max_num_queries(6):
        metric_count(name="voucher_created", channel=CONFIG, voucher_type="PV", at=NOON)
    for _ in range(20):
        metric_count(name="voucher_created", channel=CONFIG, voucher_type="PV", at=NOON)
    # Every later event of that minute is one UPDATE (plus the savepoint around it).
    with django_assert_max_num_queries(3) as captured:
        metric_count(name="voucher_created", channel=CONFIG, voucher_type="PV", at=NOON)
    assert sum("UPDATE" in q["sql"] for q in captured.captured_queries) == 1
    assert MetricMinute.objects.get().count == 22


def test_a_row_created_between_update_and_insert_is_added_to_not_lost(db, monkeypatch):
    metric_count(name="voucher_created", channel=CONFIG, voucher_type="PV", at=NOON)
    real_update = QuerySet.update
    calls = []

    def update_missing_the_row_once(self, **kwargs):
        calls.append(kwargs)
        return 0 if len(calls) == 1 else real_update(self, **kwargs)

    monkeypatch.setattr(QuerySet, "update", update_missing_the_row_once)
    metric_count(name="voucher_created", channel=CONFIG, voucher_type="PV", at=NOON)

    assert len(calls) == 2  # UPDATE found nothing, INSERT hit the constraint, UPDATE again
    assert MetricMinute.objects.get().count == 2


@pytest.fixture
def permissions_restored_afterwards(django_db_blocker):
    """A flush limited to available_apps skips post_migrate; put its rows back for later tests."""
    yield
    with django_db_blocker.unblock():
        emit_post_migrate_signal(verbosity=0, interactive=False, db=connection.alias)


@pytest.mark.postgres
# Commits for real, so the threads see each other's rows; available_apps makes the flush after it
# TRUNCATE … CASCADE, as in tests/accounting/test_concurrency.py.
@pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS))
@pytest.mark.usefixtures("permissions_restored_afterwards")
def test_concurrent_first_events_of_a_minute_all_count():
    workers = 8
    barrier = threading.Barrier(workers)

    def record():
        try:
            barrier.wait()
            metric_count(name="voucher_posted", channel=CONFIG, voucher_type="PV", at=NOON)
        finally:
            connection.close()

    threads = [threading.Thread(target=record) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert MetricMinute.objects.get().count == workers


def test_unknown_metric_or_channel_is_refused(db):
    with pytest.raises(ValueError, match="'voucher_lost' is not a counter"):
        metric_count(name="voucher_lost", channel=CONFIG)
    with pytest.raises(ValueError, match="Unknown channel 'beta'"):
        metric_count(name="voucher_created", channel="beta")
    with pytest.raises(ValueError, match="not a counter"):
        metric_count(name="form_load_ms", channel=CONFIG)
    with pytest.raises(ValueError, match="not a histogram"):
        metric_observe(name="voucher_created", channel=CONFIG, value_ms=1)
    with pytest.raises(ValueError, match="finite number"):
        metric_observe(name="form_load_ms", channel=CONFIG, value_ms=float("nan"))


def test_a_database_error_while_recording_is_logged_not_raised(db, monkeypatch, caplog):
    def broken_update(self, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(QuerySet, "update", broken_update)
    with caplog.at_level(logging.WARNING, logger="rollout.metrics.recording"):
        metric_count(name="voucher_posted", channel=CONFIG, voucher_type="PV")

    assert "Could not record metric" in caplog.text
    # The caller's transaction is still usable.
    assert not connection.needs_rollback
    assert MetricMinute.objects.count() == 0


def test_user_is_marked_active_once_per_day_and_channel(db):
    user = UserFactory()
    day = NOON.date()
    for _ in range(3):
        user_active_mark(user=user, channel=CONFIG, day=day)
    user_active_mark(user=user, channel=LEGACY, day=day)
    user_active_mark(user=user, channel=CONFIG, day=day + timedelta(days=1))

    assert ChannelUserDay.objects.count() == 3


def test_each_organization_counts_apart_and_rows_without_one_stay_one_row(books, other_books):
    for organization in (books.organization, other_books.organization, None, None):
        metric_count(
            name="voucher_posted",
            channel=CONFIG,
            voucher_type="PV",
            organization=organization,
            at=NOON,
        )

    rows = dict(MetricMinute.objects.values_list("organization", "count"))
    assert rows == {books.organization.pk: 1, other_books.organization.pk: 1, None: 2}


def test_the_database_refuses_a_second_row_for_the_same_minute_and_labels(books):
    from django.db import IntegrityError, transaction

    for organization in (books.organization, None):
        MetricMinute.objects.create(
            minute=NOON, organization=organization, name="voucher_posted", channel=CONFIG
        )
        with pytest.raises(IntegrityError), transaction.atomic():
            MetricMinute.objects.create(
                minute=NOON, organization=organization, name="voucher_posted", channel=CONFIG
            )


def test_summary_of_one_organization_leaves_out_the_others(books, other_books):
    metric_count(
        name="voucher_posted", channel=CONFIG, organization=books.organization, at=NOON, amount=3
    )
    metric_count(
        name="voucher_posted",
        channel=CONFIG,
        organization=other_books.organization,
        at=NOON,
        amount=5,
    )
    metric_count(name="voucher_posted", channel=CONFIG, at=NOON, amount=7)
    window = {"since": NOON, "until": NOON + timedelta(hours=1)}

    assert (
        metrics_summary(**window, organizations=[books.organization.pk]).channel(CONFIG).posted == 3
    )
    assert metrics_summary(**window).channel(CONFIG).posted == 15


# --- reading ---------------------------------------------------------------------------------


def test_quantile_interpolates_inside_the_bucket_holding_it():
    buckets = [(100, 50), (250, 50)]
    assert histogram_quantile(0.5, buckets) == 100
    # The 95th of 100 observations is the 45th of 50 in (100, 250].
    assert histogram_quantile(0.95, buckets) == pytest.approx(100 + 150 * 45 / 50)


def test_quantile_in_the_open_bucket_is_over_the_largest_finite_bound():
    p95 = histogram_quantile(0.95, [(5000, 10), (10_000, 10), (INF, 80)])

    assert isinstance(p95, AboveLastBound) and p95.bound == 10_000


def test_observations_all_over_the_last_bound_give_a_quantile_over_it_not_zero():
    p95 = histogram_quantile(0.95, [(INF, 30)], last_bound=10_000)

    assert isinstance(p95, AboveLastBound) and p95.bound == 10_000
    assert shown_ms(p95) == "> 10,000 ms"
    assert shown_ms(histogram_quantile(0.5, [(100, 2)])) == "50 ms"


def test_a_summary_knows_each_histograms_last_bound(db):
    for _ in range(3):
        metric_observe(name="form_load_ms", channel=CONFIG, value_ms=60_000, at=NOON)
        metric_observe(name="session_ms", channel=CONFIG, value_ms=9_000_000, at=NOON)

    figures = metrics_summary(since=NOON, until=NOON + timedelta(minutes=1)).channel(CONFIG)

    assert (figures.form_load_p95, figures.session_p50) == (10_000, 3_600_000)
    assert isinstance(figures.form_load_p95, AboveLastBound)
    assert isinstance(figures.session_p50, AboveLastBound)


def test_quantile_of_nothing_is_none():
    assert histogram_quantile(0.5, []) is None
    assert histogram_quantile(0.5, [(100, 0)]) is None


def test_summary_gives_success_rate_and_percentiles_per_channel_and_type(db):
    metric_count(name="voucher_posted", channel=CONFIG, voucher_type="PV", at=NOON, amount=9)
    metric_count(name="post_failed", channel=CONFIG, voucher_type="PV", reason="closed", at=NOON)
    metric_count(name="voucher_posted", channel=CONFIG, voucher_type="JV", at=NOON, amount=10)
    metric_count(name="voucher_posted", channel=LEGACY, voucher_type="PV", at=NOON, amount=4)
    metric_count(name="voucher_created", channel=LEGACY, voucher_type="PV", at=NOON, amount=5)
    for value in [80] * 19 + [4000]:
        metric_observe(
            name="form_load_ms", channel=CONFIG, voucher_type="PV", value_ms=value, at=NOON
        )
    metric_observe(name="browser_load_ms", channel=CONFIG, voucher_type="PV", value_ms=700, at=NOON)

    summary = metrics_summary(since=NOON, until=NOON + timedelta(hours=1))

    config = summary.channel(CONFIG)
    assert (config.posted, config.failed) == (19, 1)
    assert config.success_rate == pytest.approx(0.95)
    assert config.failure_reasons == {"closed": 1}
    assert summary.for_type(CONFIG, "PV").success_rate == pytest.approx(0.9)
    assert summary.for_type(CONFIG, "JV").success_rate == 1
    assert 50 < config.form_load_p50 <= 100
    assert config.form_load_p95 == pytest.approx(100)  # the 19th of 20 loads, all in (50, 100]
    assert 500 < config.browser_load_p95 <= 1000
    legacy = summary.channel(LEGACY)
    assert (legacy.created, legacy.posted, legacy.success_rate) == (5, 4, 1)
    assert summary.voucher_types == ["JV", "PV"]


def test_summary_counts_only_minutes_inside_the_window(db):
    metric_count(name="voucher_posted", channel=CONFIG, at=NOON - timedelta(minutes=1))
    metric_count(name="voucher_posted", channel=CONFIG, at=NOON)
    metric_count(name="voucher_posted", channel=CONFIG, at=NOON + timedelta(minutes=59))
    metric_count(name="voucher_posted", channel=CONFIG, at=NOON + timedelta(minutes=60))

    summary = metrics_summary(since=NOON, until=NOON + timedelta(hours=1))

    assert summary.channel(CONFIG).posted == 2
    assert summary.channel(LEGACY).posted == 0


def test_summary_filters_by_channel_and_type_in_one_query(db, django_assert_num_queries):
    metric_count(name="voucher_posted", channel=CONFIG, voucher_type="PV", at=NOON)
    metric_count(name="voucher_posted", channel=CONFIG, voucher_type="JV", at=NOON)
    metric_count(name="voucher_posted", channel=LEGACY, voucher_type="PV", at=NOON)

    with django_assert_num_queries(1):
        summary = metrics_summary(
            since=NOON, until=NOON + timedelta(hours=1), channel=CONFIG, voucher_type="PV"
        )

    assert list(summary.by_type) == [(CONFIG, "PV")]


def test_adoption_series_shares_active_users_and_vouchers_per_day(books):
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    one, two, three = UserFactory(), UserFactory(), UserFactory()
    user_active_mark(user=one, channel=CONFIG, day=today)
    user_active_mark(user=one, channel=LEGACY, day=today)  # on both: counts once
    user_active_mark(user=two, channel=LEGACY, day=today)
    user_active_mark(user=three, channel=CONFIG, day=yesterday)
    for channel in (CONFIG, LEGACY, LEGACY, LEGACY, EntryChannel.IMPORT):
        entry = books.entry(("5200", "10", ""), ("1120", "", "10"), entry_channel=channel)
        voucher_draft_create(organization=books.organization, voucher_input=entry)

    series = adoption_series(since=yesterday - timedelta(days=1), until=today)

    assert [day.day for day in series] == [yesterday - timedelta(days=1), yesterday, today]
    before, previous, current = series
    assert (before.user_share, before.voucher_share) == (None, None)
    assert previous.user_share == 1
    assert (current.active_users, current.config_users, current.user_share) == (2, 1, 0.5)
    assert (current.config_vouchers, current.legacy_vouchers) == (1, 3)
    assert current.voucher_share == 0.25


# --- retention -------------------------------------------------------------------------------


def test_prune_deletes_only_minutes_older_than_the_retention(db):
    now = timezone.now()
    metric_count(
        name="voucher_posted", channel=CONFIG, voucher_type="PV", at=now - timedelta(days=91)
    )
    metric_count(
        name="voucher_posted", channel=CONFIG, voucher_type="PV", at=now - timedelta(days=95)
    )
    metric_count(
        name="voucher_posted", channel=CONFIG, voucher_type="PV", at=now - timedelta(days=89)
    )
    metric_count(name="voucher_posted", channel=CONFIG, voucher_type="PV", at=now)
    user_active_mark(user=UserFactory(), channel=CONFIG, day=(now - timedelta(days=100)).date())
    user_active_mark(user=UserFactory(), channel=CONFIG, day=now.date())

    result = metrics_prune(days=90)

    assert (result.metric_rows, result.user_days) == (2, 1)
    detail = MetricMinute.objects.exclude(minute=ROLLUP_MINUTE)
    assert detail.count() == 2
    assert all(row.minute > now - timedelta(days=90) for row in detail)
    assert ChannelUserDay.objects.count() == 1
    # The two pruned minutes live on in the lifetime total that /metrics reports.
    assert MetricMinute.objects.get(minute=ROLLUP_MINUTE).count == 2
    lifetime = metrics_summary(since=ROLLUP_MINUTE, until=now + timedelta(minutes=1))
    assert lifetime.channel(CONFIG).posted == 4


def test_prune_folds_each_organization_into_its_own_lifetime_row(books, other_books):
    old = timezone.now() - timedelta(days=100)
    for organization, amount in ((books.organization, 2), (other_books.organization, 3), (None, 4)):
        for shift in (0, 1):
            metric_count(
                name="voucher_posted",
                channel=CONFIG,
                voucher_type="PV",
                organization=organization,
                at=old + timedelta(minutes=shift),
                amount=amount,
            )
        user_active_mark(
            user=UserFactory(),
            channel=CONFIG,
            organization=organization,
            day=old.date(),
        )

    result = metrics_prune(days=90)

    assert (result.metric_rows, result.user_days) == (6, 3)
    lifetime = dict(
        MetricMinute.objects.filter(minute=ROLLUP_MINUTE).values_list("organization", "count")
    )
    assert lifetime == {books.organization.pk: 4, other_books.organization.pk: 6, None: 8}
    metric_count(
        name="voucher_posted", channel=CONFIG, voucher_type="PV", organization=books.organization
    )
    since_start = {"since": ROLLUP_MINUTE, "until": timezone.now() + timedelta(minutes=1)}
    acme = metrics_summary(**since_start, organizations=[books.organization.pk])
    assert acme.channel(CONFIG).posted == 5


def test_prune_command_dry_run_deletes_nothing(db, capsys, settings):
    settings.VOUCHER_METRICS_RETENTION_DAYS = 30
    metric_count(name="voucher_posted", channel=CONFIG, at=timezone.now() - timedelta(days=31))

    call_command("prune_metrics", "--dry-run")
    assert "Would delete 1 metric minute row(s)" in capsys.readouterr().out
    assert MetricMinute.objects.count() == 1

    call_command("prune_metrics", "--days", "30")
    assert "Deleted 1 metric minute row(s)" in capsys.readouterr().out
    assert not MetricMinute.objects.exclude(minute=ROLLUP_MINUTE).exists()


# --- /metrics --------------------------------------------------------------------------------


@pytest.fixture
def recorded(db):
    metric_count(name="voucher_created", channel=CONFIG, voucher_type="PV", amount=3)
    metric_count(name="voucher_posted", channel=CONFIG, voucher_type="PV", amount=2)
    metric_count(name="post_failed", channel=LEGACY, voucher_type="JV", reason="period closed")
    metric_count(name="fallback", channel=LEGACY, voucher_type="SV", reason="config invalid")
    metric_observe(name="form_load_ms", channel=CONFIG, voucher_type="PV", value_ms=120)
    metric_observe(name="form_load_ms", channel=CONFIG, voucher_type="PV", value_ms=7000)
    user_active_mark(user=UserFactory(), channel=CONFIG)


def test_metrics_are_refused_to_anonymous_non_staff_and_staff_users(recorded, books, client):
    assert client.get("/metrics").status_code == 403
    client.force_login(UserFactory())
    assert client.get("/metrics").status_code == 403
    # Staff, even an organization's administrator, see their own figures on the dashboard only:
    # /metrics holds every organization's.
    client.force_login(books.member(Role.ADMIN))
    User.objects.filter(is_superuser=False).update(is_staff=True)
    refused = client.get("/metrics")
    assert refused.status_code == 403
    assert b"superusers" in refused.content


def test_metrics_for_superusers_hold_every_family_in_prometheus_format(recorded, client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    body = response.content.decode()
    for family in (
        "voucher_entry_created_total",
        "voucher_entry_posted_total",
        "voucher_entry_post_failures_total",
        "voucher_entry_htmx_errors_total",
        "voucher_entry_fallbacks_total",
        "voucher_entry_db_errors_total",
        "voucher_entry_form_load_ms",
        "voucher_entry_browser_load_ms",
        "voucher_entry_adoption_ratio",
        "voucher_entry_organization_adoption_ratio",
    ):
        assert f"# TYPE {family.removesuffix('_total')}" in body
    # Rows recorded without an organization carry an empty organization label.
    config_pv = 'channel="config",organization="",type="PV"'
    assert f"voucher_entry_created_total{{{config_pv}}} 3.0" in body
    assert (
        'voucher_entry_post_failures_total{channel="legacy",organization="",'
        'reason="period closed",type="JV"} 1.0' in body
    )
    assert (
        'voucher_entry_form_load_ms_bucket{channel="config",le="250.0",organization="",'
        'type="PV"} 1.0' in body
    )
    assert (
        'voucher_entry_form_load_ms_bucket{channel="config",le="+Inf",organization="",'
        'type="PV"} 2.0' in body
    )
    assert f"voucher_entry_form_load_ms_count{{{config_pv}}} 2.0" in body
    assert f"voucher_entry_form_load_ms_sum{{{config_pv}}} 7120.0" in body
    assert 'voucher_entry_adoption_ratio{measure="users"} 1.0' in body
    assert 'voucher_entry_adoption_ratio{measure="vouchers"} 1.0' in body


def test_metrics_label_every_series_with_its_organization(books, other_books, client):
    for organization, amount in ((books.organization, 3), (other_books.organization, 5)):
        metric_count(
            name="voucher_created",
            channel=CONFIG,
            voucher_type="PV",
            organization=organization,
            amount=amount,
        )
        metric_observe(
            name="form_load_ms",
            channel=CONFIG,
            voucher_type="PV",
            value_ms=120,
            organization=organization,
        )
        user_active_mark(user=UserFactory(), channel=CONFIG, organization=organization)
    user_active_mark(user=UserFactory(), channel=LEGACY, organization=other_books.organization)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    body = client.get("/metrics").content.decode()

    assert 'voucher_entry_created_total{channel="config",organization="acme",type="PV"} 3.0' in body
    assert (
        'voucher_entry_created_total{channel="config",organization="rival",type="PV"} 5.0' in body
    )
    assert (
        'voucher_entry_form_load_ms_count{channel="config",organization="rival",type="PV"} 1.0'
        in body
    )
    assert 'voucher_entry_organization_adoption_ratio{measure="users",organization="acme"} 1.0' in (
        body
    )
    assert (
        'voucher_entry_organization_adoption_ratio{measure="users",organization="rival"} 0.5'
        in body
    )
    assert 'voucher_entry_adoption_ratio{measure="users"} 0.6666666666666666' in body


def test_metrics_queries_do_not_grow_with_organizations(
    books, other_books, client, django_assert_max_num_queries
):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for organization in (books.organization, other_books.organization, None):
        metric_count(
            name="voucher_created", channel=CONFIG, voucher_type="PV", organization=organization
        )
        user_active_mark(user=UserFactory(), channel=CONFIG, organization=organization)

    with django_assert_max_num_queries(10):
        assert client.get("/metrics").status_code == 200


def test_metrics_accept_the_configured_bearer_token_only(recorded, client, settings):
    settings.VOUCHER_METRICS_TOKEN = "s3cret-scrape-token"

    ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape-token"})
    wrong = client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape-tokeN"})
    basic = client.get("/metrics", headers={"Authorization": "Basic s3cret-scrape-token"})

    assert ok.status_code == 200
    assert b"voucher_entry_posted_total" in ok.content
    assert (wrong.status_code, basic.status_code) == (403, 403)


def test_without_a_configured_token_no_bearer_token_is_accepted(recorded, client, settings):
    settings.VOUCHER_METRICS_TOKEN = ""

    response = client.get("/metrics", headers={"Authorization": "Bearer "})

    assert response.status_code == 403


# --- the beacon ------------------------------------------------------------------------------


@pytest.fixture
def member_client(books):
    client = Client()
    client.force_login(books.member())
    return client


def test_beacon_records_the_browser_load_time(member_client):
    response = member_client.post(
        "/metrics/beacon/", {"kind": "load", "channel": "config", "type": "PV", "ms": "812.4"}
    )

    assert response.status_code == 204
    row = MetricMinute.objects.get()
    assert (row.name, row.channel, row.voucher_type, row.bucket) == (
        "browser_load_ms",
        "config",
        "PV",
        1000,
    )
    assert row.total == pytest.approx(812.4)


def test_beacon_records_time_on_page_and_htmx_errors_by_endpoint_name(member_client):
    member_client.post(
        "/metrics/beacon/", {"kind": "session", "channel": "legacy", "type": "JV", "ms": "95000"}
    )
    member_client.post(
        "/metrics/beacon/",
        {
            "kind": "htmx",
            "channel": "config",
            "type": "PV",
            "path": "/metrics/dashboard/",
            "status": "500",
        },
    )
    member_client.post(
        "/metrics/beacon/",
        {
            "kind": "htmx",
            "channel": "config",
            "type": "PV",
            "path": "/no/such/page/",
            "status": "0",
        },
    )

    summary = metrics_summary(
        since=timezone.now() - timedelta(minutes=5), until=timezone.now() + timedelta(minutes=1)
    )
    assert summary.channel(LEGACY).session.count == 1
    config = summary.channel(CONFIG)
    assert config.htmx_error_reasons == {"metrics-dashboard 500": 1, "unresolved 0": 1}
    assert config.htmx_server_errors == 2


@pytest.mark.parametrize(
    "payload",
    [
        {"kind": "load", "channel": "beta", "type": "PV", "ms": "100"},
        {"kind": "load", "channel": "config", "type": "PV", "ms": "-1"},
        {"kind": "load", "channel": "config", "type": "PV", "ms": "600001"},
        {"kind": "load", "channel": "config", "type": "PV", "ms": "NaN"},
        {"kind": "load", "channel": "config", "type": "PV", "ms": "fast"},
        {"kind": "load", "channel": "config", "type": "PV"},
        {"kind": "load", "channel": "config", "type": "P V'<", "ms": "100"},
        {"kind": "load", "channel": "config", "type": "ZZ", "ms": "100"},
        {"kind": "paint", "channel": "config", "type": "PV", "ms": "100"},
        {
            "kind": "htmx",
            "channel": "config",
            "type": "PV",
            "path": "https://evil/",
            "status": "500",
        },
        {"kind": "htmx", "channel": "config", "type": "PV", "path": "/x/", "status": "700"},
    ],
)
def test_beacon_rejects_a_bad_payload_and_records_nothing(member_client, payload):
    response = member_client.post("/metrics/beacon/", payload)

    assert response.status_code == 400
    assert not MetricMinute.objects.exists()


def test_beacon_is_refused_to_anonymous_users_and_to_get(books, client):
    payload = {"kind": "load", "channel": "config", "type": "PV", "ms": "100"}
    assert client.post("/metrics/beacon/", payload).status_code == 403
    client.force_login(books.member())
    assert client.get("/metrics/beacon/").status_code == 405
    assert not MetricMinute.objects.exists()


LOAD = {"kind": "load", "channel": "config", "type": "PV", "ms": "100"}


def freeze_minute(at: datetime):
    """The clock stopped at `at`, so a budget's minute cannot turn over mid-test."""
    return mock.patch("django.utils.timezone.now", return_value=at)


def test_beacon_is_refused_to_a_signed_in_user_without_membership(books):
    client = Client()
    client.force_login(UserFactory())

    response = client.post("/metrics/beacon/", LOAD)

    assert response.status_code == 403
    assert "Clerk role" in response.text
    assert not MetricMinute.objects.exists()


def test_beacon_is_refused_to_a_viewer(books):
    client = Client()
    client.force_login(books.member(Role.VIEWER))

    assert client.post("/metrics/beacon/", LOAD).status_code == 403
    assert not MetricMinute.objects.exists()


def test_beacon_from_a_clerk_within_the_budget_is_recorded(books):
    client = Client()
    client.force_login(books.member(Role.CLERK))

    answers = [client.post("/metrics/beacon/", LOAD).status_code for _ in range(3)]

    assert answers == [204, 204, 204]
    assert MetricMinute.objects.get().count == 3


def test_beacons_past_the_budget_are_refused_and_not_recorded(books):
    budget = settings.VOUCHER_METRICS_BEACONS_PER_MINUTE
    client = Client()
    client.force_login(books.member(Role.CLERK))

    with freeze_minute(NOON + timedelta(seconds=5)):
        answers = [client.post("/metrics/beacon/", LOAD).status_code for _ in range(budget + 10)]

    assert budget == 30
    assert answers == [204] * budget + [429] * 10
    assert MetricMinute.objects.get().count == budget


def test_the_beacon_budget_is_per_user_and_per_minute(books, settings):
    settings.VOUCHER_METRICS_BEACONS_PER_MINUTE = 2
    first, second = Client(), Client()
    first.force_login(books.member(Role.CLERK))
    second.force_login(books.member(Role.CLERK))

    with freeze_minute(NOON):
        spent = [first.post("/metrics/beacon/", LOAD).status_code for _ in range(3)]
        other_user = second.post("/metrics/beacon/", LOAD).status_code
    with freeze_minute(NOON + timedelta(minutes=1)):
        next_minute = first.post("/metrics/beacon/", LOAD).status_code

    assert spent == [204, 204, 429]
    assert (other_user, next_minute) == (204, 204)
    assert sum(MetricMinute.objects.values_list("count", flat=True)) == 4


def test_beacon_needs_the_csrf_token_the_page_carries(books):
    client = Client(enforce_csrf_checks=True)
    client.force_login(books.member())
    payload = {"kind": "load", "channel": "config", "type": "PV", "ms": "100"}

    assert client.post("/metrics/beacon/", payload).status_code == 403

    client.get("/login/")  # a page with a form sets the CSRF cookie the token belongs to
    token = client.cookies["csrftoken"].value
    response = client.post("/metrics/beacon/", {**payload, "csrfmiddlewaretoken": token})
    assert response.status_code == 204
    assert MetricMinute.objects.get().name == "browser_load_ms"
