"""Metrics are added up in memory and written at most every few seconds, and readers flush first."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.signals import request_finished

from rollout.metrics import recording
from rollout.metrics.recording import metric_count, metric_observe, metrics_flush
from rollout.metrics.summary import metrics_summary
from rollout.models import MetricMinute

NOON = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def buffered(settings, db):
    settings.VOUCHER_METRICS_FLUSH_SECONDS = 5


def test_events_are_added_up_in_memory_and_written_in_one_row_per_label_set(
    buffered, django_assert_num_queries
):
    with django_assert_num_queries(0):
        for _ in range(50):
            metric_count(name="voucher_created", channel="config", voucher_type="PV", at=NOON)
        metric_observe(name="form_load_ms", channel="config", value_ms=30, at=NOON)
        metric_observe(name="form_load_ms", channel="config", value_ms=40, at=NOON)
    assert not MetricMinute.objects.exists()
    assert metrics_flush() == 2
    created = MetricMinute.objects.get(name="voucher_created")
    load = MetricMinute.objects.get(name="form_load_ms")
    assert (created.count, load.count, load.total) == (50, 2, 70)
    assert metrics_flush() == 0


def test_the_end_of_a_request_writes_only_when_the_last_flush_is_old_enough(buffered, monkeypatch):
    # Connected to the end of every request (disconnect says whether it was).
    assert request_finished.disconnect(dispatch_uid="rollout.metrics_flush")
    request_finished.connect(recording.metrics_flush_if_due, dispatch_uid="rollout.metrics_flush")
    clock = [1000.0]
    monkeypatch.setattr(recording.time, "monotonic", lambda: clock[0])
    # Closing the connection would end the test's transaction; a request has none open by then.
    monkeypatch.setattr(recording, "close_old_connections", lambda: None)
    recording.PENDING.take()  # the last flush at 1000
    metric_count(name="voucher_created", channel="config", at=NOON)
    clock[0] += 4
    recording.metrics_flush_if_due()
    assert not MetricMinute.objects.exists()
    clock[0] += 1
    recording.metrics_flush_if_due()
    assert MetricMinute.objects.get().count == 1


def test_reading_the_summary_flushes_this_process_first(buffered):
    metric_count(name="post_failed", channel="legacy", reason="closed_period", at=NOON)
    summary = metrics_summary(since=NOON, until=datetime(2026, 3, 15, 13, 0, tzinfo=UTC))
    assert summary.channel("legacy").failed == 1


def test_what_is_pending_is_written_when_the_process_exits(buffered):
    metric_count(name="voucher_posted", channel="config", at=NOON)
    recording._flush_at_exit()
    assert MetricMinute.objects.get().count == 1


def test_with_no_interval_every_event_is_written_at_once(settings, db):
    settings.VOUCHER_METRICS_FLUSH_SECONDS = 0
    metric_count(name="voucher_posted", channel="config", at=NOON)
    assert MetricMinute.objects.get().count == 1
    assert not recording.PENDING.sums
