"""The load test's own arithmetic and its books check (the run itself is `make bench` only)."""

from __future__ import annotations

import pytest

from benchmarks.load import (
    Sample,
    books_check,
    entry_form,
    failures_by_window,
    percentile,
    screen_ratio,
    sequences_gaps,
    summarize,
)
from tests.factories import post


def test_percentile_interpolates_between_the_closest_ranks():
    samples = [float(n) for n in range(1, 101)]  # 1 .. 100
    assert percentile(samples, 50) == pytest.approx(50.5)
    assert percentile(samples, 95) == pytest.approx(95.05)
    assert percentile(samples, 99) == pytest.approx(99.01)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 95) == 0.0
    assert percentile([30.0, 10.0, 20.0], 50) == 20.0  # order of arrival does not matter


def test_summary_counts_requests_errors_and_rates_per_endpoint():
    samples = [
        Sample("entry page (config)", 0.0, 100.0, True, 200),
        Sample("entry page (config)", 1.0, 300.0, True, 200),
        Sample("entry page (legacy)", 1.0, 200.0, True, 200),
        Sample("entry page (legacy)", 2.0, 400.0, False, 500),
        Sample("post (legacy)", 3.0, 50.0, False, 0),
    ]
    stats = {s.endpoint: s for s in summarize(samples, 10.0)}
    assert stats["entry page (config)"].count == 2
    assert stats["entry page (config)"].errors == 0
    assert stats["entry page (config)"].per_second == pytest.approx(0.2)
    assert stats["entry page (config)"].p50 == pytest.approx(200.0)
    assert stats["entry page (legacy)"].errors == 1
    assert stats["entry page (legacy)"].p95 == pytest.approx(390.0)
    assert stats["post (legacy)"].errors == 1
    # config p95 290 over legacy p95 390
    assert screen_ratio(list(stats.values()), "entry page") == pytest.approx(290 / 390)
    assert screen_ratio(list(stats.values()), "post") is None  # no config post to compare


def test_failures_are_counted_in_the_window_their_request_was_sent_in():
    samples = [
        Sample("a", 1.0, 5.0, True, 200),
        Sample("a", 10.0, 5.0, False, 500),  # at the fault's instant: counted after it
        Sample("a", 12.0, 5.0, False, 0),
        Sample("a", 20.0, 5.0, True, 200),
        Sample("a", 25.0, 5.0, False, 503),
    ]
    windows = [("before", 0.0, 10.0), ("after the kill", 10.0, 20.0), ("down", 20.0, 30.0)]
    assert failures_by_window(samples, windows) == {
        "before": (0, 1),
        "after the kill": (2, 2),
        "down": (1, 2),
    }


def test_sequences_must_run_from_one_without_gaps_or_repeats():
    assert sequences_gaps({("PV", "2026"): [3, 1, 2], ("JV", "2026"): [1]}) == []
    problems = sequences_gaps({("PV", "2026"): [1, 2, 2, 5]})
    assert problems == [
        "series ('PV', '2026'): numbers used twice [2]",
        "series ('PV', '2026'): gaps [3, 4]",
    ]


def test_the_entry_form_is_read_as_a_browser_would_send_it():
    page = """
    <form method="post" action="/login/"><input name="username" value="x"></form>
    <form method="post">
      <input type="hidden" name="csrfmiddlewaretoken" value="tok">
      <input type="hidden" name="submission_key" value="key:sig">
      <input name="reference" value="R-1">
      <input type="checkbox" name="unticked">
      <input type="checkbox" name="ticked" checked>
      <input type="submit" name="action" value="post">
      <select name="bank_account"><option value="">--</option>
        <option value="1120" selected>1120 Bank</option></select>
      <select name="party"><option value="">--</option><option value="S1">S1</option></select>
      <textarea name="narration">Two
lines</textarea>
      <input name="lines-TOTAL_FORMS" value="2">
    </form>"""
    assert entry_form(page) == {
        "csrfmiddlewaretoken": "tok",
        "submission_key": "key:sig",
        "reference": "R-1",
        "ticked": "on",
        "bank_account": "1120",
        "party": "",
        "narration": "Two\nlines",
        "lines-TOTAL_FORMS": "2",
    }
    with pytest.raises(ValueError):
        entry_form("<form><input name='q'></form>")


def pay(books, reference):
    return post(books, ("5200", "10.00", ""), ("1120", "", "10.00"), reference=reference)


def test_books_check_passes_exact_books(books):
    pay(books, "LT9-a-1")
    pay(books, "LT9-b-1")
    pay(books, "OTHER-1")  # not the run's: neither expected nor unexpected
    result = books_check(
        prefix="LT9", seen_posted={"LT9-a-1", "LT9-b-1"}, told_not_posted=set(), slug="acme"
    )
    assert result["problems"] == []
    assert result["posted_in_ledger"] == 2
    assert result["vouchers_verified"] == 3


def test_books_check_names_lost_doubled_and_wrongly_reported_posts(books):
    pay(books, "LT9-a-1")
    pay(books, "LT9-a-1")  # the same post twice
    pay(books, "LT9-c-1")  # the client was told nothing was posted
    result = books_check(
        prefix="LT9",
        seen_posted={"LT9-a-1", "LT9-b-1"},  # b's success never reached the ledger
        told_not_posted={"LT9-c-1"},
        slug="acme",
    )
    assert result["problems"] == [
        "1 posts are in the ledger twice, e.g. ['LT9-a-1']",
        "1 posts a client saw succeed are not posted, e.g. ['LT9-b-1']",
        "1 posts reported 'nothing was posted' are, e.g. ['LT9-c-1']",
    ]
